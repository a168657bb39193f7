//! An ONNX model's graph, read from its protobuf: nodes with their attributes, initializers,
//! and the declared inputs and outputs. Only what the interpreter needs is kept; everything
//! it cannot honour (other operator domains, sparse initializers, subgraphs) is refused.

use crate::{
	proto::{Fields, Value},
	tensor::{read_tensor, read_tensor_value, ElemType, Tensor},
	Error,
};
use alloc::{string::String, vec::Vec};

/// The opset versions whose semantics the interpreter implements for its ops (13: inputs, not
/// attributes, carry `Squeeze`/`Unsqueeze` axes and `Clip` bounds).
pub const OPSETS: core::ops::RangeInclusive<i64> = 13..=21;

/// The most attributes a node may carry: more than any op of the subset takes (`Gemm`, four), so
/// no model the interpreter runs is refused for it. Each attribute is compared with those before
/// it, and without this bound a 64 KiB file of one node with thousands of distinct attributes
/// would cost a quadratic parse before its op refused them.
pub const MAX_NODE_ATTRIBUTES: usize = 8;

/// An attribute of a node.
#[derive(Clone, Debug)]
pub enum Attribute {
	/// An integer.
	Int(i64),
	/// A float, kept as its IEEE 754 bits: the interpreter compares, never computes with it.
	FloatBits(u32),
	/// A tensor.
	Tensor(Tensor),
	/// Anything else (strings, lists, graphs): refused by the op that reads it.
	Other,
}

/// A node of the graph.
#[derive(Clone, Debug)]
pub struct Node {
	/// The node's name, or its op and first output if it has none.
	pub name: String,
	/// The operator.
	pub op: String,
	/// Input value names; an empty name is an omitted optional input.
	pub inputs: Vec<String>,
	/// Output value names.
	pub outputs: Vec<String>,
	/// Attributes by name.
	pub attributes: Vec<(String, Attribute)>,
}

impl Node {
	/// The attribute `name`, if the node has it.
	pub fn attribute(&self, name: &str) -> Option<&Attribute> {
		self.attributes.iter().find(|(key, _)| key == name).map(|(_, value)| value)
	}

	/// The integer attribute `name`, or `default`.
	pub fn int(&self, name: &str, default: i64) -> Result<i64, Error> {
		match self.attribute(name) {
			None => Ok(default),
			Some(Attribute::Int(value)) => Ok(*value),
			Some(_) => Err(self.refuse("an attribute of an unexpected kind")),
		}
	}

	/// An error naming this node.
	pub fn refuse(&self, why: &'static str) -> Error {
		Error::Node { node: self.name.clone(), op: self.op.clone(), why }
	}
}

/// A declared graph input or output: its name, element type and static shape.
#[derive(Clone, Debug)]
pub struct Declared {
	/// The value's name.
	pub name: String,
	/// Its element type.
	pub elem: ElemType,
	/// Its shape.
	pub shape: Vec<usize>,
}

/// A model's graph as the interpreter runs it.
#[derive(Clone, Debug)]
pub struct Graph {
	/// The default domain's opset version.
	pub opset: i64,

	/// Nodes, in the file's order (ONNX requires a topological order).
	pub nodes: Vec<Node>,
	/// Constant tensors by name.
	pub initializers: Vec<(String, Tensor)>,
	/// The inputs a caller provides (declared inputs that are not initializers).
	pub inputs: Vec<Declared>,
	/// The outputs, in order.
	pub outputs: Vec<Declared>,
}

/// Reads a `ModelProto`.
pub fn read_model(bytes: &[u8]) -> Result<Graph, Error> {
	let mut graph = None;
	let mut opset = None;
	for field in Fields::new(bytes) {
		let field = field?;
		match field.number {
			7 => once(&mut graph, field.value.bytes()?)?,
			8 => {
				// Other domains' opsets are harmless unless a node uses them, which is refused.
				let (domain, version) = read_opset(field.value.bytes()?)?;
				if matches!(domain, "" | "ai.onnx") {
					once(&mut opset, version)?;
				}
			}
			_ => {}
		}
	}
	let opset = opset.ok_or(Error::Malformed("a model without the default opset"))?;
	if !OPSETS.contains(&opset) {
		return Err(Error::Unsupported(alloc::format!("opset {opset} (13 to 21 are supported)")));
	}
	let mut graph = read_graph(graph.ok_or(Error::Malformed("a model without a graph"))?)?;
	graph.opset = opset;
	Ok(graph)
}

fn read_opset(message: &[u8]) -> Result<(&str, i64), Error> {
	let (mut domain, mut version) = ("", 0);
	for field in Fields::new(message) {
		let field = field?;
		match field.number {
			1 => domain = field.value.text()?,
			2 => version = field.value.varint()? as i64,
			_ => {}
		}
	}
	Ok((domain, version))
}

fn read_graph(message: &[u8]) -> Result<Graph, Error> {
	let mut nodes = Vec::new();
	let mut initializers = Vec::new();
	let mut declared_inputs = Vec::new();
	let mut outputs = Vec::new();
	for field in Fields::new(message) {
		let field = field?;
		match field.number {
			1 => nodes.push(read_node(field.value.bytes()?)?),
			5 => {
				let named = read_tensor_value(&field.value)?;
				initializers.push((named.name, named.tensor));
			}
			11 => declared_inputs.push(field.value.bytes()?),
			12 => outputs.push(field.value.bytes()?),
			15 => return Err(Error::Unsupported(String::from("sparse initializers"))),
			_ => {}
		}
	}
	let constants: alloc::collections::BTreeSet<&str> =
		initializers.iter().map(|(name, _)| name.as_str()).collect();
	let mut inputs = Vec::new();
	for message in declared_inputs {
		// Older files list initializers among the inputs too: those are not the caller's.
		let name = read_name(message)?;
		if !constants.contains(name.as_str()) {
			inputs.push(read_declared(message)?);
		}
	}
	let outputs = outputs.into_iter().map(read_declared).collect::<Result<_, _>>()?;
	Ok(Graph { opset: 0, nodes, initializers, inputs, outputs })
}

fn read_node(message: &[u8]) -> Result<Node, Error> {
	let mut node = Node {
		name: String::new(),
		op: String::new(),
		inputs: Vec::new(),
		outputs: Vec::new(),
		attributes: Vec::new(),
	};
	for field in Fields::new(message) {
		let field = field?;
		match field.number {
			1 => node.inputs.push(String::from(field.value.text()?)),
			2 => node.outputs.push(String::from(field.value.text()?)),
			3 => node.name = String::from(field.value.text()?),
			4 => node.op = String::from(field.value.text()?),
			5 => {
				if node.attributes.len() == MAX_NODE_ATTRIBUTES {
					return Err(Error::Malformed("a node with more attributes than any op takes"));
				}
				let (name, value) = read_attribute(field.value.bytes()?)?;
				if node.attributes.iter().any(|(known, _)| *known == name) {
					return Err(Error::Malformed("an attribute given twice"));
				}
				node.attributes.push((name, value));
			}
			7 => match field.value.text()? {
				"" | "ai.onnx" => {}
				other => {
					return Err(Error::Unsupported(alloc::format!("operator domain {other:?}")))
				}
			},
			_ => {}
		}
	}
	if node.name.is_empty() {
		node.name = alloc::format!("{} -> {}", node.op, node.outputs.first().map_or("?", |o| o));
	}
	Ok(node)
}

fn read_attribute(message: &[u8]) -> Result<(String, Attribute), Error> {
	let mut name = String::new();
	let mut kind = 0u64;
	let (mut int, mut float_bits, mut tensor) = (None, None, None);
	for field in Fields::new(message) {
		let field = field?;
		match field.number {
			1 => name = String::from(field.value.text()?),
			2 => match field.value {
				Value::Fixed32(bytes) => float_bits = Some(u32::from_le_bytes(bytes)),
				_ => return Err(Error::Malformed("a float attribute of another wire type")),
			},
			3 => int = Some(field.value.varint()? as i64),
			5 => once(&mut tensor, read_tensor(field.value.bytes()?)?.tensor)?,
			20 => kind = field.value.varint()?,
			_ => {}
		}
	}
	// AttributeProto.AttributeType: FLOAT 1, INT 2, TENSOR 4.
	let attribute = match kind {
		1 => Attribute::FloatBits(float_bits.unwrap_or(0)),
		2 => Attribute::Int(int.unwrap_or(0)),
		4 => tensor.map_or(Attribute::Other, Attribute::Tensor),
		_ => Attribute::Other,
	};
	Ok((name, attribute))
}

fn read_name(message: &[u8]) -> Result<String, Error> {
	for field in Fields::new(message) {
		let field = field?;
		if field.number == 1 {
			return Ok(String::from(field.value.text()?));
		}
	}
	Err(Error::Malformed("a graph input or output without a name"))
}

/// Reads a `ValueInfoProto` whose type is a tensor of an integer type with a static shape.
fn read_declared(message: &[u8]) -> Result<Declared, Error> {
	let mut name = String::new();
	let mut type_proto = None;
	for field in Fields::new(message) {
		let field = field?;
		match field.number {
			1 => name = String::from(field.value.text()?),
			2 => once(&mut type_proto, field.value.bytes()?)?,
			_ => {}
		}
	}
	let type_proto = type_proto.ok_or_else(|| Error::DynamicShape(name.clone()))?;
	let mut tensor_type = None;
	for field in Fields::new(type_proto) {
		let field = field?;
		match field.number {
			1 => once(&mut tensor_type, field.value.bytes()?)?,
			// Sequences, maps, optionals, sparse tensors.
			_ => return Err(Error::Unsupported(alloc::format!("{name}: not a tensor"))),
		}
	}
	let tensor_type =
		tensor_type.ok_or_else(|| Error::Unsupported(alloc::format!("{name}: not a tensor")))?;
	let (mut code, mut shape_proto) = (None, None);
	for field in Fields::new(tensor_type) {
		let field = field?;
		match field.number {
			1 => once(&mut code, field.value.varint()? as i64)?,
			2 => once(&mut shape_proto, field.value.bytes()?)?,
			_ => {}
		}
	}
	let code = code.ok_or(Error::Malformed("a tensor type without an element type"))?;
	let elem = match ElemType::from_onnx(code) {
		Some(elem) => elem,
		None if matches!(code, 1 | 10 | 11 | 16) => return Err(Error::FloatTensor(name)),
		None => return Err(Error::UnsupportedType { tensor: name, code }),
	};
	let shape_proto = shape_proto.ok_or_else(|| Error::DynamicShape(name.clone()))?;
	let mut dims = Vec::new();
	for field in Fields::new(shape_proto) {
		let field = field?;
		if field.number != 1 {
			continue;
		}
		let (mut value, mut symbolic) = (None, false);
		for part in Fields::new(field.value.bytes()?) {
			let part = part?;
			match part.number {
				1 => once(&mut value, part.value.varint()? as i64)?,
				2 => symbolic = true,
				_ => {}
			}
		}
		match (value, symbolic) {
			(Some(value), false) => dims.push(value),
			(None, _) => return Err(Error::DynamicShape(name)),
			(Some(_), true) => return Err(Error::Malformed("a dimension both fixed and symbolic")),
		}
		if dims.len() > crate::tensor::MAX_RANK {
			return Err(Error::TooLarge);
		}
	}
	let (shape, _) = crate::tensor::checked_shape(&dims)?;
	Ok(Declared { name, elem, shape })
}

/// Sets a field that may appear once: protobuf would merge a repeated message field, and
/// engines that read the file differently would then see different models.
fn once<T>(slot: &mut Option<T>, value: T) -> Result<(), Error> {
	if slot.replace(value).is_some() {
		return Err(Error::Malformed("a field given twice that may appear once"));
	}
	Ok(())
}
