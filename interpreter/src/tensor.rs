//! Integer tensors: their element types, how values wrap to a type, and how an ONNX
//! `TensorProto` holding one is read.

use crate::{
	proto::{Fields, Value},
	Error,
};
use alloc::{string::String, vec::Vec};

/// The integer element types the interpreter runs (ONNX `TensorProto.DataType` codes).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ElemType {
	/// `UINT8` (2).
	U8,
	/// `INT8` (3).
	I8,
	/// `UINT16` (4).
	U16,
	/// `INT16` (5).
	I16,
	/// `INT32` (6).
	I32,
	/// `INT64` (7).
	I64,
	/// `BOOL` (9): 0 or 1.
	Bool,
	/// `UINT32` (12).
	U32,
}

impl ElemType {
	/// The type of ONNX data type `code`; `None` for floats, strings, complex numbers and
	/// `UINT64` (whose values do not all fit the interpreter's 64-bit signed values).
	pub fn from_onnx(code: i64) -> Option<Self> {
		Some(match code {
			2 => Self::U8,
			3 => Self::I8,
			4 => Self::U16,
			5 => Self::I16,
			6 => Self::I32,
			7 => Self::I64,
			9 => Self::Bool,
			12 => Self::U32,
			_ => return None,
		})
	}

	/// The ONNX data type code.
	pub fn onnx(self) -> i64 {
		match self {
			Self::U8 => 2,
			Self::I8 => 3,
			Self::U16 => 4,
			Self::I16 => 5,
			Self::I32 => 6,
			Self::I64 => 7,
			Self::Bool => 9,
			Self::U32 => 12,
		}
	}

	/// Bytes an element takes in `raw_data`.
	pub fn width(self) -> usize {
		match self {
			Self::U8 | Self::I8 | Self::Bool => 1,
			Self::U16 | Self::I16 => 2,
			Self::I32 | Self::U32 => 4,
			Self::I64 => 8,
		}
	}

	/// Whether the type is signed.
	pub fn signed(self) -> bool {
		matches!(self, Self::I8 | Self::I16 | Self::I32 | Self::I64)
	}

	/// `value` reduced to this type the way two's complement hardware does: the low bits kept,
	/// sign-extended for signed types. A boolean is 1 for any value but 0.
	pub fn wrap(self, value: i128) -> i64 {
		match self {
			Self::U8 => value as u8 as i64,
			Self::I8 => value as i8 as i64,
			Self::U16 => value as u16 as i64,
			Self::I16 => value as i16 as i64,
			Self::I32 => value as i32 as i64,
			Self::U32 => value as u32 as i64,
			Self::I64 => value as i64,
			Self::Bool => i64::from(value != 0),
		}
	}

	/// Whether `value` is a value of this type.
	pub fn holds(self, value: i64) -> bool {
		self.wrap(value.into()) == value
	}
}

/// A tensor: its element type, shape and elements (row-major), each held as an `i64` that the
/// type holds.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Tensor {
	/// The element type.
	pub elem: ElemType,
	/// The shape.
	pub shape: Vec<usize>,
	/// The elements, row-major.
	pub data: Vec<i64>,
}

impl Tensor {
	/// A tensor, if `data` has as many elements as `shape` and each is a value of `elem`.
	pub fn new(elem: ElemType, shape: Vec<usize>, data: Vec<i64>) -> Result<Self, Error> {
		let count = element_count(&shape).ok_or(Error::TooLarge)?;
		if count != data.len() {
			return Err(Error::Malformed("a tensor whose data does not fill its shape"));
		}
		if let Some(bad) = data.iter().find(|value| !elem.holds(**value)) {
			let _ = bad;
			return Err(Error::Malformed("a tensor element outside its type"));
		}
		Ok(Self { elem, shape, data })
	}

	/// The little-endian bytes of the elements, each of its type's width.
	pub fn to_le_bytes(&self) -> Vec<u8> {
		let width = self.elem.width();
		let mut bytes = Vec::with_capacity(self.data.len() * width);
		for value in &self.data {
			bytes.extend_from_slice(&value.to_le_bytes()[..width]);
		}
		bytes
	}
}

/// The number of elements of `shape`, or `None` if it overflows.
pub fn element_count(shape: &[usize]) -> Option<usize> {
	shape.iter().try_fold(1usize, |count, dim| count.checked_mul(*dim))
}

/// The most elements one tensor may have: 2^28 (a gibibyte of 32-bit elements, more than any
/// model the interpreter is meant for).
pub const MAX_ELEMENTS: usize = 1 << 28;

/// A named tensor read from a `TensorProto`.
pub(crate) struct NamedTensor {
	pub name: String,
	pub tensor: Tensor,
}

/// Reads a `TensorProto`: integer data in `raw_data`, `int32_data`, `int64_data` or
/// `uint64_data`. Floats, strings, external data and segments are refused.
pub(crate) fn read_tensor(message: &[u8]) -> Result<NamedTensor, Error> {
	let mut dims: Vec<i64> = Vec::new();
	let mut data_type = None;
	let mut name = String::new();
	let mut raw: Option<&[u8]> = None;
	let mut values: Vec<i64> = Vec::new();
	for field in Fields::new(message) {
		let field = field?;
		match field.number {
			1 => field.value.int64s(&mut dims)?,
			2 => data_type = Some(field.value.varint()? as i64),
			3 => return Err(Error::Unsupported(String::from("a segmented tensor"))),
			// int32_data (used for every type of 32 bits or fewer), int64_data, uint64_data.
			5 | 7 | 11 => field.value.int64s(&mut values)?,
			8 => name = String::from(field.value.text()?),
			9 => raw = Some(field.value.bytes()?),
			4 | 6 | 10 => {
				return Err(Error::FloatTensor(name_or_unnamed(&name)));
			}
			13 | 14 => return Err(Error::Unsupported(String::from("a tensor with external data"))),
			_ => {}
		}
	}
	let code = data_type.ok_or(Error::Malformed("a tensor without a data type"))?;
	let elem = match ElemType::from_onnx(code) {
		Some(elem) => elem,
		None if matches!(code, 1 | 10 | 11 | 16) => return Err(Error::FloatTensor(name)),
		None => return Err(Error::UnsupportedType { tensor: name, code }),
	};
	let shape = dims
		.iter()
		.map(|dim| usize::try_from(*dim).map_err(|_| Error::Malformed("a negative dimension")))
		.collect::<Result<Vec<_>, _>>()?;
	let count =
		element_count(&shape).filter(|count| *count <= MAX_ELEMENTS).ok_or(Error::TooLarge)?;
	let data = match raw {
		Some(bytes) => {
			let width = elem.width();
			if bytes.len() != count.checked_mul(width).ok_or(Error::TooLarge)? {
				return Err(Error::Malformed("raw data that does not fill its shape"));
			}
			bytes.chunks_exact(width).map(|chunk| read_le(elem, chunk)).collect()
		}
		None => values.iter().map(|value| elem.wrap((*value).into())).collect(),
	};
	let tensor = Tensor::new(elem, shape, data)?;
	Ok(NamedTensor { name, tensor })
}

fn name_or_unnamed(name: &str) -> String {
	if name.is_empty() {
		String::from("(unnamed)")
	} else {
		String::from(name)
	}
}

/// One little-endian element of `elem` from `chunk` (exactly its width).
fn read_le(elem: ElemType, chunk: &[u8]) -> i64 {
	let mut bytes = [0u8; 8];
	bytes[..chunk.len()].copy_from_slice(chunk);
	elem.wrap(i64::from_le_bytes(bytes).into())
}

/// Reads a value of `Value::Bytes` as a `TensorProto`.
pub(crate) fn read_tensor_value(value: &Value) -> Result<NamedTensor, Error> {
	read_tensor(value.bytes()?)
}
