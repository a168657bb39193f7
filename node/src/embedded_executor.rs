//! The executor a node's off-chain worker uses: embedded in the node (`--executor embedded`,
//! the default of `--dev` nodes only), a separate service on another machine
//! (`--executor-url`), or none (the default of every other node: a validator runs no models
//! unless asked to). The node writes the endpoint into off-chain local storage, where the
//! off-chain worker reads it. The embedded executor runs models in child processes of this
//! binary under memory, CPU-time and wall-clock limits, so a model cannot take the node down.

use sc_service::SpawnTaskHandle;
use sp_core::offchain::OffchainStorage;
use std::{path::PathBuf, sync::Arc, time::Duration};
use veritensor_executor::{
	isolation::IsolationConfig,
	server::{self, ServerConfig},
	Config, Executor,
};
use veritensor_primitives::offchain::{ExecutorEndpoint, EXECUTOR_ENDPOINT_KEY};
use veritensor_runtime::opaque::Block;

/// Whether the node embeds an executor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExecutorMode {
	/// Run models in this node (in supervised child processes).
	Embedded,
	/// Run no models.
	None,
}

/// Where the off-chain worker runs models.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecutorArgs {
	/// `embedded` runs an executor in the node, `none` runs none [default: `embedded` with
	/// `--dev`, `none` otherwise: a validator runs no models unless asked to].
	#[arg(long, value_name = "MODE", conflicts_with_all = ["executor_url", "no_executor"])]
	pub executor: Option<ExecutorMode>,

	/// Whether the node embeds an executor when `--executor` is not given (set from `--dev`).
	#[arg(skip)]
	pub embedded_by_default: bool,

	/// Use the executor at this URL (e.g. `http://10.0.0.7:8077`, a `veritensor-executor
	/// serve` on a GPU machine) instead of embedding one.
	#[arg(long, value_name = "URL", conflicts_with = "no_executor")]
	pub executor_url: Option<String>,

	/// File holding the bearer token of the executor at `--executor-url`.
	#[arg(long, value_name = "PATH", requires = "executor_url")]
	pub executor_token_file: Option<PathBuf>,

	/// Loopback port of the embedded executor; 0 picks a free one.
	#[arg(long, value_name = "PORT", default_value_t = 0)]
	pub executor_port: u16,

	/// Model store of the embedded executor [default: `<base path>/executor`].
	#[arg(long, value_name = "PATH")]
	pub executor_store: Option<PathBuf>,

	/// ONNX Runtime library for the embedded executor's second engine
	/// (`scripts/setup-onnxruntime.sh` installs one); without it only tract runs.
	#[arg(long, value_name = "PATH")]
	pub onnxruntime_lib: Option<PathBuf>,

	/// Let the embedded executor fetch models and remote inputs from loopback, private and
	/// link-local addresses too, over HTTP as well as HTTPS (a private network or a test; by
	/// default only HTTPS from public addresses).
	#[arg(long)]
	pub executor_fetch_private: bool,

	/// Run no executor, as `--executor none`: the off-chain worker then executes no jobs (a
	/// validator that is not a worker).
	#[arg(long)]
	pub no_executor: bool,

	/// Memory each of the embedded executor's inference processes may use, in MiB (0: no
	/// limit, for a GPU library without a cgroup).
	#[arg(long, value_name = "MIB", default_value_t = 2048)]
	pub executor_memory_limit_mib: u64,

	/// CPU seconds each inference of the embedded executor may use per ONNX Runtime thread
	/// (all threads together): a backstop above the deadlines.
	#[arg(long, value_name = "SECONDS", default_value_t = 900)]
	pub executor_cpu_limit_secs: u64,

	/// A delegated cgroup v2 directory: each inference process of the embedded executor gets
	/// a cgroup in it whose memory.max is the memory limit, instead of RLIMIT_DATA.
	#[arg(long, value_name = "DIR")]
	pub executor_cgroup: Option<PathBuf>,
}

/// The demo models (`executor/demo-models`), which the development and local test chains list:
/// their embedded executors start with them in store, so those chains work offline.
const DEMO_MODELS: [(&str, &[u8]); 2] = [
	("mlp_digits_f32", include_bytes!("../../executor/demo-models/mlp_digits_f32.onnx")),
	("mlp_digits_int", include_bytes!("../../executor/demo-models/mlp_digits_int.onnx")),
];

/// Starts the embedded executor when asked to, and returns the endpoint the off-chain worker
/// must use (`None` without one). `with_demo_models` stores the demo models first;
/// `worker_keys` (the keystore's) makes running none a warning.
pub fn start(
	args: &ExecutorArgs,
	base_path: PathBuf,
	with_demo_models: bool,
	worker_keys: usize,
	spawn: &SpawnTaskHandle,
) -> Result<Option<ExecutorEndpoint>, String> {
	let embedded = match args.executor {
		Some(mode) => mode == ExecutorMode::Embedded,
		None => args.embedded_by_default && !args.no_executor,
	};
	if args.executor_url.is_some() || !embedded {
		let embedded_only = [
			("--executor-store", args.executor_store.is_some()),
			("--executor-port", args.executor_port != 0),
			("--onnxruntime-lib", args.onnxruntime_lib.is_some()),
			("--executor-fetch-private", args.executor_fetch_private),
			("--executor-cgroup", args.executor_cgroup.is_some()),
		];
		if let Some((flag, _)) = embedded_only.iter().find(|(_, given)| *given) {
			return Err(format!(
				"{flag} configures the embedded executor, which this node does not run: add \
				 --executor embedded (only --dev nodes embed one by default)"
			));
		}
	}
	if args.executor_url.is_none() && !embedded {
		if worker_keys > 0 {
			log::warn!(
				"🧮 This node holds {worker_keys} worker key(s) but runs no executor: jobs drawn \
				 for them go unanswered and their operators are slashed for it. Add --executor \
				 embedded (or --executor-url); only --dev nodes embed one by default."
			);
		} else {
			log::info!(
				"🧮 No executor: this node's off-chain worker executes no jobs (--executor \
				 embedded or --executor-url to run them)"
			);
		}
		return Ok(None);
	}
	if let Some(url) = &args.executor_url {
		url::Url::parse(url).map_err(|e| format!("--executor-url {url}: {e}"))?;
		let token = match &args.executor_token_file {
			Some(path) => std::fs::read_to_string(path)
				.map_err(|e| format!("--executor-token-file {}: {e}", path.display()))?
				.trim()
				.to_string(),
			None => String::new(),
		};
		log::info!("🧮 Using the executor at {url}");
		return Ok(Some(ExecutorEndpoint {
			url: url.clone().into_bytes(),
			token: token.into_bytes(),
		}));
	}

	let mut config =
		Config::new(args.executor_store.clone().unwrap_or_else(|| base_path.join("executor")));
	config.onnxruntime_library = args.onnxruntime_lib.clone();
	if args.executor_fetch_private {
		config.fetch.schemes = vec!["https".into(), "http".into()];
		config.fetch.allow_private = true;
	}
	let limits = IsolationConfig::this_program_with(
		args.executor_memory_limit_mib,
		args.executor_cpu_limit_secs,
		args.executor_cgroup.clone(),
	);
	let isolated = limits.describe();
	config.isolation = Some(limits);
	let store_dir = config.store_dir.clone();
	let executor = Arc::new(Executor::new(config).map_err(|e| format!("embedded executor: {e}"))?);
	if with_demo_models {
		for (name, bytes) in DEMO_MODELS {
			let hash = executor
				.store()
				.add_bytes(bytes, None)
				.map_err(|e| format!("embedded executor: storing {name}: {e}"))?;
			log::info!(
				"🧮 Demo model {name} in store: {}",
				veritensor_executor::store::hash_hex(&hash)
			);
		}
	}
	let mut server_config = ServerConfig::loopback(args.executor_port);
	// A job's deadline is counted in blocks: the off-chain worker uses tasks for long runs.
	server_config.request_timeout = Duration::from_secs(5);
	let listener =
		server::bind_in_runtime(&server_config).map_err(|e| format!("embedded executor: {e}"))?;
	let address = listener.local_addr().map_err(|e| format!("embedded executor: {e}"))?;
	let engines: Vec<String> =
		executor.engines().iter().map(|e| format!("{} {}", e.engine.name(), e.version)).collect();
	log::info!(
		"🧮 Embedded executor listening on http://{address} (store {}, engines: {}; models run \
		 in child processes: {isolated})",
		store_dir.display(),
		engines.join(", ")
	);
	spawn.spawn("veritensor-executor", None, async move {
		if let Err(error) =
			server::serve(listener, executor, server_config, std::future::pending()).await
		{
			log::error!("🧮 Embedded executor stopped: {error}");
		}
	});
	Ok(Some(ExecutorEndpoint { url: format!("http://{address}").into_bytes(), token: Vec::new() }))
}

/// Writes the endpoint (or its absence) where the off-chain worker reads it.
pub fn publish<B: sc_client_api::Backend<Block>>(backend: &B, endpoint: Option<&ExecutorEndpoint>) {
	let Some(mut storage) = backend.offchain_storage() else {
		log::warn!(
			"🧮 No off-chain storage: the off-chain worker cannot learn the executor's address"
		);
		return;
	};
	match endpoint {
		Some(endpoint) => storage.set(
			sp_offchain::STORAGE_PREFIX,
			EXECUTOR_ENDPOINT_KEY,
			&codec::Encode::encode(endpoint),
		),
		None => storage.remove(sp_offchain::STORAGE_PREFIX, EXECUTOR_ENDPOINT_KEY),
	}
}
