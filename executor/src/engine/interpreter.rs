//! The integer interpreter (`veritensor-interpreter`): exact semantics, integer-only models,
//! the engine the runtime itself can run.

use super::{Backend, EngineKind, InputPlan, LoadedModel};
use crate::{
	error::{Error, Result},
	tensor::{EngineTensor, Values},
};
use veritensor_interpreter::{ElemType, Error as RunError, Model, Tensor};
use veritensor_primitives::tensor::ElementType;

/// The interpreter's version, as the chain pins it: the interpreter crate's own.
pub const INTERPRETER_VERSION: &str = veritensor_interpreter::VERSION;

/// The interpreter backend. Runs each inference on the calling thread.
#[derive(Default)]
pub struct Interpreter;

struct InterpretedModel {
	model: Model,
}

fn elem_type(elem: ElementType) -> Option<ElemType> {
	Some(match elem {
		ElementType::U8 => ElemType::U8,
		ElementType::I8 => ElemType::I8,
		ElementType::I16 => ElemType::I16,
		ElementType::I32 => ElemType::I32,
		ElementType::I64 => ElemType::I64,
		ElementType::Bool => ElemType::Bool,
		ElementType::F32 => return None,
	})
}

/// Maps the interpreter's refusals and failures to the executor's error kinds.
fn error(error: RunError) -> Error {
	let message = error.to_string();
	match error {
		RunError::Malformed(_) => Error::CorruptModel(message),
		RunError::Unsupported(_)
		| RunError::UnsupportedOp { .. }
		| RunError::FloatTensor(_)
		| RunError::UnsupportedType { .. }
		| RunError::DynamicShape(_)
		| RunError::Node { .. }
		| RunError::UnknownValue(_)
		| RunError::TooLarge => Error::UnsupportedOperator(format!("the interpreter refuses: {message}")),
		RunError::Input { .. } => Error::SchemaMismatch(message),
		// The input's fault, and the same on every retry.
		RunError::DivisionByZero { .. } => Error::BadInput(message),
		RunError::OverBudget { .. } => Error::Engine(message),
	}
}

impl Backend for Interpreter {
	fn kind(&self) -> EngineKind {
		EngineKind::Interpreter
	}

	fn version(&self) -> &str {
		INTERPRETER_VERSION
	}

	fn load(&self, model: &[u8], inputs: &InputPlan) -> Result<Box<dyn LoadedModel>> {
		let model = Model::parse(model).map_err(error)?;
		let declared: Vec<(ElemType, Vec<usize>)> =
			model.inputs().map(|(_, elem, shape)| (elem, shape.to_vec())).collect();
		if declared.len() != inputs.len() {
			return Err(Error::SchemaMismatch(format!(
				"the model takes {} inputs, the request gives {}",
				declared.len(),
				inputs.len()
			)));
		}
		for (index, ((elem, shape), (wanted, wanted_shape))) in
			inputs.iter().zip(&declared).enumerate()
		{
			let elem = elem_type(*elem).ok_or_else(|| {
				Error::UnsupportedOperator(String::from(
					"the interpreter runs integer models only: an F32 input",
				))
			})?;
			let shape: Vec<usize> = shape.iter().map(|dim| *dim as usize).collect();
			if elem != *wanted || shape != *wanted_shape {
				return Err(Error::SchemaMismatch(format!(
					"input {index}: the model declares {wanted:?} {wanted_shape:?}, the request gives {elem:?} {shape:?}"
				)));
			}
		}
		// Outputs of types the wire has no form for are refused before any run.
		if let Some((name, elem, _)) =
			model.outputs().find(|(_, elem, _)| matches!(elem, ElemType::U16 | ElemType::U32))
		{
			return Err(Error::SchemaMismatch(format!(
				"output {name} is {elem:?}, which has no wire type"
			)));
		}
		Ok(Box::new(InterpretedModel { model }))
	}
}

fn to_interpreter(tensor: EngineTensor) -> Result<Tensor> {
	let (elem, data): (ElemType, Vec<i64>) = match tensor.values {
		Values::U8(v) => (ElemType::U8, v.into_iter().map(i64::from).collect()),
		Values::I8(v) => (ElemType::I8, v.into_iter().map(i64::from).collect()),
		Values::I16(v) => (ElemType::I16, v.into_iter().map(i64::from).collect()),
		Values::I32(v) => (ElemType::I32, v.into_iter().map(i64::from).collect()),
		Values::I64(v) => (ElemType::I64, v),
		Values::Bool(v) => (ElemType::Bool, v.into_iter().map(i64::from).collect()),
		Values::F32(_) => {
			return Err(Error::BadInput(String::from("the interpreter takes no F32 input")))
		}
	};
	Tensor::new(elem, tensor.shape, data).map_err(|e| Error::BadInput(e.to_string()))
}

fn from_interpreter(tensor: Tensor) -> Result<EngineTensor> {
	// Every value holds its type (the interpreter wraps each result), so the casts are exact.
	let values = match tensor.elem {
		ElemType::U8 => Values::U8(tensor.data.iter().map(|v| *v as u8).collect()),
		ElemType::I8 => Values::I8(tensor.data.iter().map(|v| *v as i8).collect()),
		ElemType::I16 => Values::I16(tensor.data.iter().map(|v| *v as i16).collect()),
		ElemType::I32 => Values::I32(tensor.data.iter().map(|v| *v as i32).collect()),
		ElemType::I64 => Values::I64(tensor.data),
		ElemType::Bool => Values::Bool(tensor.data.iter().map(|v| *v != 0).collect()),
		other => {
			return Err(Error::SchemaMismatch(format!(
				"an output of type {other:?} has no wire type"
			)))
		}
	};
	Ok(EngineTensor { shape: tensor.shape, values })
}

impl LoadedModel for InterpretedModel {
	fn run(
		&self,
		inputs: Vec<EngineTensor>,
		_deadline: Option<std::time::Instant>,
	) -> Result<Vec<EngineTensor>> {
		let inputs = inputs.into_iter().map(to_interpreter).collect::<Result<Vec<_>>>()?;
		// The executor bounds a run by time; the cost is the model's own, so it always fits.
		let outputs = self.model.run(&inputs, self.model.cost()).map_err(error)?;
		outputs.into_iter().map(from_interpreter).collect()
	}
}
