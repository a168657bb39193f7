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
	refuse_external_data(model, &proto)?;
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

/// The model's local functions (`ModelProto.functions`, field 25), which the engine's own
/// message type skips.
#[derive(Clone, PartialEq, prost::Message)]
struct LocalFunctions {
	#[prost(message, repeated, tag = "25")]
	functions: Vec<LocalFunction>,
}

/// What of a `FunctionProto` can hold a tensor: its nodes (field 7) and the default values of
/// its attributes (field 11, which the engine's own message type skips).
#[derive(Clone, PartialEq, prost::Message)]
struct LocalFunction {
	#[prost(message, repeated, tag = "7")]
	node: Vec<pb::NodeProto>,
	#[prost(message, repeated, tag = "11")]
	attribute_proto: Vec<pb::AttributeProto>,
}

/// Refuses a model with a tensor whose data lives in another file. Such a tensor names a path
/// that an engine would open relative to where it runs: a model could read a worker's files
/// into its outputs. Every place a tensor can sit is checked: initializers, sparse
/// initializers, attributes, subgraphs, training graphs, and local functions' nodes and
/// attribute defaults.
fn refuse_external_data(bytes: &[u8], model: &pb::ModelProto) -> Result<()> {
	let functions = <LocalFunctions as prost::Message>::decode(bytes)
		.map_err(|e| Error::CorruptModel(format!("not a readable ONNX protobuf ({e})")))?;
	let mut graphs: Vec<&pb::GraphProto> = model.graph.iter().collect();
	graphs.extend(
		model.training_info.iter().flat_map(|t| [&t.initialization, &t.algorithm]).flatten(),
	);
	let mut nodes: Vec<&pb::NodeProto> =
		functions.functions.iter().flat_map(|f| f.node.iter()).collect();
	let mut attributes: Vec<&pb::AttributeProto> =
		functions.functions.iter().flat_map(|f| f.attribute_proto.iter()).collect();
	let mut tensors: Vec<&pb::TensorProto> = Vec::new();
	fn sparse(tensor: &pb::SparseTensorProto) -> [&Option<pb::TensorProto>; 2] {
		[&tensor.values, &tensor.indices]
	}
	loop {
		if let Some(graph) = graphs.pop() {
			tensors.extend(&graph.initializer);
			tensors.extend(graph.sparse_initializer.iter().flat_map(sparse).flatten());
			nodes.extend(&graph.node);
		} else if let Some(node) = nodes.pop() {
			attributes.extend(&node.attribute);
		} else if let Some(attribute) = attributes.pop() {
			tensors.extend(&attribute.t);
			tensors.extend(&attribute.tensors);
			tensors.extend(attribute.sparse_tensor.iter().flat_map(sparse).flatten());
			tensors.extend(attribute.sparse_tensors.iter().flat_map(sparse).flatten());
			graphs.extend(&attribute.g);
			graphs.extend(&attribute.graphs);
		} else {
			break;
		}
		if let Some(tensor) = tensors.iter().find(|t| {
			t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
				|| !t.external_data.is_empty()
		}) {
			return Err(Error::CorruptModel(format!(
				"tensor `{}` keeps its data in an external file; only self-contained models \
				 are accepted",
				tensor.name
			)));
		}
		tensors.clear();
	}
	Ok(())
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

#[cfg(test)]
mod tests {
	use super::*;
	use prost::Message;

	fn external_tensor(name: &str) -> pb::TensorProto {
		pb::TensorProto {
			name: name.into(),
			dims: vec![4],
			data_type: 1,
			data_location: Some(pb::tensor_proto::DataLocation::External as i32),
			external_data: vec![pb::StringStringEntryProto {
				key: "location".into(),
				value: "../../../etc/passwd".into(),
			}],
			..Default::default()
		}
	}

	fn identity(input: &str, output: &str) -> pb::NodeProto {
		pb::NodeProto {
			input: vec![input.into()],
			output: vec![output.into()],
			op_type: "Identity".into(),
			..Default::default()
		}
	}

	fn model(graph: pb::GraphProto) -> pb::ModelProto {
		pb::ModelProto {
			ir_version: 8,
			opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 17 }],
			graph: Some(graph),
			..Default::default()
		}
	}

	fn plain_graph() -> pb::GraphProto {
		let port = |name: &str| pb::ValueInfoProto { name: name.into(), ..Default::default() };
		pb::GraphProto {
			node: vec![identity("x", "y")],
			input: vec![port("x")],
			output: vec![port("y")],
			..Default::default()
		}
	}

	fn refused(bytes: &[u8]) -> bool {
		matches!(read_signature(bytes), Err(Error::CorruptModel(why)) if why.contains("external file"))
	}

	#[test]
	fn a_tensor_kept_in_another_file_is_refused_wherever_it_sits() {
		assert!(read_signature(&model(plain_graph()).encode_to_vec()).is_ok());

		let mut initializer = plain_graph();
		initializer.initializer.push(external_tensor("w"));
		assert!(refused(&model(initializer).encode_to_vec()), "an initializer");

		let mut only_entries = plain_graph();
		only_entries
			.initializer
			.push(pb::TensorProto { data_location: None, ..external_tensor("w") });
		assert!(refused(&model(only_entries).encode_to_vec()), "external_data without location");

		let constant = |tensor: pb::TensorProto| pb::NodeProto {
			output: vec!["c".into()],
			op_type: "Constant".into(),
			attribute: vec![pb::AttributeProto {
				name: "value".into(),
				t: Some(tensor),
				..Default::default()
			}],
			..Default::default()
		};
		let mut in_constant = plain_graph();
		in_constant.node.push(constant(external_tensor("c")));
		assert!(refused(&model(in_constant).encode_to_vec()), "a Constant's attribute");

		// Inside the else branch of an If, two graphs down.
		let mut branch = plain_graph();
		branch.node.push(constant(external_tensor("deep")));
		let mut outer = plain_graph();
		outer.node.push(pb::NodeProto {
			op_type: "If".into(),
			attribute: vec![pb::AttributeProto {
				name: "else_branch".into(),
				g: Some(branch),
				..Default::default()
			}],
			..Default::default()
		});
		assert!(refused(&model(outer).encode_to_vec()), "a subgraph");

		let mut sparse = plain_graph();
		sparse.sparse_initializer.push(pb::SparseTensorProto {
			values: Some(external_tensor("values")),
			..Default::default()
		});
		assert!(refused(&model(sparse).encode_to_vec()), "a sparse initializer");

		// A local function, which the engine's own message type does not even read: in a node,
		// or as an attribute's default value.
		for function in [
			LocalFunction {
				node: vec![constant(external_tensor("in_function"))],
				..Default::default()
			},
			LocalFunction {
				attribute_proto: vec![pb::AttributeProto {
					name: "value".into(),
					t: Some(external_tensor("default")),
					..Default::default()
				}],
				..Default::default()
			},
		] {
			let mut bytes = model(plain_graph()).encode_to_vec();
			bytes.extend(LocalFunctions { functions: vec![function] }.encode_to_vec());
			assert!(refused(&bytes), "a local function");
		}
		// A self-contained local function is fine.
		let mut bytes = model(plain_graph()).encode_to_vec();
		let function = LocalFunction { node: vec![identity("a", "b")], ..Default::default() };
		bytes.extend(LocalFunctions { functions: vec![function] }.encode_to_vec());
		assert!(read_signature(&bytes).is_ok());
	}
}
