//! Executable models of a chosen artifact size and cost, for the benchmarks and tests.
//!
//! Each model has two parts, so that the two components of an on-chain run's weight can be set
//! apart:
//! - **cost**: integer divisions over a `rows × COLUMNS` block broadcast from two small inputs,
//!   then an argmax per row. Division is the interpreter's dearest operation per cost unit
//!   (a 128-bit division per element), so a weight measured on these models bounds every model
//!   of the same cost;
//! - **size**: a chain of `Relu` nodes over a one-element input, each adding a node's bytes for
//!   five cost units, the interpreter's dearest per byte (a step's overhead per element).

use crate::{Config, ConformanceVector};
use alloc::{format, string::String, vec, vec::Vec};
use frame_support::traits::Get;
use sp_core::H256;
use veritensor_interpreter::{writer, ElemType, Model};
use veritensor_primitives::{output_hash, tensor::TensorSpec, ElementType, IoSchema, Tensor};

/// Columns of the division block.
const COLUMNS: u32 = 256;
/// Divisions over the block.
const DIVISIONS: u32 = 3;
/// Most rows: the argmax output (an `i64` a row) stays within an inline tensor of 8192 bytes.
pub const MAX_ROWS: u32 = 1024;

/// An executable model made to measure.
pub struct Fixture {
	/// The ONNX artifact.
	pub artifact: Vec<u8>,
	/// Its schema: inputs `divisors` (I32 `[rows, 1]`), `numerators` (I32 `[1, COLUMNS]`) and
	/// `seed` (I32 `[1]`); outputs `label` (I64 `[rows, 1]`) and `pad` (I32 `[1]`).
	pub schema: IoSchema,
	/// The interpreter's cost of one run.
	pub cost: u64,
}

fn spec(name: &str, elem: ElementType, shape: &[u32]) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().expect("short names; qed"),
		elem,
		shape: shape.to_vec().try_into().expect("ranks of at most two; qed"),
		frac_bits: 0,
	}
}

/// The artifact with `rows` rows and a `Relu` chain of `links` nodes.
fn artifact(rows: u32, links: u32) -> Vec<u8> {
	let (rows, columns) = (rows as usize, COLUMNS as usize);
	let mut nodes = vec![writer::node("Div", &["numerators", "divisors"], &["d0"], &[])];
	for index in 1..DIVISIONS {
		let (from, to) = (format!("d{}", index - 1), format!("d{index}"));
		nodes.push(writer::node("Div", &[&from, "divisors"], &[&to], &[]));
	}
	let last = format!("d{}", DIVISIONS - 1);
	nodes.push(writer::node(
		"ArgMax",
		&[&last],
		&["label"],
		&[writer::attr_int("axis", 1), writer::attr_int("keepdims", 1)],
	));
	let mut from = String::from("seed");
	for index in 0..links {
		let to = if index + 1 == links { String::from("pad") } else { format!("p{index}") };
		nodes.push(writer::node("Relu", &[&from], &[&to], &[]));
		from = to;
	}
	writer::model(
		14,
		&nodes,
		&[],
		&[
			writer::declared("divisors", ElemType::I32, &[rows, 1]),
			writer::declared("numerators", ElemType::I32, &[1, columns]),
			writer::declared("seed", ElemType::I32, &[1]),
		],
		&[
			writer::declared("label", ElemType::I64, &[rows, 1]),
			writer::declared("pad", ElemType::I32, &[1]),
		],
	)
}

/// A model of about `bytes` bytes (at least the smallest such model's) costing about `cost`
/// (at least the smallest's; a row's cost above at most).
pub fn fixture(bytes: u32, cost: u32) -> Fixture {
	let per_row = (DIVISIONS + 1) * COLUMNS;
	let rows = cost.div_ceil(per_row).clamp(1, MAX_ROWS);
	// The most links within `bytes`, found by bisection (each link adds a few bytes).
	let (mut low, mut high) = (1u32, bytes.max(1));
	while low < high {
		let middle = low + (high - low).div_ceil(2);
		if artifact(rows, middle).len() as u32 <= bytes {
			low = middle;
		} else {
			high = middle - 1;
		}
	}
	let artifact = artifact(rows, low);
	let cost = Model::parse(&artifact).expect("the fixture is inside the subset; qed").cost();
	let schema = IoSchema {
		inputs: vec![
			spec("divisors", ElementType::I32, &[rows, 1]),
			spec("numerators", ElementType::I32, &[1, COLUMNS]),
			spec("seed", ElementType::I32, &[1]),
		]
		.try_into()
		.expect("three inputs; qed"),
		outputs: vec![
			spec("label", ElementType::I64, &[rows, 1]),
			spec("pad", ElementType::I32, &[1]),
		]
		.try_into()
		.expect("two outputs; qed"),
	};
	Fixture { artifact, schema, cost }
}

fn filled<B: Get<u32>>(spec: &TensorSpec, value: impl Fn(usize) -> i32) -> Tensor<B> {
	let count = spec.element_count().expect("small shapes; qed") as usize;
	let data: Vec<u8> = (0..count).flat_map(|index| value(index).to_le_bytes()).collect();
	Tensor {
		elem: spec.elem,
		shape: spec.shape.clone(),
		frac_bits: 0,
		data: data.try_into().expect("within an inline tensor; qed"),
	}
}

impl Fixture {
	/// Inputs for vector `seed`: nonzero divisors, so that every run succeeds.
	pub fn inputs<B: Get<u32>>(&self, seed: u32) -> Vec<Tensor<B>> {
		let seed = seed as i32;
		vec![
			filled(&self.schema.inputs[0], |index| (index as i32 + seed) % 5 + 1),
			filled(&self.schema.inputs[1], |index| (index as i32 * 7919 + seed) % 1000 - 500),
			filled(&self.schema.inputs[2], |_| seed - 2),
		]
	}

	/// The hash of the outputs the interpreter computes for `inputs`.
	pub fn output_hash<B: Get<u32>>(&self, inputs: &[Tensor<B>]) -> H256 {
		let model = Model::parse(&self.artifact).expect("the fixture is inside the subset; qed");
		let outputs = crate::execution::run_model(&model, inputs)
			.expect("nonzero divisors: the run succeeds; qed");
		output_hash(&outputs)
	}

	/// `count` conformance vectors with their true output hashes.
	pub fn vectors<T: Config>(&self, count: u32) -> Vec<ConformanceVector<T>> {
		(0..count)
			.map(|seed| {
				let inputs = self.inputs::<T::MaxExecutableTensorBytes>(seed);
				let output_hash = self.output_hash(&inputs);
				ConformanceVector {
					inputs: inputs.try_into().expect("three inputs; qed"),
					output_hash,
				}
			})
			.collect()
	}
}
