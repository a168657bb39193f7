//! The executor: store, engines and loaded-model cache together, and the one inference path
//! every caller (HTTP service, node, benchmarks) goes through.

use crate::{
	engine::{
		Backend, EngineKind, Interpreter, LoadedModel, OnnxRuntime, OnnxRuntimeProvider, Tract,
	},
	error::{Error, Result},
	fetch::FetchPolicy,
	graph::{read_signature, Signature},
	isolation::{IsolationConfig, Pool},
	metrics::Metrics,
	store::{hash_hex, parse_hash, ModelStore},
	tensor::{converted_output_hash, JsonSchema, JsonTensor, WireTensor},
};
use codec::DecodeAll;
use lru::LruCache;
use serde::{Deserialize, Serialize};
use sp_core::H256;
use std::{
	collections::HashMap,
	num::NonZeroUsize,
	panic::{catch_unwind, AssertUnwindSafe},
	path::PathBuf,
	sync::{Arc, Mutex, PoisonError},
	time::Instant,
};
use veritensor_primitives::{
	hashing,
	tensor::{ElementType, MAX_FRAC_BITS},
};

/// How an executor is set up.
#[derive(Clone, Debug)]
pub struct Config {
	/// Root of the model store.
	pub store_dir: PathBuf,
	/// Largest model file accepted (upload or fetch), in bytes.
	pub max_model_bytes: u64,
	/// Largest total input size of one request, in wire bytes.
	pub max_input_bytes: u64,
	/// Models kept loaded in memory, all engines together (each with up to four input
	/// shapes); the least recently used is dropped beyond this.
	pub cached_models: usize,
	/// Model file bytes kept loaded in all (a model's memory in an engine grows with its file:
	/// its weights); least recently used models are dropped beyond this, but never the one
	/// just loaded.
	pub cache_bytes: u64,
	/// The engine used when a request names none.
	pub default_engine: EngineKind,
	/// `libonnxruntime.so` to load; without it only tract is available.
	pub onnxruntime_library: Option<PathBuf>,
	/// Where ONNX Runtime runs models (the CPU unless a GPU build of the library is given).
	pub onnxruntime_provider: OnnxRuntimeProvider,
	/// Threads each ONNX Runtime inference may use (tract always uses the calling thread).
	pub threads: usize,
	/// Where models may be fetched from: the registry's URIs, which the model's owner wrote
	/// and governance approved.
	pub fetch: FetchPolicy,
	/// Where job inputs may be fetched from. Any submitter names these, so they are kept apart
	/// from `fetch`: allowing private addresses for models (a model mirror on the worker's own
	/// network) must not let a stranger's job reach that network.
	pub input_fetch: FetchPolicy,
	/// Fraction bits of float outputs when the request carries no schema.
	pub default_output_frac_bits: u8,
	/// Run models in supervised child processes under these limits; in this process if
	/// `None` (a child itself, tests, benchmarks).
	pub isolation: Option<IsolationConfig>,
}

impl Config {
	/// Defaults for a store at `store_dir`: tract only, 64 MiB models, 1 MiB inputs, 16 cached
	/// models, one thread, HTTPS fetches of models and inputs from public hosts, 16 fraction
	/// bits, models run in this process.
	pub fn new(store_dir: impl Into<PathBuf>) -> Self {
		Self {
			store_dir: store_dir.into(),
			max_model_bytes: 64 << 20,
			max_input_bytes: 1 << 20,
			cached_models: 16,
			cache_bytes: 512 << 20,
			default_engine: EngineKind::Tract,
			onnxruntime_library: None,
			onnxruntime_provider: OnnxRuntimeProvider::Cpu,
			threads: 1,
			fetch: FetchPolicy::default(),
			input_fetch: FetchPolicy::default(),
			default_output_frac_bits: 16,
			isolation: None,
		}
	}
}

/// One inference.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InferRequest {
	/// The model's blake2-256 hash, hex.
	pub model: String,
	/// Input tensors in graph order.
	pub inputs: Vec<JsonTensor>,
	/// The engine to use; the executor's default if absent.
	#[serde(default)]
	pub engine: Option<EngineKind>,
	/// The exact version of `engine` the model is pinned to (its exact comparison rule): an
	/// executor without that engine at that version refuses with `engine_mismatch`, since
	/// another engine's outputs would not hash the same.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub engine_version: Option<String>,
	/// The schema the chain's registry declares: inputs and outputs are checked against it and
	/// float outputs take its fraction bits.
	#[serde(default)]
	pub schema: Option<JsonSchema>,
	/// Fraction bits of float outputs when there is no schema.
	#[serde(default)]
	pub output_frac_bits: Option<u8>,
	/// Where to fetch the model from (the registry's URIs, tried in order under the fetch
	/// policy) if it is not in the store yet; without them a missing model is
	/// `model_not_found`.
	#[serde(default, skip_serializing_if = "Vec::is_empty")]
	pub fetch_from: Vec<String>,
	/// Inputs kept elsewhere, instead of `inputs`: the HTTP service fetches them under the fetch
	/// policy and checks them against their canonical input hash before running.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub input_from: Option<RemoteInput>,
}

/// A job's inputs kept elsewhere: the SCALE encoding of the chain's wire tensors at `uri`, whose
/// canonical input hash is `hash`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteInput {
	/// Where to fetch them.
	pub uri: String,
	/// Their canonical input hash (`0x…`).
	pub hash: String,
}

/// Where the time of one inference went, in microseconds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Timing {
	/// Reading, verifying and preparing the model; zero when it was already loaded.
	pub load_us: u64,
	/// Converting inputs, running the engine, converting and hashing outputs.
	pub inference_us: u64,
	/// The whole request inside the executor.
	pub total_us: u64,
}

/// The result of one inference.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InferResponse {
	/// The model's hash.
	pub model: String,
	/// The engine that ran it.
	pub engine: EngineKind,
	/// That engine's version.
	pub engine_version: String,
	/// Outputs in graph order, named.
	pub outputs: Vec<JsonTensor>,
	/// Canonical hash of the outputs, as the chain computes it.
	pub output_hash: String,
	/// Whether the model was already loaded.
	pub cache_hit: bool,
	/// Time spent.
	pub timing: Timing,
}

/// What the store knows of a model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelInfo {
	/// The model's hash.
	pub hash: String,
	/// File size.
	pub bytes: u64,
	/// Inputs and outputs the graph declares.
	pub signature: Signature,
}

/// An engine the executor can use.
#[derive(Clone, Debug, Serialize)]
pub struct EngineInfo {
	/// Its name.
	pub engine: EngineKind,
	/// Its version.
	pub version: String,
	/// Whether requests without an engine use it.
	pub default: bool,
}

/// Input element types and shapes a model was prepared for, in graph order.
type InputPlan = Vec<(ElementType, Vec<u32>)>;

/// The models loaded for one model and engine, one per input plan.
type LoadedPlans = Vec<(InputPlan, Arc<Loaded>)>;

/// Most input plans kept per model and engine; the oldest is dropped beyond this.
const PLANS_PER_MODEL: usize = 4;

struct Loaded {
	model: Box<dyn LoadedModel>,
	signature: Signature,
	/// The size of its file.
	bytes: u64,
}

/// Runs models from its store on its engines.
pub struct Executor {
	config: Config,
	store: Arc<ModelStore>,
	backends: Vec<Arc<dyn Backend>>,
	cache: Mutex<LruCache<(H256, EngineKind), LoadedPlans>>,
	metrics: Metrics,
	histograms: Vec<(EngineKind, prometheus::Histogram)>,
	pool: Option<Pool>,
	/// Model fetches in progress, one per hash: a request for a model already being fetched
	/// waits for that fetch and shares its outcome instead of downloading it again.
	fetches: Arc<Mutex<HashMap<H256, FetchOutcome>>>,
	/// Remote inputs that failed for good lately, by URI and hash, with when.
	input_failures: Mutex<LruCache<(String, String), (Error, Instant)>>,
}

/// How long a remote input that failed for good is answered from memory: a worker asks every
/// block until it gives up on the job, and the URI's host is fetched from once in this time
/// instead (short, since a refusal by a name's addresses or an error page may pass).
pub const INPUT_FAILURE_MEMORY: std::time::Duration = std::time::Duration::from_secs(120);

/// Remote input failures remembered at most.
const INPUT_FAILURES_KEPT: NonZeroUsize = NonZeroUsize::new(1024).expect("1024 is non-zero; qed");

/// Where a model fetch under way will publish its outcome (whether it downloaded the model).
type FetchOutcome = tokio::sync::watch::Receiver<Option<Result<bool>>>;

/// Most URIs one model fetch tries (the registry keeps at most 4 per model).
pub const MAX_FETCH_URIS: usize = 8;

/// A fetch's entry in the map of fetches under way, removed when the fetch ends, panics or is
/// dropped with its runtime, so that no later call waits on a fetch that will never answer.
struct FetchUnderWay {
	fetches: Arc<Mutex<HashMap<H256, FetchOutcome>>>,
	hash: H256,
	outcome: FetchOutcome,
}

impl Drop for FetchUnderWay {
	fn drop(&mut self) {
		let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
		if fetches.get(&self.hash).is_some_and(|entry| entry.same_channel(&self.outcome)) {
			fetches.remove(&self.hash);
		}
	}
}

/// One model's fetch: every URI in turn until one gives the model.
struct ModelFetch {
	store: Arc<ModelStore>,
	policy: FetchPolicy,
	hash: H256,
	uris: Vec<String>,
}

impl ModelFetch {
	/// Whether it downloaded the model (false: the store had it already).
	async fn run(&self) -> Result<bool> {
		let (store, wanted) = (self.store.clone(), self.hash);
		if blocking(move || store.read_verified(&wanted).map(drop)).await.is_ok() {
			return Ok(false);
		}
		if self.uris.is_empty() {
			return Err(Error::BadInput("no URI to fetch from".into()));
		}
		let mut failures = Vec::new();
		for uri in &self.uris {
			match self.download(uri).await {
				Ok(()) => return Ok(true),
				Err(error) if self.uris.len() == 1 => return Err(error),
				Err(error) => failures.push(format!("{uri}: {error}")),
			}
		}
		Err(Error::FetchFailed(failures.join("; ")))
	}

	/// Streams `uri` into the store on a blocking thread, hashing as it goes; keeps the file
	/// only if it hashes to the model's hash and reads as a model.
	async fn download(&self, uri: &str) -> Result<()> {
		let (chunks, mut received) = tokio::sync::mpsc::channel::<hyper::body::Bytes>(16);
		let (store, expected) = (self.store.clone(), self.hash);
		let writer = tokio::task::spawn_blocking(move || -> Result<()> {
			let mut incoming = store.incoming()?;
			while let Some(chunk) = received.blocking_recv() {
				incoming.write(&chunk)?;
			}
			// Received whole: the download's own outcome says whether it ended early.
			if incoming.hash() != expected {
				return incoming.commit(expected).map(drop);
			}
			// Read back once: the file itself must hash right and read as a model.
			let bytes = std::fs::read(incoming.path())
				.map_err(|e| Error::Storage(format!("reading back the download: {e}")))?;
			if H256(sp_crypto_hashing::blake2_256(&bytes)) != expected {
				return Err(Error::Storage("the download changed on disk".into()));
			}
			read_signature(&bytes)?;
			incoming.commit(expected).map(drop)
		});
		let downloaded = self.policy.stream(uri, self.store.max_model_bytes(), chunks).await;
		let written = writer
			.await
			.unwrap_or_else(|_| Err(Error::Storage("the store thread panicked".into())));
		match (downloaded, written) {
			// The writer stopped first (the store's size limit, a full disk): its reason.
			(Err(Error::Storage(_)), Err(written)) => Err(written),
			(Err(error), _) => Err(error),
			(Ok(()), written) => written,
		}
	}
}

/// Runs blocking file or hash work off the async threads.
async fn blocking<T: Send + 'static>(
	work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
	tokio::task::spawn_blocking(work)
		.await
		.unwrap_or_else(|_| Err(Error::Storage("a store thread panicked".into())))
}

fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
	catch_unwind(AssertUnwindSafe(f))
		.unwrap_or_else(|_| Err(Error::Engine(format!("the engine panicked while {what}"))))
}

impl Executor {
	/// Opens the store and the engines the configuration names.
	pub fn new(config: Config) -> Result<Self> {
		if config.default_output_frac_bits > MAX_FRAC_BITS {
			return Err(Error::BadInput(format!(
				"default_output_frac_bits must be at most {MAX_FRAC_BITS}"
			)));
		}
		let store = ModelStore::open(&config.store_dir, config.max_model_bytes)?;
		let mut backends: Vec<Arc<dyn Backend>> = vec![Arc::new(Tract), Arc::new(Interpreter)];
		if let Some(library) = &config.onnxruntime_library {
			let provider = config.onnxruntime_provider;
			backends.push(Arc::new(OnnxRuntime::new(library, config.threads, provider)?));
		}
		if !backends.iter().any(|b| b.kind() == config.default_engine) {
			return Err(Error::EngineUnavailable(format!(
				"{} is the default engine but is not configured",
				config.default_engine.name()
			)));
		}
		let capacity =
			NonZeroUsize::new(config.cached_models.max(1)).expect("max(1) is non-zero; qed");
		let metrics = Metrics::new();
		let histograms = backends
			.iter()
			.map(|b| (b.kind(), metrics.inference_seconds.with_label_values(&[b.kind().name()])))
			.collect();
		let pool = config
			.isolation
			.clone()
			.map(|isolation| Pool::new(isolation, &config, metrics.clone()))
			.transpose()?;
		Ok(Self {
			config,
			store: Arc::new(store),
			backends,
			cache: Mutex::new(LruCache::new(capacity)),
			metrics,
			histograms,
			pool,
			fetches: Arc::default(),
			input_failures: Mutex::new(LruCache::new(INPUT_FAILURES_KEPT)),
		})
	}

	/// The child processes models run in, if isolated.
	pub fn pool(&self) -> Option<&Pool> {
		self.pool.as_ref()
	}

	/// The configuration in effect.
	pub fn config(&self) -> &Config {
		&self.config
	}

	/// The model store.
	pub fn store(&self) -> &ModelStore {
		&self.store
	}

	/// The executor's metrics.
	pub fn metrics(&self) -> &Metrics {
		&self.metrics
	}

	/// The engines available here.
	pub fn engines(&self) -> Vec<EngineInfo> {
		self.backends
			.iter()
			.map(|b| EngineInfo {
				engine: b.kind(),
				version: b.version().to_string(),
				default: b.kind() == self.config.default_engine,
			})
			.collect()
	}

	/// The engine `request` would run on here: the one it names (the default if none), at the
	/// exact version it pins if it pins one.
	///
	/// Fails with `engine_mismatch` if it pins a version this executor does not run, or
	/// `engine_unavailable` if it names an engine not configured here.
	pub fn engine_for(&self, request: &InferRequest) -> Result<EngineKind> {
		self.backend(request.engine, request.engine_version.as_deref()).map(|b| b.kind())
	}

	fn backend(
		&self,
		engine: Option<EngineKind>,
		version: Option<&str>,
	) -> Result<&Arc<dyn Backend>> {
		let wanted = engine.unwrap_or(self.config.default_engine);
		let found = self.backends.iter().find(|b| b.kind() == wanted);
		match (found, version) {
			(Some(backend), Some(pinned)) if backend.version() != pinned => {
				Err(Error::EngineMismatch(format!(
					"the model is pinned to {} {pinned}; this executor runs {}",
					wanted.name(),
					backend.version()
				)))
			}
			(Some(backend), _) => Ok(backend),
			(None, Some(pinned)) => Err(Error::EngineMismatch(format!(
				"the model is pinned to {} {pinned}, which is not configured here",
				wanted.name()
			))),
			(None, None) => Err(Error::EngineUnavailable(wanted.name().into())),
		}
	}

	/// What the store knows of a model, reading and checking its file.
	pub fn model_info(&self, hash: &H256) -> Result<ModelInfo> {
		let bytes = self.store.read_verified(hash)?;
		Ok(ModelInfo {
			hash: hash_hex(hash),
			bytes: bytes.len() as u64,
			signature: read_signature(&bytes)?,
		})
	}

	/// Makes sure the store holds the model: if it is not there already, tries each URI in
	/// turn under the model fetch policy and keeps the first download that hashes right and
	/// reads as a model. Returns whether this call downloaded it.
	///
	/// Concurrent calls for one hash make one download: the first starts it, the others wait
	/// for it and share its outcome (a worker's requests carry the URIs of the model's registry
	/// entry, so they are the same). The download runs on its own, bounded by the fetch
	/// policy's deadline per URI and at most [`MAX_FETCH_URIS`] URIs: a caller that gives up
	/// (its request's deadline) does not stop it, so a model that takes longer than one
	/// request to download still lands for the next. Needs a tokio runtime.
	pub async fn fetch_model(&self, hash: &H256, uris: &[String]) -> Result<bool> {
		if uris.len() > MAX_FETCH_URIS {
			return Err(Error::BadInput(format!(
				"{} URIs to fetch from; at most {MAX_FETCH_URIS} are tried",
				uris.len()
			)));
		}
		let (mut outcome, started_here) = {
			let mut fetches = self.fetches.lock().unwrap_or_else(PoisonError::into_inner);
			match fetches.get(hash) {
				Some(under_way) => (under_way.clone(), false),
				None => {
					let (done, outcome) = tokio::sync::watch::channel(None);
					fetches.insert(*hash, outcome.clone());
					let fetch = ModelFetch {
						store: self.store.clone(),
						policy: self.config.fetch.clone(),
						hash: *hash,
						uris: uris.to_vec(),
					};
					let under_way = FetchUnderWay {
						fetches: self.fetches.clone(),
						hash: *hash,
						outcome: outcome.clone(),
					};
					tokio::spawn(async move {
						let result = fetch.run().await;
						// Gone from the map before the outcome is out, however the task ends.
						drop(under_way);
						let _ = done.send(Some(result));
					});
					(outcome, true)
				}
			}
		};
		let finished = outcome
			.wait_for(Option::is_some)
			.await
			.map_err(|_| Error::Storage("the model fetch stopped".into()))?
			.clone();
		match finished {
			Some(result) => result.map(|downloaded| downloaded && started_here),
			None => Err(Error::Storage("the model fetch ended without an outcome".into())),
		}
	}

	/// Fetches remote inputs under the input fetch policy, at most `max_input_bytes`, and
	/// returns them if they are SCALE-encoded wire tensors of the expected canonical input
	/// hash. A failure no retry cures (refused by the policy, or not the announced tensors) is
	/// remembered for [`INPUT_FAILURE_MEMORY`]: a worker asks again every block until it gives
	/// up on the job, and the URI's host is not fetched from each time.
	pub async fn fetch_input(&self, remote: &RemoteInput) -> Result<Vec<JsonTensor>> {
		let key = (remote.uri.clone(), remote.hash.clone());
		{
			let mut failures = self.input_failures.lock().unwrap_or_else(PoisonError::into_inner);
			match failures.get(&key) {
				Some((error, at)) if at.elapsed() < INPUT_FAILURE_MEMORY => {
					return Err(error.clone())
				}
				Some(_) => {
					failures.pop(&key);
				}
				None => {}
			}
		}
		let outcome = self.fetch_input_now(remote).await;
		if let Err(error @ (Error::RemoteInputRefused(_) | Error::BadRemoteInput(_))) = &outcome {
			let mut failures = self.input_failures.lock().unwrap_or_else(PoisonError::into_inner);
			failures.put(key, (error.clone(), Instant::now()));
		}
		outcome
	}

	async fn fetch_input_now(&self, remote: &RemoteInput) -> Result<Vec<JsonTensor>> {
		let expected = parse_hash(&remote.hash)?;
		let uri = &remote.uri;
		let bytes = self.config.input_fetch.fetch(uri, self.config.max_input_bytes).await.map_err(
			|error| match error {
				Error::FetchFailed(why) => Error::InputUnavailable(format!("{uri}: {why}")),
				other => Error::RemoteInputRefused(format!("{uri}: {other}")),
			},
		)?;
		let wire = Vec::<WireTensor>::decode_all(&mut &bytes[..]).map_err(|_| {
			Error::BadRemoteInput(format!("{uri} does not hold SCALE-encoded tensors"))
		})?;
		let actual = hashing::input_hash(&wire);
		if actual != expected {
			return Err(Error::BadRemoteInput(format!(
				"the tensors at {uri} hash to {}, not to {}",
				hash_hex(&actual),
				hash_hex(&expected)
			)));
		}
		wire.iter()
			.map(|tensor| JsonTensor::from_wire(None, tensor))
			.collect::<Result<_>>()
			.map_err(|error| Error::BadRemoteInput(format!("{uri}: {error}")))
	}

	fn load(
		&self,
		model: &H256,
		plan: &InputPlan,
		backend: &dyn Backend,
		schema: Option<&JsonSchema>,
	) -> Result<Arc<Loaded>> {
		let bytes = self.store.read_verified(model)?;
		let signature = read_signature(&bytes)?;
		signature.check_inputs(plan)?;
		if let Some(schema) = schema {
			check_schema_names(&signature, schema)?;
		}
		let model = guarded("loading the model", || backend.load(&bytes, plan))?;
		Ok(Arc::new(Loaded { model, signature, bytes: bytes.len() as u64 }))
	}

	/// The loaded model for these inputs, if any; compares shapes in place so that a hit
	/// allocates nothing.
	fn cached(
		&self,
		model: H256,
		engine: EngineKind,
		inputs: &[JsonTensor],
	) -> Option<Arc<Loaded>> {
		let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
		let plans = cache.get(&(model, engine))?;
		plans
			.iter()
			.find(|(plan, _)| {
				plan.len() == inputs.len()
					&& plan
						.iter()
						.zip(inputs)
						.all(|((elem, shape), input)| *elem == input.elem && *shape == input.shape)
			})
			.map(|(_, loaded)| loaded.clone())
	}

	fn remember(&self, model: H256, engine: EngineKind, plan: InputPlan, loaded: Arc<Loaded>) {
		let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
		let plans = cache.get_or_insert_mut((model, engine), Vec::new);
		// Two runs that missed the cache at once load the same plan: keep one.
		if plans.iter().any(|(kept, _)| *kept == plan) {
			return;
		}
		if plans.len() >= PLANS_PER_MODEL {
			plans.remove(0);
		}
		plans.push((plan, loaded));
		let held = |cache: &LruCache<_, LoadedPlans>| -> u64 {
			cache.iter().flat_map(|(_, plans)| plans).map(|(_, loaded)| loaded.bytes).sum()
		};
		// The model just loaded is the most recently used: the others go first.
		while cache.len() > 1 && held(&cache) > self.config.cache_bytes {
			cache.pop_lru();
		}
		let loaded_now: usize = cache.iter().map(|(_, plans)| plans.len()).sum();
		self.metrics.models_loaded.set(loaded_now as i64);
	}

	/// Runs one inference, without a deadline.
	pub fn infer(&self, request: &InferRequest) -> Result<InferResponse> {
		self.infer_until(request, None)
	}

	/// Runs one inference, in a child process if the executor is isolated (killed at
	/// `deadline`), or in this one (where only ONNX Runtime runs stop at `deadline`).
	pub fn infer_until(
		&self,
		request: &InferRequest,
		deadline: Option<Instant>,
	) -> Result<InferResponse> {
		let Some(pool) = &self.pool else {
			return self.infer_here(request, deadline);
		};
		// Refused here what needs no model, before a child is involved.
		self.backend(request.engine, request.engine_version.as_deref())?;
		let response = pool.infer(request, deadline)?;
		// The child's own metrics stay in the child: its answer carries what they would count
		// (a failed load is counted only in process).
		if response.cache_hit {
			self.metrics.cache_hits.inc();
		} else {
			self.metrics.cache_misses.inc();
		}
		self.observe_inference(response.engine, response.timing.inference_us as f64 / 1e6);
		Ok(response)
	}

	fn observe_inference(&self, engine: EngineKind, seconds: f64) {
		if let Some((_, histogram)) = self.histograms.iter().find(|(kind, _)| *kind == engine) {
			histogram.observe(seconds);
		}
	}

	/// Runs one inference in this process, whatever the configuration: the child's side of
	/// an isolated executor.
	pub fn infer_here(
		&self,
		request: &InferRequest,
		deadline: Option<Instant>,
	) -> Result<InferResponse> {
		let started = Instant::now();
		let model = parse_hash(&request.model)?;
		let backend = self.backend(request.engine, request.engine_version.as_deref())?;
		let input_bytes: u64 = request.inputs.iter().map(JsonTensor::wire_size).sum();
		if input_bytes > self.config.max_input_bytes {
			return Err(Error::InputTooLarge {
				size: input_bytes,
				limit: self.config.max_input_bytes,
			});
		}
		for input in &request.inputs {
			input.check()?;
		}
		if let Some(schema) = &request.schema {
			if schema.inputs.len() != request.inputs.len() {
				return Err(Error::SchemaMismatch(format!(
					"the schema declares {} input(s), the request has {}",
					schema.inputs.len(),
					request.inputs.len()
				)));
			}
			for (input, spec) in request.inputs.iter().zip(&schema.inputs) {
				input.check_against(spec)?;
			}
			if let Some(spec) =
				schema.outputs.iter().find(|s| !s.elem.accepts_frac_bits(s.frac_bits))
			{
				return Err(Error::SchemaMismatch(format!(
					"output `{}` declares {} fraction bits for {:?}",
					spec.name, spec.frac_bits, spec.elem
				)));
			}
		}
		let output_frac_bits =
			request.output_frac_bits.unwrap_or(self.config.default_output_frac_bits);
		if output_frac_bits > MAX_FRAC_BITS {
			return Err(Error::BadInput(format!(
				"output_frac_bits must be at most {MAX_FRAC_BITS}"
			)));
		}

		let engine = backend.kind();
		let cached = self.cached(model, engine, &request.inputs);
		let cache_hit = cached.is_some();
		let (loaded, load_us) = match cached {
			Some(loaded) => {
				self.metrics.cache_hits.inc();
				if let Some(schema) = &request.schema {
					check_schema_names(&loaded.signature, schema)?;
				}
				(loaded, 0)
			}
			None => {
				self.metrics.cache_misses.inc();
				let load_started = Instant::now();
				let plan: InputPlan =
					request.inputs.iter().map(|t| (t.elem, t.shape.clone())).collect();
				// Only a model that loaded is cached: a failure is reported and retried afresh.
				let loaded = self.load(&model, &plan, backend.as_ref(), request.schema.as_ref())?;
				self.remember(model, engine, plan, loaded.clone());
				(loaded, load_started.elapsed().as_micros() as u64)
			}
		};

		let inference_started = Instant::now();
		let engine_inputs =
			request.inputs.iter().map(JsonTensor::to_engine).collect::<Result<Vec<_>>>()?;
		let engine_outputs =
			guarded("running the model", || loaded.model.run(engine_inputs, deadline))?;
		let ports = &loaded.signature.outputs;
		if engine_outputs.len() != ports.len() {
			return Err(Error::Engine(format!(
				"the engine returned {} output(s), the graph declares {}",
				engine_outputs.len(),
				ports.len()
			)));
		}
		let mut outputs = Vec::with_capacity(ports.len());
		for (index, (tensor, port)) in engine_outputs.iter().zip(ports).enumerate() {
			let frac_bits = match &request.schema {
				Some(schema) => schema.outputs.get(index).map_or(0, |spec| spec.frac_bits),
				None => output_frac_bits,
			};
			let frac_bits = if tensor.values.elem() == ElementType::F32 { frac_bits } else { 0 };
			let output = JsonTensor::from_engine(Some(port.name.clone()), tensor, frac_bits)?;
			if let Some(spec) = request.schema.as_ref().and_then(|schema| schema.outputs.get(index))
			{
				output.check_against(spec)?;
			}
			outputs.push(output);
		}
		let output_hash = converted_output_hash(&outputs)?;
		let finished = Instant::now();
		let inference = finished.duration_since(inference_started);
		self.observe_inference(backend.kind(), inference.as_secs_f64());

		Ok(InferResponse {
			model: hash_hex(&model),
			engine: backend.kind(),
			engine_version: backend.version().to_string(),
			outputs,
			output_hash: hash_hex(&output_hash),
			cache_hit,
			timing: Timing {
				load_us,
				inference_us: inference.as_micros() as u64,
				total_us: finished.duration_since(started).as_micros() as u64,
			},
		})
	}
}

/// The schema must name the graph's tensors, in the graph's order, with the graph's types.
fn check_schema_names(signature: &Signature, schema: &JsonSchema) -> Result<()> {
	let sides = [
		("input", &signature.inputs, &schema.inputs),
		("output", &signature.outputs, &schema.outputs),
	];
	for (side, ports, specs) in sides {
		if ports.len() != specs.len() {
			return Err(Error::SchemaMismatch(format!(
				"the schema declares {} {side}(s), the graph has {}",
				specs.len(),
				ports.len()
			)));
		}
		for (port, spec) in ports.iter().zip(specs.iter()) {
			if port.name != spec.name {
				return Err(Error::SchemaMismatch(format!(
					"{side} `{}` of the schema is `{}` in the graph",
					spec.name, port.name
				)));
			}
			if port.elem != Some(spec.elem) {
				return Err(Error::SchemaMismatch(format!(
					"{side} `{}` is {} in the graph, the schema declares {:?}",
					spec.name, port.onnx_type, spec.elem
				)));
			}
		}
	}
	Ok(())
}
