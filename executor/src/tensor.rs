//! Tensors in their three forms and the conversions between them.
//!
//! - [`JsonTensor`]: what the HTTP API speaks: element type, shape, fraction bits and the raw
//!   fixed-point integers as a JSON array.
//! - [`WireTensor`]: the chain's packed form, whose SCALE encoding the canonical hashes cover.
//! - [`EngineTensor`]: native values an engine consumes and produces (`f32` for fixed-point
//!   elements).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sp_core::bounded::BoundedVec;
use sp_core::ConstU32;
use sp_core::H256;
use veritensor_primitives::{
	hashing,
	tensor::{fixed_point, ElementType, Tensor, TensorSpec},
};

/// The chain's tensor with no bound on its data beyond what `u32` lengths allow.
pub type WireTensor = Tensor<ConstU32<{ u32::MAX }>>;

/// A tensor in a JSON request or response.
///
/// `values` are the raw wire integers in row-major order: the fixed-point numbers themselves
/// for `F32` (real value = raw / 2^frac_bits), plain integers otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTensor {
	/// The tensor's name in the graph. Optional on input (inputs are taken in graph order);
	/// always set on output.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub name: Option<String>,
	/// Element type.
	pub elem: ElementType,
	/// Shape, row-major.
	pub shape: Vec<u32>,
	/// Fractional bits of `F32` elements; zero for integer types.
	#[serde(default)]
	pub frac_bits: u8,
	/// Raw elements.
	pub values: Vec<i64>,
}

/// Native element values.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
	F32(Vec<f32>),
	U8(Vec<u8>),
	I8(Vec<i8>),
	I16(Vec<i16>),
	I32(Vec<i32>),
	I64(Vec<i64>),
	Bool(Vec<bool>),
}

impl Values {
	/// Number of elements.
	pub fn len(&self) -> usize {
		match self {
			Self::F32(v) => v.len(),
			Self::U8(v) => v.len(),
			Self::I8(v) => v.len(),
			Self::I16(v) => v.len(),
			Self::I32(v) => v.len(),
			Self::I64(v) => v.len(),
			Self::Bool(v) => v.len(),
		}
	}

	/// Whether there are no elements.
	pub fn is_empty(&self) -> bool {
		self.len() == 0
	}

	/// The wire element type these values travel as.
	pub fn elem(&self) -> ElementType {
		match self {
			Self::F32(_) => ElementType::F32,
			Self::U8(_) => ElementType::U8,
			Self::I8(_) => ElementType::I8,
			Self::I16(_) => ElementType::I16,
			Self::I32(_) => ElementType::I32,
			Self::I64(_) => ElementType::I64,
			Self::Bool(_) => ElementType::Bool,
		}
	}
}

/// A tensor as engines see it.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineTensor {
	/// Shape, row-major.
	pub shape: Vec<usize>,
	/// Elements.
	pub values: Values,
}

fn element_count(shape: &[u32]) -> Option<u64> {
	shape.iter().try_fold(1u64, |count, dim| count.checked_mul(u64::from(*dim)))
}

fn narrow<T: TryFrom<i64>>(values: &[i64], elem: ElementType) -> Result<Vec<T>> {
	values
		.iter()
		.map(|value| {
			T::try_from(*value)
				.map_err(|_| Error::BadInput(format!("{value} is out of range for {elem:?}")))
		})
		.collect()
}

impl JsonTensor {
	/// Bytes the tensor takes on the wire (saturating).
	pub fn wire_size(&self) -> u64 {
		(self.values.len() as u64).saturating_mul(u64::from(self.elem.wire_width()))
	}

	/// Checks shape, element count and fraction bits.
	pub fn check(&self) -> Result<()> {
		if self.shape.is_empty() || self.shape.contains(&0) {
			return Err(Error::BadInput(format!(
				"shape {:?} must have at least one dimension and no zero dimension",
				self.shape
			)));
		}
		if !self.elem.accepts_frac_bits(self.frac_bits) {
			return Err(Error::BadInput(format!(
				"frac_bits {} is not allowed for {:?}",
				self.frac_bits, self.elem
			)));
		}
		match element_count(&self.shape) {
			Some(count) if count == self.values.len() as u64 => Ok(()),
			_ => Err(Error::BadInput(format!(
				"shape {:?} needs {} values, got {}",
				self.shape,
				element_count(&self.shape).map_or("too many".into(), |c| c.to_string()),
				self.values.len()
			))),
		}
	}

	/// The native values an engine takes; checks every value's range.
	pub fn to_engine(&self) -> Result<EngineTensor> {
		self.check()?;
		let elem = self.elem;
		let values = match elem {
			ElementType::F32 => {
				// Dividing by 2^frac_bits is exactly multiplying by 2^-frac_bits, so this is
				// `fixed_point::decode_f32` without a division per element.
				let scale = 1.0 / f64::from(1u32 << self.frac_bits);
				Values::F32(
					self.values
						.iter()
						.map(|raw| {
							i32::try_from(*raw).map(|r| (f64::from(r) * scale) as f32).map_err(
								|_| Error::BadInput(format!("{raw} is out of range for F32")),
							)
						})
						.collect::<Result<_>>()?,
				)
			}
			ElementType::U8 => Values::U8(narrow(&self.values, elem)?),
			ElementType::I8 => Values::I8(narrow(&self.values, elem)?),
			ElementType::I16 => Values::I16(narrow(&self.values, elem)?),
			ElementType::I32 => Values::I32(narrow(&self.values, elem)?),
			ElementType::I64 => Values::I64(self.values.clone()),
			ElementType::Bool => Values::Bool(
				self.values
					.iter()
					.map(|value| match value {
						0 => Ok(false),
						1 => Ok(true),
						other => Err(Error::BadInput(format!("{other} is not a boolean (0 or 1)"))),
					})
					.collect::<Result<_>>()?,
			),
		};
		Ok(EngineTensor { shape: self.shape.iter().map(|d| *d as usize).collect(), values })
	}

	/// The tensor an engine produced, in wire integers: `F32` values are rounded to
	/// `frac_bits` fractional bits (ties away from zero, saturating, NaN as zero).
	pub fn from_engine(name: Option<String>, tensor: &EngineTensor, frac_bits: u8) -> Result<Self> {
		let shape = tensor
			.shape
			.iter()
			.map(|d| u32::try_from(*d))
			.collect::<Result<Vec<_>, _>>()
			.map_err(|_| Error::SchemaMismatch("an output dimension exceeds u32".into()))?;
		let (frac_bits, values) = match &tensor.values {
			Values::F32(v) => (
				frac_bits,
				v.iter().map(|x| i64::from(fixed_point::encode_f32(*x, frac_bits))).collect(),
			),
			Values::U8(v) => (0, v.iter().map(|x| i64::from(*x)).collect()),
			Values::I8(v) => (0, v.iter().map(|x| i64::from(*x)).collect()),
			Values::I16(v) => (0, v.iter().map(|x| i64::from(*x)).collect()),
			Values::I32(v) => (0, v.iter().map(|x| i64::from(*x)).collect()),
			Values::I64(v) => (0, v.clone()),
			Values::Bool(v) => (0, v.iter().map(|x| i64::from(*x)).collect()),
		};
		Ok(Self { name, elem: tensor.values.elem(), shape, frac_bits, values })
	}

	/// The packed wire form, whose encoding the canonical hashes cover.
	pub fn to_wire(&self) -> Result<WireTensor> {
		self.check()?;
		let width = self.elem.wire_width() as usize;
		let mut data = Vec::with_capacity(self.values.len() * width);
		for value in &self.values {
			let bytes = value.to_le_bytes();
			if !self.elem.holds(*value) {
				return Err(Error::BadInput(format!(
					"{value} is out of range for {:?}",
					self.elem
				)));
			}
			data.extend_from_slice(&bytes[..width]);
		}
		let shape = BoundedVec::try_from(self.shape.clone()).map_err(|_| {
			Error::BadInput(format!("rank {} is above the limit", self.shape.len()))
		})?;
		let data = BoundedVec::try_from(data)
			.map_err(|_| Error::BadInput("tensor larger than 4 GiB".into()))?;
		Ok(Tensor { elem: self.elem, shape, frac_bits: self.frac_bits, data })
	}

	/// The JSON form of a wire tensor.
	pub fn from_wire(name: Option<String>, tensor: &WireTensor) -> Result<Self> {
		tensor.check().map_err(|e| Error::BadInput(format!("{e:?}")))?;
		let count = tensor.element_count().unwrap_or(0) as usize;
		let values = (0..count)
			.map(|index| {
				tensor.raw_element(index).ok_or_else(|| Error::BadInput("short data".into()))
			})
			.collect::<Result<_>>()?;
		Ok(Self {
			name,
			elem: tensor.elem,
			shape: tensor.shape.to_vec(),
			frac_bits: tensor.frac_bits,
			values,
		})
	}

	/// Checks the tensor against a schema entry: element type, shape and fraction bits.
	pub fn check_against(&self, spec: &JsonTensorSpec) -> Result<()> {
		if self.elem != spec.elem || self.shape != spec.shape || self.frac_bits != spec.frac_bits {
			return Err(Error::SchemaMismatch(format!(
				"tensor `{}` is {:?}{:?} with {} fraction bits, the schema declares {:?}{:?} with {}",
				spec.name, self.elem, self.shape, self.frac_bits, spec.elem, spec.shape, spec.frac_bits
			)));
		}
		Ok(())
	}
}

/// One entry of a model's I/O schema in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonTensorSpec {
	/// Name in the graph.
	pub name: String,
	/// Element type.
	pub elem: ElementType,
	/// Fixed shape.
	pub shape: Vec<u32>,
	/// Fractional bits of `F32` elements; zero for integer types.
	#[serde(default)]
	pub frac_bits: u8,
}

impl JsonTensorSpec {
	/// The JSON form of a chain schema entry.
	pub fn from_spec(spec: &TensorSpec) -> Self {
		Self {
			name: String::from_utf8_lossy(&spec.name).into_owned(),
			elem: spec.elem,
			shape: spec.shape.to_vec(),
			frac_bits: spec.frac_bits,
		}
	}
}

/// A model's inputs and outputs as the chain's registry declares them, in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonSchema {
	/// Input tensors in the order the model takes them.
	pub inputs: Vec<JsonTensorSpec>,
	/// Output tensors in the order the model produces them.
	pub outputs: Vec<JsonTensorSpec>,
}

impl JsonSchema {
	/// The JSON form of a chain schema.
	pub fn from_schema(schema: &veritensor_primitives::tensor::IoSchema) -> Self {
		Self {
			inputs: schema.inputs.iter().map(JsonTensorSpec::from_spec).collect(),
			outputs: schema.outputs.iter().map(JsonTensorSpec::from_spec).collect(),
		}
	}
}

/// The canonical output hash of tensors made by [`JsonTensor::from_engine`], computed in one
/// pass over their values: what `hashing::output_hash` gives for the same tensors in wire
/// form (a test holds the two together). Every value must already be in its element type's
/// range, which `from_engine` guarantees; [`output_hash`] checks instead.
pub(crate) fn converted_output_hash(outputs: &[JsonTensor]) -> Result<H256> {
	let size: usize = outputs.iter().map(|t| t.values.len() * 8 + t.shape.len() * 4 + 8).sum();
	let mut hasher = hashing::TensorHasher::new(hashing::OUTPUT_DOMAIN, outputs.len() as u32, size);
	for tensor in outputs {
		if tensor.shape.len() > veritensor_primitives::tensor::MAX_TENSOR_RANK as usize {
			return Err(Error::SchemaMismatch("an output has more than 6 dimensions".into()));
		}
		let width = tensor.elem.wire_width() as usize;
		let bytes = u32::try_from(tensor.values.len() * width)
			.map_err(|_| Error::SchemaMismatch("output above 4 GiB".into()))?;
		hasher.tensor(tensor.elem, &tensor.shape, tensor.frac_bits, bytes);
		for value in &tensor.values {
			hasher.data(&value.to_le_bytes()[..width]);
		}
	}
	Ok(hasher.finish())
}

/// The canonical output hash of a list of tensors (as the chain computes it).
pub fn output_hash(outputs: &[JsonTensor]) -> Result<H256> {
	let wire = outputs.iter().map(JsonTensor::to_wire).collect::<Result<Vec<_>>>()?;
	Ok(hashing::output_hash(&wire))
}

/// The canonical input hash of a list of tensors (as the chain computes it).
pub fn input_hash(inputs: &[JsonTensor]) -> Result<H256> {
	let wire = inputs.iter().map(JsonTensor::to_wire).collect::<Result<Vec<_>>>()?;
	Ok(hashing::input_hash(&wire))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn engine(values: Values, shape: Vec<usize>) -> EngineTensor {
		EngineTensor { shape, values }
	}

	#[test]
	fn the_one_pass_output_hash_equals_the_primitives_hash() {
		let cases = vec![
			engine(Values::F32(vec![0.5, -1.25, f32::NAN, 1e12, -1e12, 3.0e-6]), vec![2, 3]),
			engine(Values::U8(vec![0, 255, 7]), vec![3]),
			engine(Values::I8(vec![-128, 127, -1]), vec![1, 3]),
			engine(Values::I16(vec![i16::MIN, i16::MAX]), vec![2]),
			engine(Values::I32(vec![i32::MIN, -5, i32::MAX]), vec![3, 1]),
			engine(Values::I64(vec![i64::MIN, 0, i64::MAX]), vec![3]),
			engine(Values::Bool(vec![true, false]), vec![2]),
		];
		for tensor in cases {
			for frac_bits in [0u8, 7, 16, 31] {
				let json = JsonTensor::from_engine(None, &tensor, frac_bits).unwrap();
				let wire = json.to_wire().unwrap();
				assert_eq!(JsonTensor::from_wire(None, &wire).unwrap(), json);
				let one_pass = converted_output_hash(&[json.clone(), json.clone()]).unwrap();
				let by_primitives = hashing::output_hash(&[wire.clone(), wire]);
				assert_eq!(one_pass, by_primitives, "{tensor:?} at {frac_bits} bits");
			}
		}
	}

	#[test]
	fn fixed_point_inputs_decode_as_the_primitives_define() {
		for frac_bits in [0u8, 1, 8, 16, 24, 31] {
			let values =
				vec![0, 1, -1, 255, -4096, i64::from(i32::MAX), i64::from(i32::MIN), 123_456_789];
			let tensor = JsonTensor {
				name: None,
				elem: ElementType::F32,
				shape: vec![values.len() as u32],
				frac_bits,
				values: values.clone(),
			};
			let Values::F32(decoded) = tensor.to_engine().unwrap().values else {
				panic!("f32 expected")
			};
			for (raw, value) in values.iter().zip(decoded) {
				assert_eq!(
					value,
					fixed_point::decode_f32(*raw as i32, frac_bits),
					"{raw} at {frac_bits}"
				);
			}
		}
	}
}
