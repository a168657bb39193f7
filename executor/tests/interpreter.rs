//! The interpreter as the executor's third engine, against the other two: the integer demo
//! model's 450 recorded images hash equal on all three, and random integer graphs within the
//! subset give exactly ONNX Runtime's outputs.

mod common;

use common::*;
use veritensor_executor::{store::hash_hex, tensor::JsonTensor, EngineKind, InferRequest};
use veritensor_interpreter::{writer, ElemType};
use veritensor_primitives::tensor::ElementType;

#[test]
fn the_integer_demo_model_hashes_equal_on_every_engine() {
	let setup = setup();
	let vectors = json("test_vectors.json");
	let engines = [EngineKind::Tract, EngineKind::OnnxRuntime, EngineKind::Interpreter];
	for (index, pixels) in test_pixels(&vectors).iter().enumerate() {
		let hashes: Vec<String> = engines
			.iter()
			.map(|engine| {
				let request = request(&setup.int_hash, int_input(pixels), *engine);
				setup.executor.infer(&request).expect("every engine runs the model").output_hash
			})
			.collect();
		assert!(hashes.iter().all(|hash| *hash == hashes[0]), "image {index}: {hashes:?}");
	}
}

#[test]
fn float_models_are_refused_by_name() {
	let setup = setup();
	let pixels = vec![0; 64];
	let error = setup
		.executor
		.infer(&request(&setup.float_hash, float_input(&pixels), EngineKind::Interpreter))
		.unwrap_err();
	assert_eq!(error.kind().as_str(), "unsupported_operator", "{error}");
}

/// xorshift64*: deterministic, so a failing graph replays from its seed.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
	fn range(&mut self, low: i64, high: i64) -> i64 {
		low + self.below((high - low + 1) as u64) as i64
	}
}

/// A random graph: its bytes, its input's type and shape, and what it was built from.
struct RandomGraph {
	bytes: Vec<u8>,
	input: (ElemType, Vec<usize>),
	ops: Vec<String>,
}

fn element_type(elem: ElemType) -> ElementType {
	match elem {
		ElemType::U8 => ElementType::U8,
		ElemType::I8 => ElementType::I8,
		ElemType::I16 => ElementType::I16,
		ElemType::I32 => ElementType::I32,
		ElemType::I64 => ElementType::I64,
		ElemType::Bool => ElementType::Bool,
		other => panic!("no wire type for {other:?}"),
	}
}

/// A chain of one to six ops over 32- and 64-bit integers (the types every engine's kernels
/// take), with constants small enough that nothing overflows: the engines agree on exact
/// arithmetic, and the interpreter's wrapping is tested on its own.
fn random_graph(rng: &mut Rng) -> RandomGraph {
	let mut nodes = Vec::new();
	let mut initializers = Vec::new();
	let mut ops = Vec::new();
	let rank = 1 + rng.below(3) as usize;
	let mut shape: Vec<usize> = (0..rank).map(|_| 1 + rng.below(4) as usize).collect();
	// Sometimes the chain starts with a quantised product, as the demo model does.
	let (mut elem, input) = if rng.below(4) == 0 {
		(ElemType::U8, (ElemType::U8, vec![1 + rng.below(3) as usize, 1 + rng.below(6) as usize]))
	} else {
		let elem = if rng.below(2) == 0 { ElemType::I32 } else { ElemType::I64 };
		(elem, (elem, shape.clone()))
	};
	shape = input.1.clone();
	let mut value = String::from("x");
	let mut counter = 0;
	let mut fresh = |prefix: &str| {
		counter += 1;
		format!("{prefix}{counter}")
	};
	if elem == ElemType::U8 {
		let (k, n) = (shape[1], 1 + rng.below(5) as usize);
		let weights: Vec<i64> = (0..k * n).map(|_| rng.range(-20, 20)).collect();
		let (w, zero, out) = (fresh("w"), fresh("z"), fresh("v"));
		initializers.push(writer::int_tensor(&w, ElemType::I8, &[k, n], &weights));
		initializers.push(writer::int_tensor(&zero, ElemType::U8, &[], &[rng.range(0, 5)]));
		nodes.push(writer::node("MatMulInteger", &[&value, &w, &zero], &[&out], &[]));
		ops.push(String::from("MatMulInteger"));
		value = out;
		elem = ElemType::I32;
		shape = vec![shape[0], n];
	}
	for _ in 0..1 + rng.below(6) {
		let out = fresh("v");
		let op = match rng.below(12) {
			0 => "Add",
			1 => "Sub",
			2 => "Mul",
			3 => "Div",
			4 => "Max",
			5 => "Min",
			6 => "Clip",
			7 => "Cast",
			8 => "Reshape",
			9 => "Unsqueeze",
			10 => "MatMul",
			_ => "ArgMax",
		};
		// A scalar (an ArgMax without kept dimensions) gets a dimension back first.
		let op =
			if shape.is_empty() && matches!(op, "MatMul" | "ArgMax") { "Unsqueeze" } else { op };
		match op {
			"Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" => {
				// A constant of the full shape, of its trailing dimensions, or a scalar.
				let trailing = rng.below(shape.len() as u64 + 1) as usize;
				let constant_shape = shape[shape.len() - trailing..].to_vec();
				let count: usize = constant_shape.iter().product();
				let data: Vec<i64> = (0..count)
					.map(|_| {
						let v = rng.range(-9, 9);
						if op == "Div" && v == 0 {
							7
						} else {
							v
						}
					})
					.collect();
				let c = fresh("c");
				initializers.push(writer::int_tensor(&c, elem, &constant_shape, &data));
				let inputs = if rng.below(2) == 0 || op == "Div" {
					[value.as_str(), c.as_str()]
				} else {
					[c.as_str(), value.as_str()]
				};
				nodes.push(writer::node(op, &inputs, &[&out], &[]));
			}
			"Clip" => {
				let (low, high) = (rng.range(-50, 0), rng.range(0, 50));
				let (lo, hi) = (fresh("lo"), fresh("hi"));
				initializers.push(writer::int_tensor(&lo, elem, &[], &[low]));
				initializers.push(writer::int_tensor(&hi, elem, &[], &[high]));
				nodes.push(writer::node("Clip", &[&value, &lo, &hi], &[&out], &[]));
			}
			"Cast" => {
				let to = if elem == ElemType::I32 { ElemType::I64 } else { ElemType::I32 };
				nodes.push(writer::node(
					"Cast",
					&[&value],
					&[&out],
					&[writer::attr_int("to", to.onnx())],
				));
				elem = to;
			}
			"Reshape" => {
				let count: usize = shape.iter().product();
				let target = if rng.below(2) == 0 { vec![-1] } else { vec![1, -1] };
				let s = fresh("s");
				initializers.push(writer::int_tensor(&s, ElemType::I64, &[target.len()], &target));
				nodes.push(writer::node("Reshape", &[&value, &s], &[&out], &[]));
				shape = if target.len() == 1 { vec![count] } else { vec![1, count] };
			}
			"Unsqueeze" => {
				if shape.len() >= 4 {
					continue;
				}
				let a = fresh("a");
				initializers.push(writer::int_tensor(&a, ElemType::I64, &[1], &[0]));
				nodes.push(writer::node("Unsqueeze", &[&value, &a], &[&out], &[]));
				shape.insert(0, 1);
			}
			"MatMul" => {
				let k = *shape.last().unwrap();
				let n = 1 + rng.below(4) as usize;
				let data: Vec<i64> = (0..k * n).map(|_| rng.range(-5, 5)).collect();
				let b = fresh("b");
				initializers.push(writer::int_tensor(&b, elem, &[k, n], &data));
				nodes.push(writer::node("MatMul", &[&value, &b], &[&out], &[]));
				*shape.last_mut().unwrap() = n;
				if shape.len() == 1 {
					shape = vec![n];
				}
			}
			_ => {
				let axis = rng.below(shape.len() as u64) as usize;
				let keepdims = rng.below(2) as i64;
				nodes.push(writer::node(
					"ArgMax",
					&[&value],
					&[&out],
					&[
						writer::attr_int("axis", axis as i64),
						writer::attr_int("keepdims", keepdims),
					],
				));
				if keepdims == 1 {
					shape[axis] = 1;
				} else {
					shape.remove(axis);
				}
				elem = ElemType::I64;
			}
		}
		ops.push(String::from(op));
		value = out;
	}
	// The graph's output is the last value, renamed by an Identity.
	nodes.push(writer::node("Identity", &[&value], &["y"], &[]));
	let bytes = writer::model(
		13,
		&nodes,
		&initializers,
		&[writer::declared("x", input.0, &input.1)],
		&[writer::declared("y", elem, &shape)],
	);
	RandomGraph { bytes, input, ops }
}

#[test]
fn random_integer_graphs_give_exactly_onnx_runtime_s_outputs() {
	let graphs = std::env::var("INTERPRETER_DIFFERENTIAL_GRAPHS")
		.ok()
		.and_then(|value| value.parse().ok())
		.unwrap_or(500u64);
	let setup = setup();
	let mut rng = Rng(0x0dd_ba11);
	for seed in 0..graphs {
		let graph = random_graph(&mut rng);
		let hash = hash_hex(&setup.executor.store().add_bytes(&graph.bytes, None).unwrap());
		let (elem, shape) = &graph.input;
		let count: usize = shape.iter().product();
		let (low, high) = if *elem == ElemType::U8 { (0, 40) } else { (-40, 40) };
		let values: Vec<i64> = (0..count).map(|_| rng.range(low, high)).collect();
		let input = JsonTensor {
			name: None,
			elem: element_type(*elem),
			shape: shape.iter().map(|dim| *dim as u32).collect(),
			frac_bits: 0,
			values,
		};
		let run = |engine| {
			let request = InferRequest {
				inputs: vec![input.clone()],
				..request(&hash, input.clone(), engine)
			};
			setup.executor.infer(&request)
		};
		let expected = run(EngineKind::OnnxRuntime)
			.unwrap_or_else(|e| panic!("graph {seed} ({:?}): ONNX Runtime: {e}", graph.ops));
		let got = run(EngineKind::Interpreter)
			.unwrap_or_else(|e| panic!("graph {seed} ({:?}): interpreter: {e}", graph.ops));
		assert_eq!(got.outputs, expected.outputs, "graph {seed} ({:?}) on {input:?}", graph.ops);
		assert_eq!(got.output_hash, expected.output_hash);
	}
}
