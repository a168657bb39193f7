//! Tensor and schema validation.

use sp_core::ConstU32;
use veritensor_primitives::tensor::{
	check_tensors, fixed_point, ElementType, IoSchema, SchemaError, Tensor, TensorError, TensorSpec,
};

type Small = ConstU32<1024>;

fn spec(name: &str, elem: ElementType, shape: &[u32], frac_bits: u8) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
	}
}

fn tensor(elem: ElementType, shape: &[u32], frac_bits: u8, data: Vec<u8>) -> Tensor<Small> {
	Tensor {
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
		data: data.try_into().unwrap(),
	}
}

fn digits_schema() -> IoSchema {
	IoSchema {
		inputs: vec![spec("input", ElementType::F32, &[1, 64], 0)].try_into().unwrap(),
		outputs: vec![
			spec("label", ElementType::I64, &[1], 0),
			spec("probabilities", ElementType::F32, &[1, 10], 16),
		]
		.try_into()
		.unwrap(),
	}
}

#[test]
fn a_well_formed_schema_is_accepted() {
	assert_eq!(digits_schema().validate(4096), Ok(()));
}

#[test]
fn malformed_schemas_are_refused_with_their_reason() {
	let mut schema = digits_schema();
	schema.outputs = Default::default();
	assert_eq!(schema.validate(4096), Err(SchemaError::NoTensors));

	let mut schema = digits_schema();
	schema.inputs[0].shape[1] = 0;
	assert_eq!(schema.validate(4096), Err(SchemaError::ZeroDimension));

	let mut schema = digits_schema();
	schema.inputs[0].shape = Default::default();
	assert_eq!(schema.validate(4096), Err(SchemaError::EmptyShape));

	// 64 f32 elements take 256 bytes on the wire.
	assert_eq!(digits_schema().validate(255), Err(SchemaError::TensorTooLarge));
	assert_eq!(digits_schema().validate(256), Ok(()));

	let mut schema = digits_schema();
	schema.outputs[1].name = schema.outputs[0].name.clone();
	assert_eq!(schema.validate(4096), Err(SchemaError::DuplicateName));

	let mut schema = digits_schema();
	schema.inputs[0].name = Default::default();
	assert_eq!(schema.validate(4096), Err(SchemaError::EmptyName));

	let mut schema = digits_schema();
	schema.outputs[0].frac_bits = 4;
	assert_eq!(schema.validate(4096), Err(SchemaError::BadFracBits));

	let mut schema = digits_schema();
	schema.outputs[1].frac_bits = 32;
	assert_eq!(schema.validate(4096), Err(SchemaError::BadFracBits));
}

#[test]
fn element_counts_that_overflow_are_refused() {
	let mut schema = digits_schema();
	schema.inputs[0].shape = vec![u32::MAX, 2].try_into().unwrap();
	assert_eq!(schema.validate(u32::MAX), Err(SchemaError::TensorTooLarge));
}

#[test]
fn tensors_are_checked_against_their_spec() {
	let label = spec("label", ElementType::I64, &[2], 0);
	let good = tensor(
		ElementType::I64,
		&[2],
		0,
		[7i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect(),
	);
	assert_eq!(good.check_against(&label), Ok(()));
	assert_eq!(good.raw_element(0), Some(7));
	assert_eq!(good.raw_element(1), Some(-1));
	assert_eq!(good.raw_element(2), None);

	let short = tensor(ElementType::I64, &[2], 0, vec![0; 15]);
	assert_eq!(short.check_against(&label), Err(TensorError::LengthMismatch));

	let wrong_type = tensor(ElementType::I32, &[2], 0, vec![0; 8]);
	assert_eq!(wrong_type.check_against(&label), Err(TensorError::TypeMismatch));

	let wrong_shape = tensor(ElementType::I64, &[1, 2], 0, vec![0; 16]);
	assert_eq!(wrong_shape.check_against(&label), Err(TensorError::ShapeMismatch));

	let wrong_frac = tensor(ElementType::I64, &[2], 3, vec![0; 16]);
	assert_eq!(wrong_frac.check_against(&label), Err(TensorError::FracBitsMismatch));

	let bad_bool = tensor(ElementType::Bool, &[2], 0, vec![1, 2]);
	assert_eq!(bad_bool.check(), Err(TensorError::BadBool));

	assert_eq!(
		check_tensors(std::slice::from_ref(&good), &[label.clone(), label.clone()]),
		Err(TensorError::CountMismatch)
	);
	assert_eq!(check_tensors(&[good.clone(), good], &[label.clone(), label]), Ok(()));
}

#[test]
fn signed_elements_widen_with_their_sign() {
	let t = tensor(ElementType::I8, &[2], 0, vec![0xff, 0x7f]);
	assert_eq!((t.raw_element(0), t.raw_element(1)), (Some(-1), Some(127)));
	let t = tensor(ElementType::U8, &[1], 0, vec![0xff]);
	assert_eq!(t.raw_element(0), Some(255));
	let t = tensor(ElementType::I16, &[1], 0, (-300i16).to_le_bytes().to_vec());
	assert_eq!(t.raw_element(0), Some(-300));
	let t = tensor(ElementType::F32, &[1], 16, (-98304i32).to_le_bytes().to_vec());
	assert_eq!(fixed_point::decode_f32(t.raw_element(0).unwrap() as i32, 16), -1.5);
}

#[test]
fn fixed_point_rounds_to_nearest_and_saturates() {
	assert_eq!(fixed_point::encode_f32(1.5, 16), 98304);
	assert_eq!(fixed_point::encode_f32(-0.5, 0), -1); // ties away from zero
	assert_eq!(fixed_point::encode_f32(0.49, 0), 0);
	assert_eq!(fixed_point::encode_f32(1e30, 16), i32::MAX);
	assert_eq!(fixed_point::encode_f32(-1e30, 16), i32::MIN);
	assert_eq!(fixed_point::encode_f32(f32::NAN, 8), 0);
	for value in [0.0f32, 0.25, -3.75, 100.125] {
		assert_eq!(fixed_point::decode_f32(fixed_point::encode_f32(value, 8), 8), value);
	}
}

#[test]
fn element_types_hold_exactly_their_range() {
	use veritensor_primitives::ElementType::*;
	let cases = [
		(Bool, 0, 1),
		(U8, 0, 255),
		(I8, -128, 127),
		(I16, i16::MIN as i64, i16::MAX as i64),
		(I32, i32::MIN as i64, i32::MAX as i64),
		(F32, i32::MIN as i64, i32::MAX as i64),
	];
	for (elem, low, high) in cases {
		assert!(elem.holds(low) && elem.holds(high), "{elem:?}");
		assert!(!elem.holds(low - 1) && !elem.holds(high + 1), "{elem:?}");
	}
	assert!(I64.holds(i64::MIN) && I64.holds(i64::MAX));
}
