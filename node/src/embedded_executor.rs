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
	engine::OnnxRuntimeProvider,
	isolation::IsolationConfig,
	link::Link,
	server::{self, ServerConfig},
	tls::ServerTrust,
	Config, EngineKind, Executor,
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

	/// Use the executor at this URL (e.g. `https://10.0.0.7:8077`, a `veritensor-executor
	/// serve --tls-self-signed` on a GPU machine) instead of embedding one. Plain `http://` is
	/// accepted on loopback only, unless --executor-insecure.
	#[arg(long, value_name = "URL", conflicts_with = "no_executor")]
	pub executor_url: Option<String>,

	/// File holding the bearer token of the executor at `--executor-url`.
	#[arg(long, value_name = "PATH", requires = "executor_url")]
	pub executor_token_file: Option<PathBuf>,

	/// SHA-256 fingerprint of the certificate of the executor at an `https://` --executor-url,
	/// as `veritensor-executor serve` prints it: only that certificate is accepted.
	#[arg(long, value_name = "HEX", requires = "executor_url", conflicts_with = "executor_ca")]
	pub executor_cert_sha256: Option<String>,

	/// PEM file of the CA that issued the certificate of the executor at an `https://`
	/// --executor-url [default: the system's CA certificates].
	#[arg(long, value_name = "PATH", requires = "executor_url")]
	pub executor_ca: Option<PathBuf>,

	/// Accept a plain `http://` --executor-url off loopback: its token and every job cross the
	/// network in clear.
	#[arg(long, requires = "executor_url")]
	pub executor_insecure: bool,

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

	/// Let the embedded executor fetch models from loopback, private and link-local addresses
	/// too, over HTTP as well as HTTPS (a model mirror on a private network, or a test; by
	/// default only HTTPS from public addresses). Job inputs keep the default policy.
	#[arg(long)]
	pub executor_fetch_private: bool,

	/// Let the embedded executor fetch job inputs from loopback, private and link-local
	/// addresses, over HTTP as well as HTTPS. For test networks only: any submitter names a
	/// job's input URI, so on a live network this lets strangers make the node reach its own
	/// private network.
	#[arg(long)]
	pub executor_fetch_private_inputs: bool,

	/// Run no executor, as `--executor none`: the off-chain worker then executes no jobs (a
	/// validator that is not a worker).
	#[arg(long)]
	pub no_executor: bool,

	/// Memory each of the embedded executor's inference processes may use, in MiB (0: no
	/// limit, for a GPU library without a cgroup) [default: 2048].
	#[arg(long, value_name = "MIB")]
	pub executor_memory_limit_mib: Option<u64>,

	/// CPU seconds each inference of the embedded executor may use per ONNX Runtime thread
	/// (all threads together): a backstop above the deadlines [default: 900].
	#[arg(long, value_name = "SECONDS")]
	pub executor_cpu_limit_secs: Option<u64>,

	/// A delegated cgroup v2 directory: each inference process of the embedded executor gets
	/// a cgroup in it whose memory.max is the memory limit, instead of RLIMIT_DATA.
	#[arg(long, value_name = "DIR")]
	pub executor_cgroup: Option<PathBuf>,

	/// Inferences the embedded executor runs at once, each in its own process [default: 2].
	#[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
	pub executor_max_concurrent: Option<u32>,

	/// Tasks the embedded executor remembers, running or holding a result the off-chain
	/// worker has not collected: at least the capacities of the node's worker keys added up,
	/// or under a flood of jobs their starts wait for room [default: 4096].
	#[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
	pub executor_max_tasks: Option<u32>,

	/// Threads of each ONNX Runtime inference of the embedded executor [default: 1].
	#[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
	pub executor_threads: Option<u32>,

	/// Where the embedded executor's ONNX Runtime runs models: `cpu`, or `cuda` with a GPU
	/// build of the library given to --onnxruntime-lib [default: cpu].
	#[arg(long, value_name = "PROVIDER")]
	pub executor_onnxruntime_provider: Option<OnnxRuntimeProvider>,

	/// Engine of the embedded executor for models that pin none (tract, onnxruntime,
	/// interpreter) [default: tract].
	#[arg(long, value_name = "ENGINE")]
	pub executor_engine: Option<EngineKind>,

	/// Loaded models the embedded executor keeps in memory per process [default: 16].
	#[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
	pub executor_cached_models: Option<u32>,

	/// Model file MiB the embedded executor keeps loaded per process [default: 512].
	#[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
	pub executor_cache_mib: Option<u64>,

	/// Largest model the embedded executor fetches or accepts, in MiB [default: 64].
	#[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..))]
	pub executor_max_model_mib: Option<u64>,

	/// Largest input of one job the embedded executor accepts, in KiB [default: 1024].
	#[arg(long, value_name = "KIB", value_parser = clap::value_parser!(u64).range(1..))]
	pub executor_max_input_kib: Option<u64>,

	/// Deadline of one task of the embedded executor (a job's run, waiting for a slot
	/// included), in seconds [default: 600].
	#[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
	pub executor_task_timeout_secs: Option<u64>,

	/// Hosts the embedded executor may fetch models and inputs from (repeatable) [default:
	/// any public host].
	#[arg(long, value_name = "HOST")]
	pub executor_fetch_allow_host: Vec<String>,

	/// Remove from the embedded executor's store the models that will run no more jobs
	/// (delisted or deprecated with no open jobs, or unknown to the registry) and that none of
	/// this node's workers serves, once they have stayed so for an hour.
	#[arg(long)]
	pub executor_remove_unlisted: bool,
}

impl ExecutorArgs {
	/// The embedded-only flags given on the command line, by name.
	fn embedded_only_given(&self) -> Option<&'static str> {
		let given = [
			("--executor-store", self.executor_store.is_some()),
			("--executor-port", self.executor_port != 0),
			("--onnxruntime-lib", self.onnxruntime_lib.is_some()),
			("--executor-fetch-private", self.executor_fetch_private),
			("--executor-fetch-private-inputs", self.executor_fetch_private_inputs),
			("--executor-cgroup", self.executor_cgroup.is_some()),
			("--executor-memory-limit-mib", self.executor_memory_limit_mib.is_some()),
			("--executor-cpu-limit-secs", self.executor_cpu_limit_secs.is_some()),
			("--executor-max-concurrent", self.executor_max_concurrent.is_some()),
			("--executor-max-tasks", self.executor_max_tasks.is_some()),
			("--executor-threads", self.executor_threads.is_some()),
			("--executor-engine", self.executor_engine.is_some()),
			("--executor-onnxruntime-provider", self.executor_onnxruntime_provider.is_some()),
			("--executor-cached-models", self.executor_cached_models.is_some()),
			("--executor-cache-mib", self.executor_cache_mib.is_some()),
			("--executor-max-model-mib", self.executor_max_model_mib.is_some()),
			("--executor-max-input-kib", self.executor_max_input_kib.is_some()),
			("--executor-task-timeout-secs", self.executor_task_timeout_secs.is_some()),
			("--executor-fetch-allow-host", !self.executor_fetch_allow_host.is_empty()),
			("--executor-remove-unlisted", self.executor_remove_unlisted),
		];
		given.iter().find(|(_, given)| *given).map(|(flag, _)| *flag)
	}

	/// The embedded executor's configuration, its store under `base_path` unless given.
	fn executor_config(&self, base_path: &std::path::Path) -> Config {
		let mut config =
			Config::new(self.executor_store.clone().unwrap_or_else(|| base_path.join("executor")));
		config.onnxruntime_library = self.onnxruntime_lib.clone();
		if let Some(provider) = self.executor_onnxruntime_provider {
			config.onnxruntime_provider = provider;
		}
		if let Some(engine) = self.executor_engine {
			config.default_engine = engine;
		}
		if let Some(threads) = self.executor_threads {
			config.threads = threads as usize;
		}
		if let Some(models) = self.executor_cached_models {
			config.cached_models = models as usize;
		}
		if let Some(mib) = self.executor_cache_mib {
			config.cache_bytes = mib.saturating_mul(1 << 20);
		}
		if let Some(mib) = self.executor_max_model_mib {
			config.max_model_bytes = mib.saturating_mul(1 << 20);
		}
		if let Some(kib) = self.executor_max_input_kib {
			config.max_input_bytes = kib.saturating_mul(1 << 10);
		}
		for (policy, private) in [
			(&mut config.fetch, self.executor_fetch_private),
			(&mut config.input_fetch, self.executor_fetch_private_inputs),
		] {
			if private {
				policy.open_to_private_networks();
			}
			if !self.executor_fetch_allow_host.is_empty() {
				policy.hosts = Some(self.executor_fetch_allow_host.clone());
			}
		}
		config.isolation = Some(IsolationConfig::this_program_with(
			self.executor_memory_limit_mib.unwrap_or(2048),
			self.executor_cpu_limit_secs.unwrap_or(900),
			self.executor_cgroup.clone(),
		));
		config
	}

	/// The embedded executor's service: loopback, 5 s synchronous requests (a job's deadline
	/// is counted in blocks: the off-chain worker uses tasks for long runs).
	fn server_config(&self) -> ServerConfig {
		let mut config = ServerConfig::loopback(self.executor_port);
		config.request_timeout = Duration::from_secs(5);
		// One line per job would crowd a node's log: `-l veritensor_executor=debug` shows them.
		config.access_log = log::Level::Debug;
		if let Some(concurrent) = self.executor_max_concurrent {
			config.max_concurrent = concurrent as usize;
		}
		if let Some(tasks) = self.executor_max_tasks {
			config.max_tasks = tasks as usize;
		}
		if let Some(seconds) = self.executor_task_timeout_secs {
			config.task_timeout = Duration::from_secs(seconds);
		}
		config
	}
}

/// The demo models (`executor/demo-models`), which the development and local test chains list:
/// their embedded executors start with them in store, so those chains work offline.
const DEMO_MODELS: [(&str, &[u8]); 2] = [
	("mlp_digits_f32", include_bytes!("../../executor/demo-models/mlp_digits_f32.onnx")),
	("mlp_digits_int", include_bytes!("../../executor/demo-models/mlp_digits_int.onnx")),
];

/// The executor a node uses.
pub struct NodeExecutor {
	/// Where the off-chain worker (and the node's model prefetch) reaches it.
	pub endpoint: ExecutorEndpoint,
	/// The embedded executor, when it is one, and its store is to be swept of models no
	/// longer listed (`--executor-remove-unlisted`).
	pub sweep: Option<Arc<Executor>>,
}

/// Starts the embedded executor when asked to, and returns the executor the off-chain worker
/// must use (`None` without one). `with_demo_models` stores the demo models first;
/// `worker_keys` (the keystore's) makes running none a warning.
pub fn start(
	args: &ExecutorArgs,
	base_path: PathBuf,
	with_demo_models: bool,
	worker_keys: usize,
	spawn: &SpawnTaskHandle,
	prometheus: Option<&veritensor_executor::metrics::Registry>,
) -> Result<Option<NodeExecutor>, String> {
	let embedded = match args.executor {
		Some(mode) => mode == ExecutorMode::Embedded,
		None => args.embedded_by_default && !args.no_executor,
	};
	if args.executor_url.is_some() || !embedded {
		if let Some(flag) = args.embedded_only_given() {
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
		return remote(args, url, spawn)
			.map(|endpoint| Some(NodeExecutor { endpoint, sweep: None }));
	}

	let config = args.executor_config(&base_path);
	let isolated = config.isolation.as_ref().map(IsolationConfig::describe).unwrap_or_default();
	if args.executor_fetch_private_inputs {
		log::warn!(
			"🧮 --executor-fetch-private-inputs: any job's submitter can make this node fetch \
			 from its loopback and private network (test networks only)"
		);
	}
	let store_dir = config.store_dir.clone();
	let executor = Arc::new(Executor::new(config).map_err(|e| format!("embedded executor: {e}"))?);
	if let Some(registry) = prometheus {
		// The same series as its own /metrics, labelled with the chain like the node's.
		executor
			.metrics()
			.register_into(registry)
			.map_err(|e| format!("embedded executor: registering its metrics: {e}"))?;
	}
	match executor.store().remove_leftovers() {
		Ok(0) => {}
		Ok(removed) => log::info!("🧮 Removed {removed} partial download(s) from the model store"),
		Err(error) => log::warn!("🧮 Cleaning the model store: {error}"),
	}
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
	let mut server_config = args.server_config();
	// A new token at every start, known to the off-chain worker through the endpoint record:
	// another user of this machine, or a page in its browser, cannot drive the executor.
	let token = server::generate_token().map_err(|e| format!("embedded executor: {e}"))?;
	let token_file = base_path.join("executor-token");
	std::fs::create_dir_all(&base_path)
		.map_err(|e| format!("embedded executor: creating {}: {e}", base_path.display()))?;
	write_private(&token_file, &token)
		.map_err(|e| format!("embedded executor: writing {}: {e}", token_file.display()))?;
	server_config.token = Some(token.clone());
	let listener =
		server::bind_in_runtime(&server_config).map_err(|e| format!("embedded executor: {e}"))?;
	let address = listener.local_addr().map_err(|e| format!("embedded executor: {e}"))?;
	let engines: Vec<String> =
		executor.engines().iter().map(|e| format!("{} {}", e.engine.name(), e.version)).collect();
	log::info!(
		"🧮 Embedded executor listening on http://{address} (store {}, token in {}, engines: {}; \
		 models run in child processes: {isolated})",
		store_dir.display(),
		token_file.display(),
		engines.join(", ")
	);
	let sweep = args.executor_remove_unlisted.then(|| executor.clone());
	spawn.spawn("veritensor-executor", None, async move {
		if let Err(error) =
			server::serve(listener, executor, server_config, std::future::pending()).await
		{
			log::error!("🧮 Embedded executor stopped: {error}");
		}
	});
	let endpoint = ExecutorEndpoint {
		url: format!("http://{address}").into_bytes(),
		token: token.into_bytes(),
	};
	Ok(Some(NodeExecutor { endpoint, sweep }))
}

/// How the node reaches the executor at `--executor-url`.
#[derive(Debug, PartialEq, Eq)]
enum RemoteRoute {
	/// The off-chain worker calls it directly (plain HTTP: loopback, or accepted as insecure).
	Direct,
	/// Through a loopback link that speaks TLS to it with this trust.
	Link(ServerTrust),
}

/// Chooses the route to `url` from the flags, refusing what would expose the token or jobs.
fn remote_route(args: &ExecutorArgs, url: &str) -> Result<RemoteRoute, String> {
	let parsed = url::Url::parse(url).map_err(|e| format!("--executor-url {url}: {e}"))?;
	let pinned = args.executor_cert_sha256.is_some() || args.executor_ca.is_some();
	match parsed.scheme() {
		"https" => {
			if args.executor_insecure {
				return Err("--executor-insecure is for plain http:// URLs".into());
			}
			let trust = match (&args.executor_cert_sha256, &args.executor_ca) {
				(Some(fingerprint), _) => ServerTrust::parse_fingerprint(fingerprint)
					.map_err(|e| format!("--executor-cert-sha256: {e}"))?,
				(None, Some(ca)) => ServerTrust::Ca(ca.clone()),
				(None, None) => ServerTrust::SystemRoots,
			};
			Ok(RemoteRoute::Link(trust))
		}
		"http" => {
			if pinned {
				return Err(format!(
					"--executor-cert-sha256 and --executor-ca need an https:// URL, not {url}"
				));
			}
			let loopback = match parsed.host() {
				Some(url::Host::Domain(name)) => name == "localhost",
				Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
				Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
				None => false,
			};
			if !loopback && !args.executor_insecure {
				return Err(format!(
					"--executor-url {url} is plain HTTP off this machine: the executor's token \
					 and every job would cross the network in clear. Serve it over TLS \
					 (veritensor-executor serve --tls-self-signed) and give \
					 https://…  with --executor-cert-sha256, or add --executor-insecure"
				));
			}
			Ok(RemoteRoute::Direct)
		}
		other => Err(format!("--executor-url {url}: scheme {other} is neither http nor https")),
	}
}

/// The endpoint of the executor at `--executor-url`: itself, or a loopback link to it.
fn remote(
	args: &ExecutorArgs,
	url: &str,
	spawn: &SpawnTaskHandle,
) -> Result<ExecutorEndpoint, String> {
	let route = remote_route(args, url)?;
	let token = match &args.executor_token_file {
		Some(path) => std::fs::read_to_string(path)
			.map_err(|e| format!("--executor-token-file {}: {e}", path.display()))?
			.trim()
			.to_string(),
		None => String::new(),
	};
	let trust = match route {
		RemoteRoute::Direct => {
			if args.executor_insecure {
				log::warn!("🧮 --executor-insecure: the executor's token and every job go to {url} in clear");
			}
			log::info!("🧮 Using the executor at {url}");
			return Ok(ExecutorEndpoint {
				url: url.as_bytes().to_vec(),
				token: token.into_bytes(),
			});
		}
		RemoteRoute::Link(trust) => trust,
	};
	// The off-chain worker's HTTP client can neither pin a certificate nor trust a private CA:
	// it talks to a loopback link, which does.
	let local_token = server::generate_token().map_err(|e| format!("executor link: {e}"))?;
	let link = Link::open(url, &trust, Some(&token), local_token)
		.map_err(|e| format!("--executor-url {url}: {e}"))?;
	let trusting = match &trust {
		ServerTrust::SystemRoots => "the system's CA certificates".to_string(),
		ServerTrust::Ca(path) => format!("the CA in {}", path.display()),
		ServerTrust::Fingerprint(sha256) => format!("only the certificate {}", hex::encode(sha256)),
	};
	log::info!("🧮 Using the executor at {url} over TLS, trusting {trusting}, through a loopback link on {}", link.address);
	let endpoint = ExecutorEndpoint {
		url: format!("http://{}", link.address).into_bytes(),
		token: link.local_token.clone().into_bytes(),
	};
	spawn.spawn("veritensor-executor-link", None, async move {
		if let Err(error) = link.serve(std::future::pending()).await {
			log::error!("🧮 Executor link stopped: {error}");
		}
	});
	Ok(endpoint)
}

/// Writes `contents` to `path`, readable by this user only.
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
	use std::{io::Write, os::unix::fs::OpenOptionsExt};
	let _ = std::fs::remove_file(path);
	let mut file =
		std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
	file.write_all(contents.as_bytes())
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

#[cfg(test)]
mod tests {
	use super::*;
	use clap::Parser;

	#[derive(Parser)]
	struct Flags {
		#[command(flatten)]
		executor: ExecutorArgs,
	}

	fn parse(args: &[&str]) -> Result<ExecutorArgs, clap::Error> {
		Flags::try_parse_from(std::iter::once("node").chain(args.iter().copied()))
			.map(|flags| flags.executor)
	}

	#[test]
	fn the_embedded_executor_takes_its_settings_from_the_flags() {
		let args = parse(&[
			"--executor",
			"embedded",
			"--executor-max-concurrent",
			"4",
			"--executor-max-tasks",
			"8192",
			"--executor-threads",
			"3",
			"--executor-engine",
			"interpreter",
			"--executor-cached-models",
			"5",
			"--executor-cache-mib",
			"7",
			"--executor-max-model-mib",
			"8",
			"--executor-max-input-kib",
			"16",
			"--executor-task-timeout-secs",
			"30",
			"--executor-fetch-allow-host",
			"models.example.org",
			"--executor-fetch-private",
		])
		.unwrap();
		let config = args.executor_config(std::path::Path::new("/base"));
		assert_eq!(config.store_dir, PathBuf::from("/base/executor"));
		assert_eq!(config.default_engine, EngineKind::Interpreter);
		assert_eq!((config.threads, config.cached_models), (3, 5));
		assert_eq!(config.cache_bytes, 7 << 20);
		assert_eq!((config.max_model_bytes, config.max_input_bytes), (8 << 20, 16 << 10));
		let hosts = Some(vec!["models.example.org".to_string()]);
		assert_eq!(config.fetch.hosts, hosts);
		assert_eq!(config.input_fetch.hosts, hosts);
		assert!(config.fetch.allow_private, "models from a private mirror");
		assert!(!config.input_fetch.allow_private, "inputs stay public-only");
		let server = args.server_config();
		assert_eq!((server.max_concurrent, server.max_tasks), (4, 8192));
		assert_eq!(server.task_timeout, Duration::from_secs(30));
		assert!(server.listen.ip().is_loopback());

		// Defaults: those of the executor, with 5 s synchronous requests.
		let defaults = parse(&["--executor", "embedded"]).unwrap();
		assert_eq!(defaults.embedded_only_given(), None);
		let (config, server) =
			(defaults.executor_config(std::path::Path::new("/base")), defaults.server_config());
		assert_eq!((config.default_engine, config.threads), (EngineKind::Tract, 1));
		assert_eq!((server.max_concurrent, server.request_timeout), (2, Duration::from_secs(5)));
		assert_eq!(server.max_tasks, 4096);
		assert!(!config.fetch.allow_private && !config.input_fetch.allow_private);
		let isolation = config.isolation.expect("models run in child processes");
		assert_eq!(isolation.memory_bytes, 2048 << 20);
	}

	#[test]
	fn settings_of_an_executor_the_node_does_not_run_are_named_and_nonsense_refused() {
		let args = parse(&["--executor", "none", "--executor-threads", "2"]).unwrap();
		assert_eq!(args.embedded_only_given(), Some("--executor-threads"));
		let args = parse(&["--executor-fetch-private-inputs"]).unwrap();
		assert_eq!(args.embedded_only_given(), Some("--executor-fetch-private-inputs"));
		let args = parse(&["--executor-memory-limit-mib", "2048"]).unwrap();
		assert_eq!(args.embedded_only_given(), Some("--executor-memory-limit-mib"));
		let args = parse(&["--executor-remove-unlisted"]).unwrap();
		assert_eq!(args.embedded_only_given(), Some("--executor-remove-unlisted"));
		assert!(parse(&["--executor-max-concurrent", "0"]).is_err());
		assert!(parse(&["--executor-ca", "/ca.pem"]).is_err(), "needs --executor-url");
		assert!(parse(&["--executor-engine", "pytorch"]).is_err());
	}

	#[test]
	fn a_remote_executor_is_reached_over_tls_or_on_loopback_unless_told_otherwise() {
		let route = |args: &[&str]| {
			let args = parse(args).unwrap();
			remote_route(&args, args.executor_url.as_deref().unwrap())
		};
		let pin = "ab".repeat(32);
		assert_eq!(
			route(&["--executor-url", "https://10.0.0.7:8077", "--executor-cert-sha256", &pin]),
			Ok(RemoteRoute::Link(ServerTrust::Fingerprint([0xab; 32])))
		);
		assert!(matches!(
			route(&["--executor-url", "https://gpu.example.org", "--executor-ca", "/ca.pem"]),
			Ok(RemoteRoute::Link(ServerTrust::Ca(_)))
		));
		assert_eq!(
			route(&["--executor-url", "https://gpu.example.org"]),
			Ok(RemoteRoute::Link(ServerTrust::SystemRoots))
		);
		for loopback in ["http://127.0.0.1:8077", "http://localhost:8077", "http://[::1]:8077"] {
			assert_eq!(route(&["--executor-url", loopback]), Ok(RemoteRoute::Direct), "{loopback}");
		}
		let clear = route(&["--executor-url", "http://10.0.0.7:8077"]).unwrap_err();
		assert!(clear.contains("in clear"), "{clear}");
		assert_eq!(
			route(&["--executor-url", "http://10.0.0.7:8077", "--executor-insecure"]),
			Ok(RemoteRoute::Direct)
		);
		assert!(route(&[
			"--executor-url",
			"http://127.0.0.1:8077",
			"--executor-cert-sha256",
			&pin
		])
		.is_err());
		assert!(
			route(&["--executor-url", "https://x.org", "--executor-cert-sha256", "abc"]).is_err()
		);
		assert!(route(&["--executor-url", "https://x.org", "--executor-insecure"]).is_err());
		assert!(route(&["--executor-url", "ftp://x.org"]).is_err());
		assert!(parse(&[
			"--executor-url",
			"https://x.org",
			"--executor-cert-sha256",
			&pin,
			"--executor-ca",
			"/ca.pem"
		])
		.is_err());
	}
}
