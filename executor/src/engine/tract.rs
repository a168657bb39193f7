//! tract: pure Rust, nothing to install, the default engine.

use super::{Backend, EngineKind, InputPlan, LoadedModel};
use crate::{
	error::{Error, Result},
	tensor::{EngineTensor, Values},
};
use std::sync::Arc;
use tract_onnx::{prelude::*, tract_hir::internal::InferenceFact};
use veritensor_primitives::tensor::ElementType;

/// The version of tract this executor is built with, as `Cargo.lock` resolved it (read by the
/// build script), so that models pinned to a tract version are matched against the engine that
/// really runs.
pub const TRACT_VERSION: &str = env!("VERITENSOR_TRACT_VERSION");

/// The tract backend. Runs each inference on the calling thread.
#[derive(Default)]
pub struct Tract;

struct TractModel {
	plan: Arc<TypedRunnableModel>,
}

fn datum_type(elem: ElementType) -> DatumType {
	match elem {
		ElementType::F32 => f32::datum_type(),
		ElementType::U8 => u8::datum_type(),
		ElementType::I8 => i8::datum_type(),
		ElementType::I16 => i16::datum_type(),
		ElementType::I32 => i32::datum_type(),
		ElementType::I64 => i64::datum_type(),
		ElementType::Bool => bool::datum_type(),
	}
}

/// Names of operators the ONNX loader did not recognise: tract keeps them as placeholders that
/// only fail later, with a less helpful message.
fn unimplemented_ops(model: &InferenceModel) -> Vec<String> {
	let mut names: Vec<String> = model
		.nodes()
		.iter()
		.filter_map(|node| {
			let name = node.op.as_op().name().to_string();
			name.strip_prefix("Unimplemented(")
				.and_then(|rest| rest.strip_suffix(')'))
				.map(str::to_string)
		})
		.collect();
	names.sort();
	names.dedup();
	names
}

impl Backend for Tract {
	fn kind(&self) -> EngineKind {
		EngineKind::Tract
	}

	fn version(&self) -> &str {
		TRACT_VERSION
	}

	fn load(&self, model: &[u8], inputs: &InputPlan) -> Result<Box<dyn LoadedModel>> {
		let onnx = tract_onnx::onnx();
		let proto = onnx
			.proto_model_for_read(&mut &model[..])
			.map_err(|e| Error::CorruptModel(format!("{e:#}")))?;
		let mut graph = onnx
			.model_for_proto_model(&proto)
			.map_err(|e| Error::CorruptModel(format!("{e:#}")))?;
		let missing = unimplemented_ops(&graph);
		if !missing.is_empty() {
			return Err(Error::UnsupportedOperator(format!(
				"tract {TRACT_VERSION} does not implement {}",
				missing.join(", ")
			)));
		}
		for (index, (elem, shape)) in inputs.iter().enumerate() {
			let shape: Vec<usize> = shape.iter().map(|d| *d as usize).collect();
			graph
				.set_input_fact(index, InferenceFact::dt_shape(datum_type(*elem), shape))
				.map_err(|e| Error::SchemaMismatch(format!("input {index}: {e:#}")))?;
		}
		let plan = graph
			.into_optimized()
			.and_then(|typed| typed.into_runnable())
			.map_err(|e| Error::Engine(format!("tract could not prepare the model: {e:#}")))?;
		Ok(Box::new(TractModel { plan }))
	}
}

fn to_tract(tensor: EngineTensor) -> TractResult<TValue> {
	let shape = &tensor.shape;
	let tensor = match &tensor.values {
		Values::F32(v) => Tensor::from_shape(shape, v)?,
		Values::U8(v) => Tensor::from_shape(shape, v)?,
		Values::I8(v) => Tensor::from_shape(shape, v)?,
		Values::I16(v) => Tensor::from_shape(shape, v)?,
		Values::I32(v) => Tensor::from_shape(shape, v)?,
		Values::I64(v) => Tensor::from_shape(shape, v)?,
		Values::Bool(v) => Tensor::from_shape(shape, v)?,
	};
	Ok(tensor.into_tvalue())
}

fn collect<T: Datum + Copy>(tensor: &Tensor) -> Result<Vec<T>> {
	tensor
		.to_plain_array_view::<T>()
		.map(|view| view.iter().copied().collect())
		.map_err(|e| Error::Engine(format!("reading an output: {e:#}")))
}

fn from_tract(tensor: &Tensor) -> Result<EngineTensor> {
	let dt = tensor.datum_type();
	let values = if dt == f32::datum_type() {
		Values::F32(collect(tensor)?)
	} else if dt == f64::datum_type() {
		Values::F32(collect::<f64>(tensor)?.into_iter().map(|x| x as f32).collect())
	} else if dt == u8::datum_type() {
		Values::U8(collect(tensor)?)
	} else if dt == i8::datum_type() {
		Values::I8(collect(tensor)?)
	} else if dt == i16::datum_type() {
		Values::I16(collect(tensor)?)
	} else if dt == i32::datum_type() {
		Values::I32(collect(tensor)?)
	} else if dt == i64::datum_type() {
		Values::I64(collect(tensor)?)
	} else if dt == TDim::datum_type() {
		// tract folds integer arithmetic it can prove about into symbolic dimensions; the
		// graph declared int64, and concrete dimensions convert exactly.
		let concrete = tensor
			.cast_to::<i64>()
			.map_err(|e| Error::Engine(format!("an integer output is still symbolic: {e:#}")))?;
		Values::I64(collect(&concrete)?)
	} else if dt == bool::datum_type() {
		Values::Bool(collect(tensor)?)
	} else {
		return Err(Error::SchemaMismatch(format!("an output of type {dt:?} has no wire type")));
	};
	Ok(EngineTensor { shape: tensor.shape().to_vec(), values })
}

impl LoadedModel for TractModel {
	fn run(
		&self,
		inputs: Vec<EngineTensor>,
		_deadline: Option<std::time::Instant>,
	) -> Result<Vec<EngineTensor>> {
		let inputs = inputs
			.into_iter()
			.map(to_tract)
			.collect::<TractResult<TVec<_>>>()
			.map_err(|e| Error::BadInput(format!("{e:#}")))?;
		let outputs = self.plan.run(inputs).map_err(|e| Error::Engine(format!("{e:#}")))?;
		outputs.iter().map(|value| from_tract(value)).collect()
	}
}
