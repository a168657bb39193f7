//! The three engines behind one small interface: callers load a model once and run it many
//! times without knowing which engine does the work.

mod interpreter;
mod onnxruntime;
mod tract;

pub use self::interpreter::{Interpreter, INTERPRETER_VERSION};
pub use self::onnxruntime::{
	session as onnxruntime_session, shared_environment, OnnxRuntime,
	Provider as OnnxRuntimeProvider,
};
pub use self::tract::Tract;

use crate::{error::Result, tensor::EngineTensor};
use serde::{Deserialize, Serialize};
use std::time::Instant;
use veritensor_primitives::{model::Engine, tensor::ElementType};

/// The engines the executor can run, by their JSON names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
	/// tract, pure Rust.
	Tract,
	/// ONNX Runtime, loaded from a shared library.
	OnnxRuntime,
	/// The exact integer interpreter: integer-only models, the engine the runtime can run.
	Interpreter,
}

impl EngineKind {
	/// The chain's name for the engine.
	pub fn to_chain(self) -> Engine {
		match self {
			Self::Tract => Engine::Tract,
			Self::OnnxRuntime => Engine::OnnxRuntime,
			Self::Interpreter => Engine::Interpreter,
		}
	}

	/// The engine the chain names.
	pub fn from_chain(engine: Engine) -> Self {
		match engine {
			Engine::Tract => Self::Tract,
			Engine::OnnxRuntime => Self::OnnxRuntime,
			Engine::Interpreter => Self::Interpreter,
		}
	}

	/// The JSON and command-line name: the chain's [`Engine::api_name`], which the off-chain
	/// worker puts in requests for pinned models.
	pub fn name(self) -> &'static str {
		self.to_chain().api_name()
	}
}

impl core::str::FromStr for EngineKind {
	type Err = String;
	fn from_str(s: &str) -> Result<Self, String> {
		match s {
			"tract" => Ok(Self::Tract),
			"onnxruntime" | "ort" => Ok(Self::OnnxRuntime),
			"interpreter" => Ok(Self::Interpreter),
			other => Err(format!("unknown engine `{other}` (tract, onnxruntime or interpreter)")),
		}
	}
}

/// What a model is loaded for: the element type and concrete shape of every input, in graph
/// order. Engines fix symbolic dimensions to these shapes.
pub type InputPlan = [(ElementType, Vec<u32>)];

/// An engine that turns ONNX bytes into runnable models.
pub trait Backend: Send + Sync {
	/// Which engine this is.
	fn kind(&self) -> EngineKind;
	/// The engine's version (the crate version for tract, the library version for ONNX Runtime).
	fn version(&self) -> &str;
	/// Prepares a model for repeated runs with inputs of the given types and shapes.
	fn load(&self, model: &[u8], inputs: &InputPlan) -> Result<Box<dyn LoadedModel>>;
}

/// A model ready to run.
pub trait LoadedModel: Send + Sync {
	/// Runs the model on inputs in graph order; outputs come in graph order. Engines that can
	/// stop a run stop it at `deadline` with a timeout; the others leave that to the process
	/// that supervises them.
	fn run(
		&self,
		inputs: Vec<EngineTensor>,
		deadline: Option<Instant>,
	) -> Result<Vec<EngineTensor>>;
}
