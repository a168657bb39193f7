//! `veritensor-executor`: the executor as a standalone service, and store maintenance.

use clap::{Args, Parser, Subcommand};
use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};
use veritensor_executor::{
	engine::OnnxRuntimeProvider,
	fetch::FetchPolicy,
	isolation::{self, limits::LimitAwareAllocator, IsolationConfig},
	server::{self, ServerConfig},
	store::{hash_hex, parse_hash},
	tls::{ServerIdentity, TlsError, TlsListener},
	Config, EngineKind, Error, Executor,
};

/// A model that breaks its memory limit ends its child process with a code the parent reads.
#[global_allocator]
static ALLOCATOR: LimitAwareAllocator = LimitAwareAllocator;

#[derive(Parser)]
#[command(name = "veritensor-executor", version, about = "Runs ONNX models for Veritensor workers")]
struct Cli {
	#[command(subcommand)]
	command: Command,
}

#[derive(Subcommand)]
enum Command {
	/// Serves the HTTP API.
	Serve(Box<ServeArgs>),
	/// Adds a model file to the store and prints its hash.
	Add {
		#[command(flatten)]
		store: StoreArgs,
		/// The ONNX file.
		file: PathBuf,
		/// Refuse the file unless it hashes to this (hex blake2-256).
		#[arg(long)]
		hash: Option<String>,
	},
	/// Prints what the store knows of a model (size, inputs, outputs).
	Inspect {
		#[command(flatten)]
		store: StoreArgs,
		/// The model's hash.
		hash: String,
	},
	/// Runs a model's test vectors on every engine (tract, the interpreter, and ONNX Runtime if
	/// its library is given) and prints, per vector, whether the output hashes agree, then a
	/// summary hash of the vectors and their agreed outputs. Exits non-zero if any differ.
	Conformance {
		/// The ONNX file.
		model: PathBuf,
		/// A JSON file: a list of vectors, each a list of input tensors in graph order, as the
		/// HTTP API takes them (`{"elem", "shape", "frac_bits", "values"}`).
		vectors: PathBuf,
		/// libonnxruntime.so to load (the environment variable ORT_DYLIB_PATH works too).
		#[arg(long)]
		onnxruntime_lib: Option<PathBuf>,
	},
}

#[derive(Args, Clone)]
struct StoreArgs {
	/// Model store directory [default: $XDG_DATA_HOME/veritensor/models or
	/// ~/.local/share/veritensor/models].
	#[arg(long)]
	store: Option<PathBuf>,
	/// Largest model accepted, in MiB.
	#[arg(long, default_value_t = 64)]
	max_model_mib: u64,
}

#[derive(Args)]
struct ServeArgs {
	#[command(flatten)]
	store: StoreArgs,
	/// Address to listen on. Anything but loopback needs a token, and TLS unless
	/// --insecure-http.
	#[arg(long, default_value = "127.0.0.1:8077")]
	listen: SocketAddr,
	/// PEM certificate chain (leaf first) to serve HTTPS with; needs --tls-key.
	#[arg(long, value_name = "PATH", requires = "tls_key", conflicts_with = "tls_self_signed")]
	tls_cert: Option<PathBuf>,
	/// PEM private key of --tls-cert.
	#[arg(long, value_name = "PATH", requires = "tls_cert")]
	tls_key: Option<PathBuf>,
	/// Serve HTTPS with a self-signed certificate kept in `<store>/tls`, made on first start.
	/// Its SHA-256 fingerprint, which nodes pin (--executor-cert-sha256), is printed at every
	/// start.
	#[arg(long)]
	tls_self_signed: bool,
	/// Names (DNS names or IP addresses) written into the self-signed certificate when it is
	/// made (repeatable) [default: localhost and the --listen address].
	#[arg(long = "tls-name", value_name = "NAME", requires = "tls_self_signed")]
	tls_names: Vec<String>,
	/// Serve plain HTTP on an address other than loopback: the token and every job cross the
	/// network in clear. Only behind a TLS-terminating proxy on the same machine.
	#[arg(long)]
	insecure_http: bool,
	/// File holding the bearer token (the environment variable VERITENSOR_EXECUTOR_TOKEN works too).
	#[arg(long)]
	token_file: Option<PathBuf>,
	/// Engine for requests that name none.
	#[arg(long, default_value = "tract")]
	engine: EngineKind,
	/// libonnxruntime.so to load (the environment variable ORT_DYLIB_PATH works too); without
	/// it only tract is available.
	#[arg(long)]
	onnxruntime_lib: Option<PathBuf>,
	/// Threads per ONNX Runtime inference.
	#[arg(long, default_value_t = 1)]
	threads: usize,
	/// Where ONNX Runtime runs models: `cpu`, or `cuda` with a GPU build of the library (the
	/// provider becomes part of the engine's version, `1.31.1+cuda`).
	#[arg(long, default_value = "cpu")]
	onnxruntime_provider: OnnxRuntimeProvider,
	/// Inferences running at once.
	#[arg(long, default_value_t = 2)]
	max_concurrent: usize,
	/// Tasks remembered, running or holding a result not read yet: at least as many jobs as
	/// the worker keys it serves can have open at once (their capacities added up), or a
	/// flood of jobs is refused work rather than queued.
	#[arg(long, default_value_t = server::DEFAULT_MAX_TASKS as u32,
		value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
	max_tasks: u32,
	/// Deadline of a synchronous inference, in milliseconds.
	#[arg(long, default_value_t = 10_000)]
	timeout_ms: u64,
	/// Deadline of an asynchronous task, in seconds.
	#[arg(long, default_value_t = 600)]
	task_timeout_secs: u64,
	/// Largest total input of one request, in KiB.
	#[arg(long, default_value_t = 1024)]
	max_input_kib: u64,
	/// Loaded models kept in memory.
	#[arg(long, default_value_t = 16)]
	cached_models: usize,
	/// Model file MiB kept loaded in memory, per process running models (the least recently
	/// used beyond this are dropped).
	#[arg(long, default_value_t = 512)]
	cache_mib: u64,
	/// Fetch models and job inputs only from these hosts (repeatable); any public host if
	/// absent.
	#[arg(long = "fetch-allow-host")]
	fetch_hosts: Vec<String>,
	/// Allow plain-HTTP fetches.
	#[arg(long)]
	fetch_allow_http: bool,
	/// Allow model fetches from loopback, private and link-local addresses (job inputs keep
	/// public addresses only).
	#[arg(long)]
	fetch_allow_private: bool,
	/// Allow job input fetches from loopback, private and link-local addresses, over HTTP as
	/// well. For test networks only: any job's submitter names its input URI.
	#[arg(long)]
	input_fetch_allow_private: bool,
	/// Memory each inference process may use, in MiB (0: no limit, for GPU libraries without
	/// a cgroup).
	#[arg(long, default_value_t = 2048)]
	memory_limit_mib: u64,
	/// CPU seconds each inference may use per ONNX Runtime thread (all its threads together:
	/// --threads times this): a backstop above the deadlines.
	#[arg(long, default_value_t = 900)]
	cpu_limit_secs: u64,
	/// A delegated cgroup v2 directory: each inference process gets a cgroup in it whose
	/// memory.max is the memory limit, instead of RLIMIT_DATA.
	#[arg(long, value_name = "DIR")]
	cgroup: Option<PathBuf>,
}

/// Why `serve` could not start, or stopped.
#[derive(Debug, thiserror::Error)]
enum ServeError {
	/// The flags contradict each other or expose the service.
	#[error("{0}")]
	Settings(String),
	/// The certificate or key could not be read or made.
	#[error(transparent)]
	Tls(#[from] TlsError),
	/// The executor could not start (store, engines, listener), or the service failed.
	#[error(transparent)]
	Executor(#[from] Error),
	/// The async runtime or a signal handler could not be set up.
	#[error("{what}: {source}")]
	System { what: &'static str, source: std::io::Error },
}

impl ServeError {
	/// How `main` prints it: an executor error with its kind, as the other commands do.
	fn report(&self) -> String {
		match self {
			Self::Executor(error) => format!("error ({}): {error}", error.kind().as_str()),
			other => format!("error: {other}"),
		}
	}
}

/// Logs to stderr, filtered by `RUST_LOG` (`info` if unset, which includes an access line per
/// request; `RUST_LOG=info,veritensor_executor::server=warn` leaves those out).
fn start_logging() {
	let filter = tracing_subscriber::EnvFilter::try_from_default_env()
		.unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
	let _ = tracing_subscriber::fmt()
		.with_env_filter(filter)
		.with_writer(std::io::stderr)
		.with_ansi(false)
		.try_init();
}

fn default_store() -> PathBuf {
	let data = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from).unwrap_or_else(|| {
		PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into())).join(".local/share")
	});
	data.join("veritensor/models")
}

fn config(store: &StoreArgs) -> Config {
	let mut config = Config::new(store.store.clone().unwrap_or_else(default_store));
	config.max_model_bytes = store.max_model_mib.saturating_mul(1 << 20);
	config
}

/// The `conformance` command: the model in a temporary store, every engine, every vector.
fn conformance(
	model: PathBuf,
	vectors: PathBuf,
	onnxruntime_lib: Option<PathBuf>,
) -> Result<(), Error> {
	let read = |path: &PathBuf| {
		std::fs::read(path).map_err(|e| Error::BadInput(format!("reading {}: {e}", path.display())))
	};
	let vectors: Vec<Vec<veritensor_executor::tensor::JsonTensor>> =
		serde_json::from_slice(&read(&vectors)?).map_err(|e| {
			Error::BadInput(format!("the vectors are not a list of input lists: {e}"))
		})?;
	let store = std::env::temp_dir().join(format!("veritensor-conformance-{}", std::process::id()));
	let mut config = Config::new(store.clone());
	config.max_model_bytes = u64::MAX;
	config.onnxruntime_library =
		onnxruntime_lib.or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from));
	let result = (|| {
		let executor = Executor::new(config)?;
		let hash = hash_hex(&executor.store().add_bytes(&read(&model)?, None)?);
		let engines: Vec<String> = executor
			.engines()
			.iter()
			.map(|e| format!("{} {}", e.engine.name(), e.version))
			.collect();
		println!("model {hash}; engines: {}", engines.join(", "));
		let report = veritensor_executor::conformance::run(&executor, &hash, &vectors)?;
		for (index, outcome) in report.vectors.iter().enumerate() {
			let verdict = if outcome.agreed().is_some() { "agree" } else { "DIFFER" };
			let outputs: Vec<String> = outcome
				.outputs
				.iter()
				.map(|(engine, output)| match output {
					Ok(hash) => format!("{} {hash}", engine.name()),
					Err(error) => format!("{} error: {error}", engine.name()),
				})
				.collect();
			println!("vector {index}: {verdict}: {}", outputs.join("; "));
		}
		let agreed = report.vectors.iter().filter(|outcome| outcome.agreed().is_some()).count();
		println!("{agreed} of {} vectors agree on every engine", report.vectors.len());
		match report.summary {
			Some(summary) => {
				println!("summary hash {summary:?}");
				Ok(())
			}
			None => Err(Error::Engine(String::from("the engines disagree on some vectors"))),
		}
	})();
	let _ = std::fs::remove_dir_all(&store);
	result
}

/// The certificate to serve with, if any, and the fingerprint to print.
fn server_identity(
	args: &ServeArgs,
	store_dir: &std::path::Path,
) -> Result<Option<ServerIdentity>, ServeError> {
	let identity = match (&args.tls_cert, &args.tls_key, args.tls_self_signed) {
		(Some(certificate), Some(key), _) => ServerIdentity::from_pem_files(certificate, key)?,
		(_, _, true) => {
			let mut names = args.tls_names.clone();
			if names.is_empty() {
				names.push("localhost".into());
				if !args.listen.ip().is_unspecified() {
					names.push(args.listen.ip().to_string());
				}
			}
			let dir = store_dir.join("tls");
			let (identity, made) = ServerIdentity::self_signed_in(&dir, &names)?;
			if made {
				log::info!(
					"made a self-signed certificate for {} in {}",
					names.join(", "),
					dir.display()
				);
			}
			identity
		}
		_ => {
			if !args.listen.ip().is_loopback() && !args.insecure_http {
				return Err(ServeError::Settings(format!(
					"listening on {} in plain HTTP sends the token and every job in clear: give \
					 --tls-cert and --tls-key, or --tls-self-signed (or --insecure-http behind a \
					 TLS-terminating proxy)",
					args.listen
				)));
			}
			return Ok(None);
		}
	};
	if args.insecure_http {
		return Err(ServeError::Settings("--insecure-http contradicts the TLS flags".into()));
	}
	Ok(Some(identity))
}

fn serve(args: ServeArgs) -> Result<(), ServeError> {
	let mut config = config(&args.store);
	let token = match &args.token_file {
		Some(path) => Some(
			std::fs::read_to_string(path)
				.map_err(|e| ServeError::Settings(format!("reading {}: {e}", path.display())))?
				.trim()
				.to_string(),
		),
		None => std::env::var("VERITENSOR_EXECUTOR_TOKEN").ok().filter(|t| !t.is_empty()),
	};
	let server_config = ServerConfig {
		listen: args.listen,
		token,
		request_timeout: Duration::from_millis(args.timeout_ms),
		task_timeout: Duration::from_secs(args.task_timeout_secs),
		max_concurrent: args.max_concurrent,
		max_tasks: args.max_tasks as usize,
		result_keep: server::DEFAULT_RESULT_KEEP,
		access_log: log::Level::Info,
	};
	server_config.validate()?;
	let identity = server_identity(&args, &config.store_dir)?;
	config.default_engine = args.engine;
	config.onnxruntime_library =
		args.onnxruntime_lib.or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from));
	config.threads = args.threads;
	config.onnxruntime_provider = args.onnxruntime_provider;
	config.max_input_bytes = args.max_input_kib.saturating_mul(1024);
	config.cached_models = args.cached_models;
	config.cache_bytes = args.cache_mib.saturating_mul(1 << 20);
	config.fetch = FetchPolicy {
		schemes: if args.fetch_allow_http {
			vec!["https".into(), "http".into()]
		} else {
			vec!["https".into()]
		},
		hosts: (!args.fetch_hosts.is_empty()).then_some(args.fetch_hosts),
		allow_private: args.fetch_allow_private,
		..FetchPolicy::default()
	};
	// The host list binds inputs too; plain HTTP and private addresses stay models' only.
	config.input_fetch.hosts = config.fetch.hosts.clone();
	if args.input_fetch_allow_private {
		config.input_fetch.open_to_private_networks();
	}
	let limits =
		IsolationConfig::this_program_with(args.memory_limit_mib, args.cpu_limit_secs, args.cgroup);
	let isolated = limits.describe();
	config.isolation = Some(limits);
	let store_dir = config.store_dir.clone();
	let executor = Arc::new(Executor::new(config)?);
	let removed = executor.store().remove_leftovers()?;
	if removed > 0 {
		log::info!("removed {removed} partial download(s) from the model store");
	}
	let runtime = tokio::runtime::Builder::new_multi_thread()
		.enable_all()
		.build()
		.map_err(|source| ServeError::System { what: "starting the async runtime", source })?;
	runtime.block_on(async move {
		let listener = server::bind(&server_config).await?;
		let address = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
		let engines: Vec<String> = executor
			.engines()
			.iter()
			.map(|e| {
				format!(
					"{} {}{}",
					e.engine.name(),
					e.version,
					if e.default { " (default)" } else { "" }
				)
			})
			.collect();
		let scheme = if identity.is_some() { "https" } else { "http" };
		log::info!(
			"veritensor-executor listening on {scheme}://{address} (store {}, engines: {}; models \
			 run in child processes: {isolated})",
			store_dir.display(),
			engines.join(", ")
		);
		// SIGTERM is what systemd and container runtimes send; Ctrl-C what a terminal sends.
		let mut terminate =
			tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
				.map_err(|source| ServeError::System { what: "listening for SIGTERM", source })?;
		let shutdown = async move {
			let signal = tokio::select! {
				_ = tokio::signal::ctrl_c() => "SIGINT",
				_ = terminate.recv() => "SIGTERM",
			};
			log::info!("{signal}: stopping (a second signal stops at once)");
			tokio::spawn(async move {
				tokio::select! {
					_ = tokio::signal::ctrl_c() => {}
					_ = terminate.recv() => {}
				}
				log::warn!("second signal: stopping without waiting for running tasks");
				std::process::exit(1);
			});
		};
		match identity {
			Some(identity) => {
				log::info!(
					"TLS certificate SHA-256 {} (nodes pin it with --executor-cert-sha256)",
					identity.fingerprint()
				);
				let listener = TlsListener::new(listener, identity.server_config()?)
					.map_err(|source| ServeError::System { what: "serving TLS", source })?;
				server::serve(listener, executor, server_config, shutdown).await?
			}
			None => server::serve(listener, executor, server_config, shutdown).await?,
		}
		log::info!("stopped");
		Ok(())
	})
}

fn main() {
	// `serve`'s children: before anything else, so that they start fast and log nothing.
	if std::env::args_os().nth(1).is_some_and(|a| a == isolation::CHILD_SUBCOMMAND) {
		isolation::child::run_child_and_exit();
	}
	start_logging();
	let cli = Cli::parse();
	let result = match cli.command {
		Command::Serve(args) => {
			if let Err(error) = serve(*args) {
				eprintln!("{}", error.report());
				std::process::exit(1);
			}
			Ok(())
		}
		Command::Add { store, file, hash } => (|| {
			let executor = Executor::new(config(&store))?;
			let bytes = std::fs::read(&file)
				.map_err(|e| Error::BadInput(format!("reading {}: {e}", file.display())))?;
			veritensor_executor::graph::read_signature(&bytes)?;
			let expected = hash.as_deref().map(parse_hash).transpose()?;
			let hash = executor.store().add_bytes(&bytes, expected)?;
			println!("{}", hash_hex(&hash));
			Ok(())
		})(),
		Command::Conformance { model, vectors, onnxruntime_lib } => {
			conformance(model, vectors, onnxruntime_lib)
		}
		Command::Inspect { store, hash } => (|| {
			let executor = Executor::new(config(&store))?;
			let info = executor.model_info(&parse_hash(&hash)?)?;
			println!("{}", serde_json::to_string_pretty(&info).unwrap_or_default());
			Ok(())
		})(),
	};
	if let Err(error) = result {
		eprintln!("error ({}): {error}", error.kind().as_str());
		std::process::exit(1);
	}
}
