//! What an ONNX file declares about its inputs and outputs, read without any engine, so that
//! both engines check requests the same way and a corrupt file is caught before either sees it.

use crate::error::{Error, Result};
use serde::Serialize;
use tract_onnx::{
	pb::{self, tensor_shape_proto::dimension, type_proto},
	prelude::Framework,
};
use veritensor_primitives::tensor::ElementType;

/// One dimension as the graph declares it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Dim {
	/// A fixed size.
	Fixed(u64),
	/// A named or unnamed symbolic size, fixed by the request.
	Symbolic(String),
}

/// An input or output of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Port {
	/// Name in the graph.
	pub name: String,
	/// ONNX element type name (`float`, `uint8`, …).
	pub onnx_type: &'static str,
	/// The wire element type, if the ONNX type has one.
	pub elem: Option<ElementType>,
	/// Declared shape; `None` when the graph declares none.
	pub shape: Option<Vec<Dim>>,
}

/// The inputs and outputs of an ONNX graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signature {
	/// Graph inputs that are not initializers, in graph order.
	pub inputs: Vec<Port>,
	/// Graph outputs in graph order.
	pub outputs: Vec<Port>,
	/// The ONNX opsets the model imports, as `domain:version` (`""` is the default domain).
	pub opsets: Vec<String>,
}

fn onnx_type(code: i32) -> (&'static str, Option<ElementType>) {
	match code {
		1 => ("float", Some(ElementType::F32)),
		2 => ("uint8", Some(ElementType::U8)),
		3 => ("int8", Some(ElementType::I8)),
		4 => ("uint16", None),
		5 => ("int16", Some(ElementType::I16)),
		6 => ("int32", Some(ElementType::I32)),
		7 => ("int64", Some(ElementType::I64)),
		8 => ("string", None),
		9 => ("bool", Some(ElementType::Bool)),
		10 => ("float16", None),
		11 => ("double", None),
		12 => ("uint32", None),
		13 => ("uint64", None),
		16 => ("bfloat16", None),
		_ => ("other", None),
	}
}

fn port(info: &pb::ValueInfoProto) -> Port {
	let tensor = match info.r#type.as_ref().and_then(|t| t.value.as_ref()) {
		Some(type_proto::Value::TensorType(tensor)) => Some(tensor),
		_ => None,
	};
	let (onnx_type, elem) = tensor.map_or(("not a tensor", None), |t| onnx_type(t.elem_type));
	let shape = tensor.and_then(|t| t.shape.as_ref()).map(|shape| {
		shape
			.dim
			.iter()
			.map(|dim| match &dim.value {
				Some(dimension::Value::DimValue(size)) if *size > 0 => Dim::Fixed(*size as u64),
				Some(dimension::Value::DimParam(name)) => Dim::Symbolic(name.clone()),
				_ => Dim::Symbolic(String::new()),
			})
			.collect()
	});
	Port { name: info.name.clone(), onnx_type, elem, shape }
}

/// Decodes an ONNX file and reads its signature. Fails with [`Error::CorruptModel`] when the
/// bytes are not an ONNX model with a graph.
pub fn read_signature(model: &[u8]) -> Result<Signature> {
	let proto = tract_onnx::onnx()
		.proto_model_for_read(&mut &model[..])
		.map_err(|e| Error::CorruptModel(format!("not a readable ONNX protobuf ({e})")))?;
	let graph = proto
		.graph
		.as_ref()
		.ok_or_else(|| Error::CorruptModel("the file holds no graph".into()))?;
	if graph.node.is_empty() {
		return Err(Error::CorruptModel("the graph has no nodes".into()));
	}
	let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
	let inputs: Vec<Port> = graph
		.input
		.iter()
		.filter(|input| !initializers.contains(&input.name.as_str()))
		.map(port)
		.collect();
	let outputs: Vec<Port> = graph.output.iter().map(port).collect();
	if inputs.is_empty() || outputs.is_empty() {
		return Err(Error::CorruptModel("the graph declares no inputs or no outputs".into()));
	}
	let opsets = proto.opset_import.iter().map(|o| format!("{}:{}", o.domain, o.version)).collect();
	Ok(Signature { inputs, outputs, opsets })
}

impl Signature {
	/// Checks that `shapes`/`elems` (one per input, in graph order) fit the declared inputs.
	pub fn check_inputs(&self, inputs: &[(ElementType, Vec<u32>)]) -> Result<()> {
		if inputs.len() != self.inputs.len() {
			return Err(Error::SchemaMismatch(format!(
				"the model takes {} input(s), the request has {}",
				self.inputs.len(),
				inputs.len()
			)));
		}
		for (port, (elem, shape)) in self.inputs.iter().zip(inputs) {
			let declared = port.elem.ok_or_else(|| {
				Error::SchemaMismatch(format!(
					"input `{}` is {}, which has no wire type",
					port.name, port.onnx_type
				))
			})?;
			if declared != *elem {
				return Err(Error::SchemaMismatch(format!(
					"input `{}` is {:?} in the model, the request sends {:?}",
					port.name, declared, elem
				)));
			}
			if let Some(dims) = &port.shape {
				let fits = dims.len() == shape.len()
					&& dims.iter().zip(shape).all(|(dim, size)| match dim {
						Dim::Fixed(fixed) => *fixed == u64::from(*size),
						Dim::Symbolic(_) => true,
					});
				if !fits {
					return Err(Error::SchemaMismatch(format!(
						"input `{}` has shape {:?} in the model, the request sends {:?}",
						port.name, dims, shape
					)));
				}
			}
		}
		Ok(())
	}
}
