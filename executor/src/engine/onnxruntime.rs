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
	session::{builder::GraphOptimizationLevel, Session, SessionInputValue},
	value::{DynValue, Tensor, TensorElementType},
};
use std::{
	path::{Path, PathBuf},
	sync::{Mutex, OnceLock, PoisonError},
};

/// The ONNX Runtime backend.
pub struct OnnxRuntime {
	environment: Environment,
	version: String,
	threads: usize,
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
	/// environment already loaded from it.
	pub fn new(library: &Path, threads: usize) -> Result<Self> {
		let environment = shared_environment(library)?;
		let version = release_from_build_info(ort::info()).unwrap_or_else(|| "unknown".into());
		Ok(Self { environment, version, threads: threads.max(1) })
	}
}

fn load_error(error: ort::Error) -> Error {
	let message = error.message().to_string();
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
		let session = session(&self.environment, model, self.threads)?;
		let inputs = session.inputs().len();
		let output_names = session.outputs().iter().map(|o| o.name().to_string()).collect();
		Ok(Box::new(OrtModel { session: Mutex::new(session), inputs, output_names }))
	}
}

/// A session with the options the executor uses everywhere: `threads` intra-op threads, one
/// inter-op thread, every graph optimisation.
pub fn session(environment: &Environment, model: &[u8], threads: usize) -> Result<Session> {
	let options = |e: ort::Error<_>| engine_error("session options", e);
	let mut builder = Session::builder(environment)
		.map_err(load_error)?
		.with_intra_threads(threads.max(1))
		.map_err(options)?
		.with_inter_threads(1)
		.map_err(options)?
		.with_optimization_level(GraphOptimizationLevel::Level3)
		.map_err(options)?;
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
	fn run(&self, inputs: Vec<EngineTensor>) -> Result<Vec<EngineTensor>> {
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
		let mut session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
		let outputs = session.run(&values[..]).map_err(|e| engine_error("run", e))?;
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

#[cfg(test)]
mod tests {
	use super::release_from_build_info;

	#[test]
	fn release_is_read_from_the_build_string() {
		assert_eq!(
			release_from_build_info("ORT Build Info: git-branch=rel-1.31.1, git-commit-id=abc"),
			Some("1.31.1".into())
		);
		assert_eq!(release_from_build_info("ORT Build Info: git-branch=main"), None);
	}
}
