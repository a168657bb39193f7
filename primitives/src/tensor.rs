//! Fixed-point tensors and the schemas models declare for them.
//!
//! Tensors cross the chain as integers. Every element has a wire width set by its
//! [`ElementType`]; elements are packed little-endian, row-major, into [`Tensor::data`]. Float
//! tensors travel as two's-complement `i32` fixed-point numbers: the real value of a raw element
//! `r` is `r / 2^frac_bits`. Integer tensors always have `frac_bits == 0`: any quantisation
//! scale belongs to the model, not to the wire format.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_core::Get;
use sp_runtime::BoundedVec;

/// Most dimensions a tensor may have.
pub const MAX_TENSOR_RANK: u32 = 6;
/// Most tensors on either side (inputs or outputs) of a model.
pub const MAX_TENSORS: u32 = 8;
/// Longest tensor name, in bytes.
pub const MAX_TENSOR_NAME_LEN: u32 = 32;
/// Most fractional bits of a fixed-point element: an `i32` keeps at least its sign bit.
pub const MAX_FRAC_BITS: u8 = 31;

/// Bound on a tensor's rank.
pub type MaxRank = ConstU32<MAX_TENSOR_RANK>;
/// Bound on the number of tensors on one side of a schema.
pub type MaxTensors = ConstU32<MAX_TENSORS>;
/// Bound on a tensor name's length.
pub type MaxTensorNameLen = ConstU32<MAX_TENSOR_NAME_LEN>;

/// A tensor's shape: every dimension is fixed and non-zero (no symbolic batch dimension).
pub type Shape = BoundedVec<u32, MaxRank>;

/// The element type of a tensor as the model's engine sees it.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ElementType {
	/// Boolean, one byte on the wire (0 or 1).
	Bool,
	/// Unsigned 8-bit integer.
	U8,
	/// Signed 8-bit integer.
	I8,
	/// Signed 16-bit integer.
	I16,
	/// Signed 32-bit integer.
	I32,
	/// Signed 64-bit integer.
	I64,
	/// 32-bit float, carried as an `i32` fixed-point number with `frac_bits` fractional bits.
	F32,
}

impl ElementType {
	/// Bytes per element on the wire.
	pub const fn wire_width(self) -> u32 {
		match self {
			Self::Bool | Self::U8 | Self::I8 => 1,
			Self::I16 => 2,
			Self::I32 | Self::F32 => 4,
			Self::I64 => 8,
		}
	}

	/// Whether the element carries a fixed-point fraction.
	pub const fn is_fixed_point(self) -> bool {
		matches!(self, Self::F32)
	}

	/// Whether a raw wire value (the integer itself, or the fixed-point integer of `F32`) is in
	/// this element type's range.
	pub fn holds(self, raw: i64) -> bool {
		match self {
			Self::Bool => matches!(raw, 0 | 1),
			Self::U8 => u8::try_from(raw).is_ok(),
			Self::I8 => i8::try_from(raw).is_ok(),
			Self::I16 => i16::try_from(raw).is_ok(),
			Self::I32 | Self::F32 => i32::try_from(raw).is_ok(),
			Self::I64 => true,
		}
	}

	/// Whether `frac_bits` is allowed for this element type.
	pub const fn accepts_frac_bits(self, frac_bits: u8) -> bool {
		if self.is_fixed_point() {
			frac_bits <= MAX_FRAC_BITS
		} else {
			frac_bits == 0
		}
	}
}

/// One tensor a model takes or produces.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct TensorSpec {
	/// The tensor's name in the model graph (UTF-8).
	#[cfg_attr(feature = "serde", serde(with = "crate::serde_text"))]
	pub name: BoundedVec<u8, MaxTensorNameLen>,
	/// Element type.
	pub elem: ElementType,
	/// Fixed shape.
	pub shape: Shape,
	/// Fractional bits of fixed-point elements; zero for integer types.
	pub frac_bits: u8,
}

impl TensorSpec {
	/// Number of elements, or `None` if it overflows `u32`.
	pub fn element_count(&self) -> Option<u32> {
		element_count(&self.shape)
	}

	/// Bytes the tensor takes on the wire, or `None` if it overflows `u32`.
	pub fn wire_size(&self) -> Option<u32> {
		self.element_count()?.checked_mul(self.elem.wire_width())
	}
}

/// Why a schema is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum SchemaError {
	/// The schema declares no input or no output tensor.
	NoTensors,
	/// A dimension is zero.
	ZeroDimension,
	/// A tensor has no dimension at all.
	EmptyShape,
	/// A tensor is larger than the limit given to [`IoSchema::validate`].
	TensorTooLarge,
	/// Two tensors on the same side share a name.
	DuplicateName,
	/// A tensor name is empty.
	EmptyName,
	/// `frac_bits` is non-zero on an integer type, or above [`MAX_FRAC_BITS`].
	BadFracBits,
	/// A tensor name is not UTF-8 text: the executor matches names against the graph's, which
	/// are text.
	NameNotUtf8,
}

/// The inputs and outputs a model declares.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct IoSchema {
	/// Input tensors, in the order the model takes them.
	pub inputs: BoundedVec<TensorSpec, MaxTensors>,
	/// Output tensors, in the order the model produces them.
	pub outputs: BoundedVec<TensorSpec, MaxTensors>,
}

impl IoSchema {
	/// Checks that the schema is well formed and that no tensor is larger than
	/// `max_tensor_bytes` on the wire.
	pub fn validate(&self, max_tensor_bytes: u32) -> Result<(), SchemaError> {
		validate_side(&self.inputs, max_tensor_bytes)?;
		validate_side(&self.outputs, max_tensor_bytes)
	}
}

fn validate_side(specs: &[TensorSpec], max_tensor_bytes: u32) -> Result<(), SchemaError> {
	if specs.is_empty() {
		return Err(SchemaError::NoTensors);
	}
	for (index, spec) in specs.iter().enumerate() {
		if spec.name.is_empty() {
			return Err(SchemaError::EmptyName);
		}
		if core::str::from_utf8(&spec.name).is_err() {
			return Err(SchemaError::NameNotUtf8);
		}
		if specs[..index].iter().any(|earlier| earlier.name == spec.name) {
			return Err(SchemaError::DuplicateName);
		}
		if spec.shape.is_empty() {
			return Err(SchemaError::EmptyShape);
		}
		if spec.shape.contains(&0) {
			return Err(SchemaError::ZeroDimension);
		}
		if !spec.elem.accepts_frac_bits(spec.frac_bits) {
			return Err(SchemaError::BadFracBits);
		}
		match spec.wire_size() {
			Some(size) if size <= max_tensor_bytes => {}
			_ => return Err(SchemaError::TensorTooLarge),
		}
	}
	Ok(())
}

fn element_count(shape: &[u32]) -> Option<u32> {
	shape.iter().try_fold(1u32, |count, dim| count.checked_mul(*dim))
}

/// Why a tensor is refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum TensorError {
	/// `data` does not hold exactly `elements × wire width` bytes.
	LengthMismatch,
	/// The element type differs from the schema's.
	TypeMismatch,
	/// The shape differs from the schema's.
	ShapeMismatch,
	/// `frac_bits` differs from the schema's, or is not allowed for the element type.
	FracBitsMismatch,
	/// A boolean element is neither 0 nor 1.
	BadBool,
	/// The number of tensors differs from the schema's.
	CountMismatch,
}

/// A fixed-point tensor on the wire; `MaxBytes` bounds its packed data.
#[derive(Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo)]
#[scale_info(skip_type_params(MaxBytes))]
#[codec(mel_bound())]
pub struct Tensor<MaxBytes: Get<u32>> {
	/// Element type.
	pub elem: ElementType,
	/// Shape, row-major.
	pub shape: Shape,
	/// Fractional bits of fixed-point elements; zero for integer types.
	pub frac_bits: u8,
	/// Elements packed little-endian at [`ElementType::wire_width`] bytes each.
	pub data: BoundedVec<u8, MaxBytes>,
}

// Written out because a derive would ask `MaxBytes: Debug` of a bound that is only a type.
impl<MaxBytes: Get<u32>> core::fmt::Debug for Tensor<MaxBytes> {
	fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		formatter
			.debug_struct("Tensor")
			.field("elem", &self.elem)
			.field("shape", &self.shape)
			.field("frac_bits", &self.frac_bits)
			.field("data", &self.data)
			.finish()
	}
}

impl<MaxBytes: Get<u32>> Clone for Tensor<MaxBytes> {
	fn clone(&self) -> Self {
		Self {
			elem: self.elem,
			shape: self.shape.clone(),
			frac_bits: self.frac_bits,
			data: self.data.clone(),
		}
	}
}

impl<MaxBytes: Get<u32>> PartialEq for Tensor<MaxBytes> {
	fn eq(&self, other: &Self) -> bool {
		self.elem == other.elem
			&& self.shape == other.shape
			&& self.frac_bits == other.frac_bits
			&& self.data == other.data
	}
}

impl<MaxBytes: Get<u32>> Eq for Tensor<MaxBytes> {}

impl<MaxBytes: Get<u32>> Tensor<MaxBytes> {
	/// Number of elements the shape declares, or `None` on overflow.
	pub fn element_count(&self) -> Option<u32> {
		element_count(&self.shape)
	}

	/// Checks the tensor's internal consistency: data length, fraction bits and boolean values.
	pub fn check(&self) -> Result<(), TensorError> {
		if !self.elem.accepts_frac_bits(self.frac_bits) {
			return Err(TensorError::FracBitsMismatch);
		}
		let expected = self
			.element_count()
			.and_then(|count| count.checked_mul(self.elem.wire_width()))
			.ok_or(TensorError::LengthMismatch)?;
		if self.data.len() as u64 != expected as u64 {
			return Err(TensorError::LengthMismatch);
		}
		if self.elem == ElementType::Bool && self.data.iter().any(|byte| *byte > 1) {
			return Err(TensorError::BadBool);
		}
		Ok(())
	}

	/// Checks that the tensor is consistent and is what `spec` declares.
	pub fn check_against(&self, spec: &TensorSpec) -> Result<(), TensorError> {
		if self.elem != spec.elem {
			return Err(TensorError::TypeMismatch);
		}
		if self.shape != spec.shape {
			return Err(TensorError::ShapeMismatch);
		}
		if self.frac_bits != spec.frac_bits {
			return Err(TensorError::FracBitsMismatch);
		}
		self.check()
	}

	/// Element `index` widened to `i64` (the raw fixed-point value for `F32`), if in range.
	pub fn raw_element(&self, index: usize) -> Option<i64> {
		let width = self.elem.wire_width() as usize;
		let start = index.checked_mul(width)?;
		let bytes = self.data.get(start..start.checked_add(width)?)?;
		Some(match self.elem {
			ElementType::Bool | ElementType::U8 => bytes[0] as i64,
			ElementType::I8 => bytes[0] as i8 as i64,
			ElementType::I16 => i16::from_le_bytes([bytes[0], bytes[1]]) as i64,
			ElementType::I32 | ElementType::F32 => {
				i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as i64
			}
			ElementType::I64 => {
				let mut word = [0u8; 8];
				word.copy_from_slice(bytes);
				i64::from_le_bytes(word)
			}
		})
	}
}

/// Checks a list of tensors against one side of a schema, in order.
pub fn check_tensors<MaxBytes: Get<u32>>(
	tensors: &[Tensor<MaxBytes>],
	specs: &[TensorSpec],
) -> Result<(), TensorError> {
	if tensors.len() != specs.len() {
		return Err(TensorError::CountMismatch);
	}
	tensors.iter().zip(specs).try_for_each(|(tensor, spec)| tensor.check_against(spec))
}

/// Conversions between engine values and the fixed-point wire format (node side only).
#[cfg(feature = "std")]
pub mod fixed_point {
	use super::MAX_FRAC_BITS;

	/// The raw `i32` for `value` at `frac_bits` fractional bits, rounded to nearest (ties away
	/// from zero) and saturated at the `i32` range; NaN maps to zero.
	pub fn encode_f32(value: f32, frac_bits: u8) -> i32 {
		let scaled = (value as f64) * f64::from(1u32 << frac_bits.min(MAX_FRAC_BITS));
		if scaled.is_nan() {
			return 0;
		}
		scaled.round().clamp(i32::MIN as f64, i32::MAX as f64) as i32
	}

	/// The real value of a raw fixed-point element.
	pub fn decode_f32(raw: i32, frac_bits: u8) -> f32 {
		((raw as f64) / f64::from(1u32 << frac_bits.min(MAX_FRAC_BITS))) as f32
	}
}
