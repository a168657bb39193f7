//! Writes small ONNX models: enough protobuf to describe the graphs the interpreter runs, for
//! tests and for generating random graphs to compare engines on. Not used to run anything.

use crate::ElemType;
use alloc::{string::String, vec::Vec};

fn varint(out: &mut Vec<u8>, mut value: u64) {
	while value >= 0x80 {
		out.push((value as u8) | 0x80);
		value >>= 7;
	}
	out.push(value as u8);
}

fn key(out: &mut Vec<u8>, number: u32, wire: u8) {
	varint(out, (u64::from(number) << 3) | u64::from(wire));
}

fn int_field(out: &mut Vec<u8>, number: u32, value: i64) {
	key(out, number, 0);
	varint(out, value as u64);
}

fn bytes_field(out: &mut Vec<u8>, number: u32, bytes: &[u8]) {
	key(out, number, 2);
	varint(out, bytes.len() as u64);
	out.extend_from_slice(bytes);
}

/// A dimension of a declared shape.
#[derive(Clone, Debug)]
pub enum Dim {
	/// A fixed size.
	Value(i64),
	/// A symbolic size (a dynamic shape).
	Param(String),
}

/// A `TensorProto` of type `code` (an ONNX data type; any code, so that refusals can be
/// tested) holding `data` as little-endian raw data of `width` bytes an element.
pub fn tensor(name: &str, code: i64, dims: &[usize], data: &[i64], width: usize) -> Vec<u8> {
	let mut out = Vec::new();
	for dim in dims {
		int_field(&mut out, 1, *dim as i64);
	}
	int_field(&mut out, 2, code);
	bytes_field(&mut out, 8, name.as_bytes());
	let mut raw = Vec::with_capacity(data.len() * width);
	for value in data {
		raw.extend_from_slice(&value.to_le_bytes()[..width]);
	}
	bytes_field(&mut out, 9, &raw);
	out
}

/// A `TensorProto` of an integer type.
pub fn int_tensor(name: &str, elem: ElemType, dims: &[usize], data: &[i64]) -> Vec<u8> {
	tensor(name, elem.onnx(), dims, data, elem.width())
}

/// A `ValueInfoProto` of a tensor of type `code` and shape `dims`.
pub fn value_info(name: &str, code: i64, dims: &[Dim]) -> Vec<u8> {
	let mut shape = Vec::new();
	for dim in dims {
		let mut encoded = Vec::new();
		match dim {
			Dim::Value(value) => int_field(&mut encoded, 1, *value),
			Dim::Param(param) => bytes_field(&mut encoded, 2, param.as_bytes()),
		}
		bytes_field(&mut shape, 1, &encoded);
	}
	let mut tensor_type = Vec::new();
	int_field(&mut tensor_type, 1, code);
	bytes_field(&mut tensor_type, 2, &shape);
	let mut type_proto = Vec::new();
	bytes_field(&mut type_proto, 1, &tensor_type);
	let mut out = Vec::new();
	bytes_field(&mut out, 1, name.as_bytes());
	bytes_field(&mut out, 2, &type_proto);
	out
}

/// A `ValueInfoProto` of an integer tensor of static shape `dims`.
pub fn declared(name: &str, elem: ElemType, dims: &[usize]) -> Vec<u8> {
	let dims: Vec<Dim> = dims.iter().map(|dim| Dim::Value(*dim as i64)).collect();
	value_info(name, elem.onnx(), &dims)
}

/// An integer attribute.
pub fn attr_int(name: &str, value: i64) -> Vec<u8> {
	let mut out = Vec::new();
	bytes_field(&mut out, 1, name.as_bytes());
	int_field(&mut out, 3, value);
	int_field(&mut out, 20, 2);
	out
}

/// A float attribute, given as its IEEE 754 bits.
pub fn attr_float_bits(name: &str, bits: u32) -> Vec<u8> {
	let mut out = Vec::new();
	bytes_field(&mut out, 1, name.as_bytes());
	key(&mut out, 2, 5);
	out.extend_from_slice(&bits.to_le_bytes());
	int_field(&mut out, 20, 1);
	out
}

/// A tensor attribute.
pub fn attr_tensor(name: &str, tensor: &[u8]) -> Vec<u8> {
	let mut out = Vec::new();
	bytes_field(&mut out, 1, name.as_bytes());
	bytes_field(&mut out, 5, tensor);
	int_field(&mut out, 20, 4);
	out
}

/// A `NodeProto`.
pub fn node(op: &str, inputs: &[&str], outputs: &[&str], attributes: &[Vec<u8>]) -> Vec<u8> {
	let mut out = Vec::new();
	for input in inputs {
		bytes_field(&mut out, 1, input.as_bytes());
	}
	for output in outputs {
		bytes_field(&mut out, 2, output.as_bytes());
	}
	bytes_field(&mut out, 4, op.as_bytes());
	for attribute in attributes {
		bytes_field(&mut out, 5, attribute);
	}
	out
}

/// A `ModelProto` of the default domain at `opset`.
pub fn model(
	opset: i64,
	nodes: &[Vec<u8>],
	initializers: &[Vec<u8>],
	inputs: &[Vec<u8>],
	outputs: &[Vec<u8>],
) -> Vec<u8> {
	let mut graph = Vec::new();
	for node in nodes {
		bytes_field(&mut graph, 1, node);
	}
	bytes_field(&mut graph, 2, b"graph");
	for initializer in initializers {
		bytes_field(&mut graph, 5, initializer);
	}
	for input in inputs {
		bytes_field(&mut graph, 11, input);
	}
	for output in outputs {
		bytes_field(&mut graph, 12, output);
	}
	let mut opset_id = Vec::new();
	int_field(&mut opset_id, 2, opset);
	let mut out = Vec::new();
	int_field(&mut out, 1, 8);
	bytes_field(&mut out, 7, &graph);
	bytes_field(&mut out, 8, &opset_id);
	out
}
