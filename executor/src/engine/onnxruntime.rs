//! ONNX Runtime through `ort`, loaded at run time from the `libonnxruntime.so` the PyPI wheel
//! ships: production speed without a C++ build.

use super::{Backend, EngineKind, InputPlan, LoadedModel};
use crate::{
	error::{Error, Result},
	tensor::{EngineTensor, Values},
};
use ort::{
	environment::Environment,
	error::ErrorCode,
	session::{builder::GraphOptimizationLevel, RunOptions, Session, SessionInputValue},
	value::{DynValue, Tensor, TensorElementType},
};
use std::{
	collections::BTreeMap,
	path::{Path, PathBuf},
	sync::{
		atomic::{AtomicU64, Ordering},
		Arc, Condvar, Mutex, OnceLock, PoisonError,
	},
	time::Instant,
};

/// The ONNX Runtime backend.
pub struct OnnxRuntime {
	environment: Environment,
	version: String,
	threads: usize,
	provider: Provider,
}

/// Where ONNX Runtime runs models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
	/// The CPU, with any build of the library.
	#[default]
	Cpu,
	/// An NVIDIA GPU through the CUDA execution provider: needs a GPU build of the library
	/// (the `onnxruntime-gpu` wheel), CUDA and cuDNN. Never falls back to the CPU.
	Cuda,
}

impl Provider {
	/// Its name on the command line.
	pub fn name(self) -> &'static str {
		match self {
			Self::Cpu => "cpu",
			Self::Cuda => "cuda",
		}
	}
}

impl core::str::FromStr for Provider {
	type Err = String;
	fn from_str(text: &str) -> core::result::Result<Self, String> {
		match text {
			"cpu" => Ok(Self::Cpu),
			"cuda" => Ok(Self::Cuda),
			other => Err(format!("`{other}` is not an ONNX Runtime provider (cpu, cuda)")),
		}
	}
}

/// A session. ONNX Runtime sessions are not safe to run from two threads at once, so runs on
/// one loaded model take turns; different models run in parallel.
struct OrtModel {
	session: Mutex<Session>,
	inputs: usize,
	output_names: Vec<String>,
}

fn engine_error(context: &str, error: impl core::fmt::Display) -> Error {
	Error::Engine(format!("onnxruntime {context}: {error}"))
}

/// The release in the library's build string (`git-branch=rel-1.31.1, …`).
fn release_from_build_info(info: &str) -> Option<String> {
	let start = info.find("git-branch=rel-")? + "git-branch=rel-".len();
	let rest = &info[start..];
	let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
	(end > 0).then(|| rest[..end].to_string())
}

/// ONNX Runtime allows one environment per process: every executor (and the benchmark's bare
/// sessions) shares the first one, with the library it was loaded from.
static ENVIRONMENT: OnceLock<core::result::Result<(Environment, PathBuf), String>> =
	OnceLock::new();

/// The process's ONNX Runtime environment, loading `library` if none is loaded yet. A process
/// keeps the first library it loads; asking for another one afterwards is an error.
pub fn shared_environment(library: &Path) -> Result<Environment> {
	if !library.is_file() {
		return Err(Error::EngineUnavailable(format!(
			"onnxruntime: no library at {} (scripts/setup-onnxruntime.sh installs one)",
			library.display()
		)));
	}
	let loaded = ENVIRONMENT.get_or_init(|| {
		let environment = ort::init_from(library)
			.map_err(|e| e.to_string())?
			.with_name("veritensor-executor")
			.build()
			.map_err(|e| e.to_string())?;
		Ok((environment, library.to_path_buf()))
	});
	let (environment, loaded_from) =
		loaded.as_ref().map_err(|e| Error::EngineUnavailable(format!("onnxruntime: {e}")))?;
	let same = |p: &Path| p.canonicalize().ok();
	if same(loaded_from) != same(library) {
		return Err(Error::EngineUnavailable(format!(
			"onnxruntime: this process already loaded {}, it cannot also load {}",
			loaded_from.display(),
			library.display()
		)));
	}
	Ok(environment.clone())
}

impl OnnxRuntime {
	/// Loads ONNX Runtime from `library` (a path to `libonnxruntime.so.*`), or shares the
	/// environment already loaded from it, to run models on `provider`.
	///
	/// The provider is part of the version (`1.31.1+cuda`): a GPU's kernels round differently
	/// from the CPU's, so a model pinned to an exact engine version is never answered by the
	/// other, and a quorum compares like with like. Fails with `engine_unavailable` if the
	/// library lacks the provider.
	pub fn new(library: &Path, threads: usize, provider: Provider) -> Result<Self> {
		let environment = shared_environment(library)?;
		let release = release_from_build_info(ort::info()).unwrap_or_else(|| "unknown".into());
		let version = match provider {
			Provider::Cpu => release,
			Provider::Cuda => {
				use ort::ep::ExecutionProvider;
				let available = ort::ep::CUDA::is_available().map_err(|e| {
					Error::EngineUnavailable(format!("onnxruntime: listing its providers: {e}"))
				})?;
				if !available {
					return Err(Error::EngineUnavailable(format!(
						"onnxruntime: the library at {} has no CUDA execution provider; give \
						 a GPU build (the onnxruntime-gpu wheel, with CUDA and cuDNN installed) \
						 or run on the CPU",
						library.display()
					)));
				}
				format!("{release}+cuda")
			}
		};
		Ok(Self { environment, version, threads: threads.max(1), provider })
	}
}

fn load_error(error: ort::Error) -> Error {
	let message = error.message().to_string();
	if allocation_failed(&message) {
		return Error::ResourceExhausted(format!("onnxruntime could not allocate: {message}"));
	}
	let unsupported =
		["No Op registered", "not a registered function/op", "Could not find an implementation"];
	if unsupported.iter().any(|needle| message.contains(needle)) {
		return Error::UnsupportedOperator(format!("onnxruntime: {message}"));
	}
	match error.code() {
		ErrorCode::InvalidProtobuf | ErrorCode::NoModel => Error::CorruptModel(message),
		ErrorCode::InvalidGraph => Error::CorruptModel(format!("invalid graph: {message}")),
		ErrorCode::NotImplemented => Error::UnsupportedOperator(format!("onnxruntime: {message}")),
		_ => engine_error("could not load the model", message),
	}
}

impl Backend for OnnxRuntime {
	fn kind(&self) -> EngineKind {
		EngineKind::OnnxRuntime
	}

	fn version(&self) -> &str {
		&self.version
	}

	fn load(&self, model: &[u8], _inputs: &InputPlan) -> Result<Box<dyn LoadedModel>> {
		let session = session_on(&self.environment, model, self.threads, self.provider)?;
		let inputs = session.inputs().len();
		let output_names = session.outputs().iter().map(|o| o.name().to_string()).collect();
		Ok(Box::new(OrtModel { session: Mutex::new(session), inputs, output_names }))
	}
}

/// Whether ONNX Runtime failed for want of memory (`std::bad_alloc` under the memory limit of
/// an isolated executor's child, which it catches and reports). Only the status message at the
/// end is read, and only in the exact forms ONNX Runtime gives it: the text before it names the
/// graph's nodes, which the model's author chose, and text the author chose is always followed
/// by ONNX Runtime's own.
fn allocation_failed(message: &str) -> bool {
	let status = message.rsplit("Status Message: ").next().unwrap_or(message).trim();
	let status = ["Exception during initialization: ", "Exception during loading: "]
		.iter()
		.find_map(|wrapper| status.strip_prefix(wrapper))
		.unwrap_or(status);
	if status == "std::bad_alloc" {
		return true;
	}
	// `…/core/framework/bfc_arena.cc:360 void* …AllocateRawInternal(…) Failed to allocate
	// memory for requested buffer of size 8589934592`, from the arena or the plain allocator.
	let location = status.split_whitespace().next().unwrap_or_default();
	let allocator = ["/core/framework/bfc_arena.cc:", "/core/framework/allocator.cc:"]
		.iter()
		.any(|file| location.contains(file));
	let size = status.rsplit_once("of size ").map(|(_, size)| size);
	allocator
		&& status.contains("Failed to allocate memory")
		&& size.is_some_and(|size| !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()))
}

/// A failed run; a failed allocation is the memory limit, not a fault of the engine.
fn run_error(error: ort::Error) -> Error {
	let message = error.to_string();
	if allocation_failed(&message) {
		return Error::ResourceExhausted(format!("onnxruntime could not allocate: {message}"));
	}
	engine_error("run", message)
}

/// A session with the options the executor uses everywhere: `threads` intra-op threads, one
/// inter-op thread, every graph optimisation.
pub fn session(environment: &Environment, model: &[u8], threads: usize) -> Result<Session> {
	session_on(environment, model, threads, Provider::Cpu)
}

fn session_on(
	environment: &Environment,
	model: &[u8],
	threads: usize,
	provider: Provider,
) -> Result<Session> {
	let options = |e: ort::Error<_>| engine_error("session options", e);
	let mut builder = Session::builder(environment)
		.map_err(load_error)?
		.with_intra_threads(threads.max(1))
		.map_err(options)?
		.with_inter_threads(1)
		.map_err(options)?
		.with_optimization_level(GraphOptimizationLevel::Level3)
		.map_err(options)?;
	if provider == Provider::Cuda {
		let cuda = |e: ort::Error<_>| {
			Error::EngineUnavailable(format!("onnxruntime: the CUDA provider: {e}"))
		};
		// Repeatable rather than fastest: the algorithm cuDNN's default picks, not the one an
		// exhaustive search times fastest on this run; no TF32; deterministic kernels; and a
		// graph the GPU cannot take whole fails instead of running partly on the CPU.
		let provider = ort::ep::CUDA::default()
			.with_conv_algorithm_search(ort::ep::cuda::ConvAlgorithmSearch::Default)
			.with_tf32(false)
			.build()
			.error_on_failure();
		builder = builder
			.with_execution_providers([provider])
			.map_err(cuda)?
			.with_deterministic_compute(true)
			.map_err(cuda)?
			.with_disable_cpu_fallback()
			.map_err(cuda)?;
	}
	builder.commit_from_memory(model).map_err(load_error)
}

fn to_ort(tensor: EngineTensor) -> ort::Result<DynValue> {
	let EngineTensor { shape, values } = tensor;
	Ok(match values {
		Values::F32(v) => Tensor::from_array((shape, v))?.into_dyn(),
		Values::U8(v) => Tensor::from_array((shape, v))?.into_dyn(),
		Values::I8(v) => Tensor::from_array((shape, v))?.into_dyn(),
		Values::I16(v) => Tensor::from_array((shape, v))?.into_dyn(),
		Values::I32(v) => Tensor::from_array((shape, v))?.into_dyn(),
		Values::I64(v) => Tensor::from_array((shape, v))?.into_dyn(),
		Values::Bool(v) => Tensor::from_array((shape, v))?.into_dyn(),
	})
}

fn data<T: ort::value::PrimitiveTensorElementType + Copy>(value: &DynValue) -> ort::Result<Vec<T>> {
	Ok(value.try_extract_tensor::<T>()?.1.to_vec())
}

fn from_ort(name: &str, value: &DynValue) -> Result<EngineTensor> {
	let fail = |e: ort::Error| engine_error("reading an output", e);
	let dtype = value.dtype();
	let shape = dtype
		.tensor_shape()
		.map(|shape| shape.iter().map(|d| *d as usize).collect())
		.ok_or_else(|| Error::SchemaMismatch(format!("output `{name}` is not a tensor")))?;
	let values = match dtype.tensor_type() {
		Some(TensorElementType::Float32) => Values::F32(data(value).map_err(fail)?),
		Some(TensorElementType::Float64) => {
			Values::F32(data::<f64>(value).map_err(fail)?.into_iter().map(|x| x as f32).collect())
		}
		Some(TensorElementType::Uint8) => Values::U8(data(value).map_err(fail)?),
		Some(TensorElementType::Int8) => Values::I8(data(value).map_err(fail)?),
		Some(TensorElementType::Int16) => Values::I16(data(value).map_err(fail)?),
		Some(TensorElementType::Int32) => Values::I32(data(value).map_err(fail)?),
		Some(TensorElementType::Int64) => Values::I64(data(value).map_err(fail)?),
		Some(TensorElementType::Bool) => Values::Bool(data(value).map_err(fail)?),
		other => {
			return Err(Error::SchemaMismatch(format!(
				"output `{name}` of type {other:?} has no wire type"
			)))
		}
	};
	Ok(EngineTensor { shape, values })
}

impl LoadedModel for OrtModel {
	fn run(
		&self,
		inputs: Vec<EngineTensor>,
		deadline: Option<Instant>,
	) -> Result<Vec<EngineTensor>> {
		if inputs.len() != self.inputs {
			return Err(Error::SchemaMismatch(format!(
				"the model takes {} input(s), got {}",
				self.inputs,
				inputs.len()
			)));
		}
		// Inputs go by position, in graph order, which spares a lookup by name per input.
		let values = inputs
			.into_iter()
			.map(|tensor| to_ort(tensor).map(SessionInputValue::from))
			.collect::<ort::Result<Vec<_>>>()
			.map_err(|e| Error::BadInput(format!("onnxruntime: {e}")))?;
		// A run with a deadline carries options the watchdog can terminate it through; they
		// outlive the outputs, which borrow them.
		let options = deadline
			.map(|_| RunOptions::new().map(Arc::new))
			.transpose()
			.map_err(|e| engine_error("run options", e))?;
		let _watched = deadline.zip(options.clone()).map(|(at, o)| watchdog().watch(at, o));
		let started = Instant::now();
		let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
		let outputs = match (&options, deadline) {
			(Some(options), Some(deadline)) => {
				session.run_with_options(&values[..], &**options).map_err(|e| {
					if Instant::now() >= deadline {
						Error::Timeout(started.elapsed().as_millis() as u64)
					} else {
						run_error(e)
					}
				})?
			}
			_ => session.run(&values[..]).map_err(run_error)?,
		};
		if outputs.len() != self.output_names.len() {
			return Err(engine_error("run", "an output is missing"));
		}
		self.output_names
			.iter()
			.enumerate()
			.map(|(index, name)| from_ort(name, &outputs[index]))
			.collect()
	}
}

/// Terminates runs that pass their deadline: one thread for the process, which sleeps until the
/// earliest deadline of the runs it watches.
struct Watchdog {
	runs: Mutex<BTreeMap<u64, (Instant, Arc<RunOptions>)>>,
	changed: Condvar,
	next: AtomicU64,
}

/// A run being watched; no longer watched once dropped.
struct Watched(u64);

impl Drop for Watched {
	fn drop(&mut self) {
		watchdog().runs.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.0);
	}
}

fn watchdog() -> &'static Watchdog {
	static WATCHDOG: OnceLock<Watchdog> = OnceLock::new();
	WATCHDOG.get_or_init(|| {
		let spawned = std::thread::Builder::new()
			.name("onnxruntime-watchdog".into())
			.spawn(|| watchdog().patrol());
		if let Err(error) = spawned {
			log::warn!("onnxruntime: no watchdog thread, runs will not stop at deadlines: {error}");
		}
		Watchdog {
			runs: Mutex::new(BTreeMap::new()),
			changed: Condvar::new(),
			next: AtomicU64::new(0),
		}
	})
}

impl Watchdog {
	fn watch(&self, deadline: Instant, options: Arc<RunOptions>) -> Watched {
		let id = self.next.fetch_add(1, Ordering::Relaxed);
		self.runs.lock().unwrap_or_else(PoisonError::into_inner).insert(id, (deadline, options));
		self.changed.notify_one();
		Watched(id)
	}

	fn patrol(&self) {
		let mut runs = self.runs.lock().unwrap_or_else(PoisonError::into_inner);
		loop {
			let now = Instant::now();
			runs.retain(|_, (deadline, options)| {
				let late = *deadline <= now;
				if late {
					let _ = options.terminate();
				}
				!late
			});
			let earliest = runs.values().map(|(deadline, _)| *deadline).min();
			runs = match earliest {
				None => self.changed.wait(runs).unwrap_or_else(PoisonError::into_inner),
				Some(earliest) => {
					self.changed
						.wait_timeout(runs, earliest.saturating_duration_since(now))
						.unwrap_or_else(PoisonError::into_inner)
						.0
				}
			};
		}
	}
}

#[cfg(test)]
mod tests {
	use super::{allocation_failed, release_from_build_info};

	#[test]
	fn only_the_status_message_tells_a_failed_allocation() {
		let real = "Non-zero status code returned while running Range node. Name:'' Status \
			Message: /onnxruntime_src/onnxruntime/core/framework/bfc_arena.cc:360 void* \
			onnxruntime::BFCArena::AllocateRawInternal(size_t, bool, onnxruntime::Stream*) Failed \
			to allocate memory for requested buffer of size 8589934592";
		assert!(allocation_failed(real));
		// A node named to look like one, failing for another reason.
		let forged = "Non-zero status code returned while running Reshape node. Name:'Status \
			Message: Failed to allocate memory for requested buffer' Status Message: \
			/onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:47 The \
			input tensor cannot be reshaped to the requested shape";
		assert!(!allocation_failed(forged));
		// A graph error naming a node, with the allocator's words in the name.
		let named = "Node (a Status Message: /core/framework/bfc_arena.cc:1 Failed to allocate \
			memory for requested buffer of size 1) Op (Add) [ShapeInferenceError] Incompatible \
			dimensions";
		assert!(!allocation_failed(named));
		assert!(allocation_failed("Non-zero status code returned while running Add node. Name:'x' Status Message: std::bad_alloc"));
		assert!(allocation_failed("Exception during initialization: std::bad_alloc"));
	}

	#[test]
	fn release_is_read_from_the_build_string() {
		assert_eq!(
			release_from_build_info("ORT Build Info: git-branch=rel-1.31.1, git-commit-id=abc"),
			Some("1.31.1".into())
		);
		assert_eq!(release_from_build_info("ORT Build Info: git-branch=main"), None);
	}
}
