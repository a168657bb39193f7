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
		let count = check_shape(&shape)?;
		if count != data.len() {
			return Err(Error::Malformed("a tensor whose data does not fill its shape"));
		}
		if data.iter().any(|value| !elem.holds(*value)) {
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

/// The most elements one tensor may have, and the largest dimension: 2^28 (a gibibyte of
/// 32-bit elements, more than any model the interpreter is meant for). Every product of
/// dimensions then fits 32 bits, so 32- and 64-bit machines accept the same models.
pub const MAX_ELEMENTS: usize = 1 << 28;

/// The most dimensions one tensor may have.
pub const MAX_RANK: usize = 16;

/// Checks a shape: at most [`MAX_RANK`] dimensions, each at most [`MAX_ELEMENTS`], whose
/// non-zero ones multiply to at most [`MAX_ELEMENTS`]. Returns its element count.
pub fn check_shape(shape: &[usize]) -> Result<usize, Error> {
	if shape.len() > MAX_RANK {
		return Err(Error::TooLarge);
	}
	let mut nonzero = 1usize;
	for dim in shape.iter().filter(|dim| **dim > 0) {
		if *dim > MAX_ELEMENTS {
			return Err(Error::TooLarge);
		}
		nonzero =
			nonzero.checked_mul(*dim).filter(|n| *n <= MAX_ELEMENTS).ok_or(Error::TooLarge)?;
	}
	Ok(if shape.contains(&0) { 0 } else { nonzero })
}

/// [`check_shape`] for a shape given as signed dimensions, as ONNX stores them. Returns the
/// shape and its element count.
pub fn checked_shape(dims: &[i64]) -> Result<(Vec<usize>, usize), Error> {
	if dims.len() > MAX_RANK {
		return Err(Error::TooLarge);
	}
	let shape = dims
		.iter()
		.map(|dim| match *dim {
			dim if dim < 0 => Err(Error::Malformed("a negative dimension")),
			dim if dim > MAX_ELEMENTS as i64 => Err(Error::TooLarge),
			dim => Ok(dim as usize),
		})
		.collect::<Result<Vec<_>, _>>()?;
	let count = check_shape(&shape)?;
	Ok((shape, count))
}

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
			9 => {
				let bytes = field.value.bytes()?;
				if raw.is_some() {
					return Err(Error::Malformed("raw data given twice"));
				}
				raw = Some(bytes);
			}
			4 | 6 | 10 => {
				return Err(Error::FloatTensor(name_or_unnamed(&name)));
			}
			13 => return Err(Error::Unsupported(String::from("a tensor with external data"))),
			// `data_location`: only DEFAULT (0) keeps the data in the file.
			14 if field.value.varint()? != 0 => {
				return Err(Error::Unsupported(String::from("a tensor with external data")))
			}
			_ => {}
		}
		if dims.len() > MAX_RANK {
			return Err(Error::TooLarge);
		}
	}
	let code = data_type.ok_or(Error::Malformed("a tensor without a data type"))?;
	let elem = match ElemType::from_onnx(code) {
		Some(elem) => elem,
		None if matches!(code, 1 | 10 | 11 | 16) => return Err(Error::FloatTensor(name)),
		None => return Err(Error::UnsupportedType { tensor: name, code }),
	};
	let (shape, count) = checked_shape(&dims)?;
	let data = match raw {
		Some(_) if !values.is_empty() => {
			return Err(Error::Malformed("a tensor with both raw and typed data"))
		}
		Some(bytes) => {
			let width = elem.width();
			if bytes.len() != count.checked_mul(width).ok_or(Error::TooLarge)? {
				return Err(Error::Malformed("raw data that does not fill its shape"));
			}
			if elem == ElemType::Bool && bytes.iter().any(|byte| *byte > 1) {
				return Err(Error::Malformed("a boolean that is neither 0 nor 1"));
			}
			bytes.chunks_exact(width).map(|chunk| read_le(elem, chunk)).collect()
		}
		None => {
			if values.len() != count {
				return Err(Error::Malformed("typed data that does not fill its shape"));
			}
			// A value its type does not hold is refused below, not wrapped.
			values
		}
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
