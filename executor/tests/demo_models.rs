//! The demo models through both engines: accuracy on the held-out images, agreement with the
//! outputs onnxruntime produced when the models were made, and what hashes equal across
//! engines and runs.

mod common;

use common::*;
use veritensor_executor::{EngineKind, InferResponse};
use veritensor_primitives::tensor::ElementType;

const ENGINES: [EngineKind; 2] = [EngineKind::Tract, EngineKind::OnnxRuntime];

fn label(response: &InferResponse) -> i64 {
	let output = &response.outputs[0];
	assert_eq!(output.name.as_deref(), Some("label"));
	assert_eq!(output.elem, ElementType::I64);
	output.values[0]
}

fn accuracy(labels: &[i64], truth: &[i64]) -> f64 {
	labels.iter().zip(truth).filter(|(a, b)| a == b).count() as f64 / truth.len() as f64
}

#[test]
fn float_model_reaches_its_accuracy_and_matches_onnxruntime_within_tolerance() {
	let setup = setup();
	let vectors = json("test_vectors.json");
	let catalogue = json("models.json");
	let expected_accuracy = catalogue["models"]["mlp_digits_f32"]["accuracy"].as_f64().unwrap();
	let truth = ints(&vectors["labels"]);
	let reference_labels = ints(&vectors["mlp_digits_f32"]["labels"]);
	let reference_probabilities = vectors["mlp_digits_f32"]["probabilities"].as_array().unwrap();
	let pixels = test_pixels(&vectors);

	let mut hashes = Vec::new();
	for engine in ENGINES {
		let mut labels = Vec::new();
		let mut largest_difference = 0f64;
		let mut engine_hashes = Vec::new();
		for (index, row) in pixels.iter().enumerate() {
			let response = setup
				.executor
				.infer(&request(&setup.float_hash, float_input(row), engine))
				.unwrap();
			assert_eq!(response.engine, engine);
			labels.push(label(&response));
			let probabilities = &response.outputs[1];
			assert_eq!(probabilities.name.as_deref(), Some("probabilities"));
			assert_eq!(
				(probabilities.elem, probabilities.shape.clone(), probabilities.frac_bits),
				(ElementType::F32, vec![1, 10], 16)
			);
			for (raw, reference) in
				probabilities.values.iter().zip(reference_probabilities[index].as_array().unwrap())
			{
				let value = *raw as f64 / 65536.0;
				largest_difference =
					largest_difference.max((value - reference.as_f64().unwrap()).abs());
			}
			engine_hashes.push(response.output_hash);
		}
		// 16 fraction bits round to within 2^-17; the engines' float arithmetic adds ~1e-7.
		assert!(largest_difference <= 2e-5, "{engine:?}: largest difference {largest_difference}");
		assert_eq!(
			labels, reference_labels,
			"{engine:?} labels differ from onnxruntime's reference"
		);
		let reached = accuracy(&labels, &truth);
		assert!((reached - expected_accuracy).abs() < 1e-9, "{engine:?}: accuracy {reached}");
		hashes.push(engine_hashes);
	}
	let equal = hashes[0].iter().zip(&hashes[1]).filter(|(a, b)| a == b).count();
	println!(
		"float model: {equal} of {} output hashes equal across tract and onnxruntime",
		pixels.len()
	);
}

#[test]
fn integer_model_is_bit_exact_across_engines() {
	let setup = setup();
	let vectors = json("test_vectors.json");
	let catalogue = json("models.json");
	let expected_accuracy = catalogue["models"]["mlp_digits_int"]["accuracy"].as_f64().unwrap();
	let truth = ints(&vectors["labels"]);
	let reference_labels = ints(&vectors["mlp_digits_int"]["labels"]);
	let reference_logits = vectors["mlp_digits_int"]["logits"].as_array().unwrap();
	let pixels = test_pixels(&vectors);

	let mut hashes = Vec::new();
	for engine in ENGINES {
		let mut labels = Vec::new();
		let mut engine_hashes = Vec::new();
		for (index, row) in pixels.iter().enumerate() {
			let response =
				setup.executor.infer(&request(&setup.int_hash, int_input(row), engine)).unwrap();
			labels.push(label(&response));
			let logits = &response.outputs[1];
			assert_eq!(
				(logits.elem, logits.shape.clone(), logits.frac_bits),
				(ElementType::I32, vec![1, 10], 0)
			);
			assert_eq!(logits.values, ints(&reference_logits[index]), "{engine:?} image {index}");
			engine_hashes.push(response.output_hash);
		}
		assert_eq!(labels, reference_labels);
		let reached = accuracy(&labels, &truth);
		assert!((reached - expected_accuracy).abs() < 1e-9, "{engine:?}: accuracy {reached}");
		hashes.push(engine_hashes);
	}
	assert_eq!(hashes[0], hashes[1], "integer-only outputs must hash equal on both engines");
}

#[test]
fn repeated_runs_hash_equal_on_each_engine() {
	let setup = setup();
	let vectors = json("test_vectors.json");
	let pixels = test_pixels(&vectors);
	for engine in ENGINES {
		for model in [&setup.float_hash, &setup.int_hash] {
			for row in pixels.iter().take(20) {
				let input =
					if model == &setup.float_hash { float_input(row) } else { int_input(row) };
				let first = setup.executor.infer(&request(model, input.clone(), engine)).unwrap();
				let second = setup.executor.infer(&request(model, input, engine)).unwrap();
				assert_eq!(first.output_hash, second.output_hash);
				assert!(second.cache_hit);
			}
		}
	}
}

#[test]
fn a_chain_schema_sets_output_fraction_bits_and_is_checked() {
	let setup = setup_with(false, |_| {});
	let vectors = json("test_vectors.json");
	let row = &test_pixels(&vectors)[0];
	let schema = float_model_schema(20);
	let mut with_schema = request(&setup.float_hash, float_input(row), EngineKind::Tract);
	with_schema.schema = Some(schema);
	let response = setup.executor.infer(&with_schema).unwrap();
	assert_eq!(response.outputs[1].frac_bits, 20);
	let sum: i64 = response.outputs[1].values.iter().sum();
	assert!((sum - (1 << 20)).abs() < 16, "probabilities sum to one: {sum}");
	assert_eq!(label(&response), vectors["labels"][0].as_i64().unwrap());

	// The chain's hash of the same outputs: recomputed here from the returned tensors.
	let recomputed = veritensor_executor::tensor::output_hash(&response.outputs).unwrap();
	assert_eq!(veritensor_executor::store::hash_hex(&recomputed), response.output_hash);
}
