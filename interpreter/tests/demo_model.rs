//! The integer demo model on the interpreter: every recorded test image gives exactly the
//! logits and label ONNX Runtime recorded.

use veritensor_interpreter::{ElemType, Error, Model, Tensor};

const MODEL: &[u8] = include_bytes!("../../executor/demo-models/mlp_digits_int.onnx");
const VECTORS: &str = include_str!("../../executor/demo-models/test_vectors.json");

fn vectors() -> serde_json::Value {
	serde_json::from_str(VECTORS).expect("the test vectors are JSON")
}

fn pixels(image: &serde_json::Value) -> Tensor {
	let data = image.as_array().unwrap().iter().map(|p| p.as_i64().unwrap()).collect();
	Tensor::new(ElemType::U8, vec![1, 64], data).unwrap()
}

#[test]
fn every_recorded_image_gives_onnx_runtime_s_logits_and_label() {
	let model = Model::parse(MODEL).expect("the integer demo model is in the subset");
	let vectors = vectors();
	let recorded = &vectors["mlp_digits_int"];
	let images = vectors["pixels"].as_array().unwrap();
	assert_eq!(images.len(), 450);
	for (index, image) in images.iter().enumerate() {
		let outputs = model.run(&[pixels(image)], model.cost()).unwrap();
		let label = recorded["labels"][index].as_i64().unwrap();
		let logits: Vec<i64> = recorded["logits"][index]
			.as_array()
			.unwrap()
			.iter()
			.map(|value| value.as_i64().unwrap())
			.collect();
		assert_eq!(outputs[0], Tensor::new(ElemType::I64, vec![1], vec![label]).unwrap());
		assert_eq!(
			outputs[1],
			Tensor::new(ElemType::I32, vec![1, 10], logits).unwrap(),
			"image {index}"
		);
	}
}

#[test]
fn the_cost_model_counts_the_demo_model_s_work_and_a_smaller_budget_refuses_the_run() {
	let model = Model::parse(MODEL).unwrap();
	// The nodes' work: two products (64 × 64 and 64 × 10 multiply-accumulates), five
	// element-wise ops over 64 hidden units, one bias over 10 logits, the argmax over 10.
	let work = 64 * 64 + 64 * 10 + 5 * 64 + 10 + 10;
	// Copies a run makes: the constants (two weight matrices, two biases, three scalars), the
	// input, the outputs.
	let copies = (64 * 64 + 64 + 3 + 64 * 10 + 10) + 64 + (1 + 10);
	// A base per node: one, its inputs, its output's rank (seven nodes of two inputs and a
	// matrix out, the Cast, and the ArgMax to a vector).
	let bases = 7 * (1 + 2 + 2) + (1 + 1 + 2) + (1 + 1 + 1);
	let expected = work + copies + bases;
	assert_eq!(model.cost(), expected);
	let image = pixels(&vectors()["pixels"][0]);
	assert_eq!(
		model.run(&[image], expected - 1),
		Err(Error::OverBudget { cost: expected, budget: expected - 1 })
	);
}

#[test]
fn inputs_that_do_not_match_their_declaration_are_refused() {
	let model = Model::parse(MODEL).unwrap();
	let wrong_shape = Tensor::new(ElemType::U8, vec![64], vec![0; 64]).unwrap();
	assert!(matches!(model.run(&[wrong_shape], u64::MAX), Err(Error::Input { .. })));
	let wrong_type = Tensor::new(ElemType::I8, vec![1, 64], vec![0; 64]).unwrap();
	assert!(matches!(model.run(&[wrong_type], u64::MAX), Err(Error::Input { .. })));
	let out_of_range = Tensor { elem: ElemType::U8, shape: vec![1, 64], data: vec![256; 64] };
	assert!(matches!(model.run(&[out_of_range], u64::MAX), Err(Error::Input { .. })));
}
