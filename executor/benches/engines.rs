//! Per-inference latency and throughput of each demo model through each engine, in one process
//! with one thread per inference, next to a bare ONNX Runtime session on the same model.
//!
//!     cargo bench -p veritensor-executor --bench engines [-- --seconds 3]
//!
//! Paths measured per model:
//! - `bare onnxruntime`: a session built directly with `ort` (same options as the executor's)
//!   and the least a caller must do per new input: wrap a ready native buffer (f32 or u8) in a
//!   tensor, `run`, and copy the outputs out. The floor.
//! - `executor tract` / `executor onnxruntime` / `executor interpreter` (integer model only):
//!   `Executor::infer` from a JSON-form request,
//!   with everything that path does: checks, fixed-point conversion both ways, the model cache,
//!   the engine, and both canonical hashes.
//! - `isolated …`: the same through an isolated executor, whose children (this crate's binary)
//!   run the models; `hop` is what the isolation adds per inference (request and answer through
//!   pipes, JSON both ways).
//!
//! Then the `slow_matmul` fixture (69 GFLOP) on ONNX Runtime in process and isolated: the
//! isolation's cost relative to heavy work.
//!
//! Rounds alternate the paths so that machine noise hits them alike; the median round is
//! reported. Needs the ONNX Runtime library (scripts/setup-onnxruntime.sh).

mod common;

use common::{demo_dir, images, library, median, seconds_argument};
use ort::value::Tensor;
use std::{
	path::PathBuf,
	time::{Duration, Instant},
};
use veritensor_executor::{
	isolation::{self, IsolationConfig},
	store::hash_hex,
	tensor::JsonTensor,
	Config, EngineKind, Executor, InferRequest,
};
use veritensor_primitives::tensor::ElementType;

const ROUNDS: usize = 15;

struct Model {
	name: &'static str,
	file: &'static str,
	elem: ElementType,
}

const MODELS: [Model; 2] = [
	Model { name: "mlp_digits_f32", file: "mlp_digits_f32.onnx", elem: ElementType::F32 },
	Model { name: "mlp_digits_int", file: "mlp_digits_int.onnx", elem: ElementType::U8 },
];

/// Runs `step` in batches until `budget` is spent; returns seconds per call of each batch.
fn time_batches(budget: Duration, mut step: impl FnMut(usize)) -> f64 {
	// A batch size that takes about a millisecond or more, found once.
	let mut batch = 1usize;
	loop {
		let started = Instant::now();
		for i in 0..batch {
			step(i);
		}
		if started.elapsed() >= Duration::from_millis(1) || batch >= 1 << 16 {
			break;
		}
		batch *= 2;
	}
	let started = Instant::now();
	let mut calls = 0usize;
	while started.elapsed() < budget {
		for i in 0..batch {
			step(calls + i);
		}
		calls += batch;
	}
	started.elapsed().as_secs_f64() / calls as f64
}

fn main() {
	let seconds = seconds_argument(3.0);
	// `--seconds` is the time each path gets per model, spread over the rounds.
	let per_round = Duration::from_secs_f64(seconds / ROUNDS as f64);
	let library = library();

	let dir = std::env::temp_dir().join(format!("veritensor-bench-{}", std::process::id()));
	let mut config = Config::new(&dir);
	config.onnxruntime_library = Some(library.clone());
	config.threads = 1;
	let mut isolated_config = config.clone();
	let executor = Executor::new(config).expect("executor");
	isolated_config.isolation = Some(IsolationConfig::new(
		env!("CARGO_BIN_EXE_veritensor-executor"),
		&[isolation::CHILD_SUBCOMMAND],
	));
	let isolated = Executor::new(isolated_config).expect("isolated executor");
	let environment =
		veritensor_executor::engine::shared_environment(&library).expect("onnxruntime");
	let images = images();

	println!(
		"veritensor-executor engine benchmark: {} images, {ROUNDS} rounds, 1 thread",
		images.len()
	);
	println!(
		"{:<16} {:<22} {:>12} {:>14} {:>10}",
		"model", "path", "µs/infer", "infer/s", "vs bare"
	);
	for model in MODELS {
		let bytes = std::fs::read(demo_dir().join(model.file)).expect("model file");
		let hash = hash_hex(&executor.store().add_bytes(&bytes, None).expect("store"));
		let requests: Vec<InferRequest> = images
			.iter()
			.map(|pixels| InferRequest {
				model: hash.clone(),
				inputs: vec![JsonTensor {
					name: None,
					elem: model.elem,
					shape: vec![1, 64],
					frac_bits: if model.elem == ElementType::F32 { 8 } else { 0 },
					values: if model.elem == ElementType::F32 {
						pixels.iter().map(|p| p << 8).collect()
					} else {
						pixels.clone()
					},
				}],
				engine: None,
				engine_version: None,
				schema: None,
				output_frac_bits: None,
				fetch_from: Vec::new(),
				input_from: None,
			})
			.collect();

		let mut session = veritensor_executor::engine::onnxruntime_session(&environment, &bytes, 1)
			.unwrap_or_else(|e| panic!("bare session: {e}"));
		let input_name = session.inputs()[0].name().to_string();
		let floats: Vec<Vec<f32>> =
			images.iter().map(|pixels| pixels.iter().map(|p| *p as f32).collect()).collect();
		let bytes_in: Vec<Vec<u8>> =
			images.iter().map(|pixels| pixels.iter().map(|p| *p as u8).collect()).collect();

		let mut bare = Vec::new();
		// The interpreter runs integer models only.
		let mut engines = vec![EngineKind::OnnxRuntime, EngineKind::Tract];
		if model.elem != ElementType::F32 {
			engines.push(EngineKind::Interpreter);
		}
		let mut paths: Vec<(EngineKind, bool, Vec<f64>)> = engines
			.iter()
			.flat_map(|engine| [(*engine, false, Vec::new()), (*engine, true, Vec::new())])
			.collect();
		for engine in engines {
			// Warm the cache and the engine before timing.
			let mut warm = requests[0].clone();
			warm.engine = Some(engine);
			executor.infer(&warm).expect("warm-up");
			isolated.infer(&warm).expect("warm-up");
		}
		for _ in 0..ROUNDS {
			bare.push(time_batches(per_round, |i| {
				let input = match model.elem {
					ElementType::F32 => {
						Tensor::from_array(([1usize, 64], floats[i % floats.len()].clone()))
							.expect("tensor")
							.into_dyn()
					}
					_ => Tensor::from_array(([1usize, 64], bytes_in[i % bytes_in.len()].clone()))
						.expect("tensor")
						.into_dyn(),
				};
				let outputs = session.run(vec![(input_name.as_str(), input)]).expect("bare run");
				let label: Vec<i64> =
					outputs[0].try_extract_tensor::<i64>().expect("label").1.to_vec();
				let scores = match model.elem {
					ElementType::F32 => {
						outputs[1].try_extract_tensor::<f32>().expect("scores").1.to_vec().len()
					}
					_ => outputs[1].try_extract_tensor::<i32>().expect("scores").1.to_vec().len(),
				};
				std::hint::black_box((label, scores));
			}));
			for (engine, in_child, samples) in paths.iter_mut() {
				let mut engine_requests = requests.clone();
				for request in engine_requests.iter_mut() {
					request.engine = Some(*engine);
				}
				let runner = if *in_child { &isolated } else { &executor };
				samples.push(time_batches(per_round, |i| {
					let response =
						runner.infer(&engine_requests[i % engine_requests.len()]).expect("infer");
					std::hint::black_box(response.output_hash);
				}));
			}
		}
		let floor = median(bare);
		let row = |path: &str, seconds: f64| {
			println!(
				"{:<16} {:<22} {:>12.2} {:>14.0} {:>9.2}x",
				model.name,
				path,
				seconds * 1e6,
				1.0 / seconds,
				seconds / floor
			);
		};
		row("bare onnxruntime", floor);
		let mut in_process = 0.0;
		for (engine, in_child, samples) in paths {
			let seconds = median(samples);
			if in_child {
				row(&format!("isolated {}", engine.name()), seconds);
				println!(
					"{:<16} {:<22} {:>+12.2}",
					model.name,
					format!("hop {}", engine.name()),
					(seconds - in_process) * 1e6
				);
			} else {
				in_process = seconds;
				row(&format!("executor {}", engine.name()), seconds);
			}
		}
	}
	heavy_work(&executor, &isolated);
	let _ = std::fs::remove_dir_all(&dir);
}

/// `slow_matmul` on ONNX Runtime, in process and isolated, alternating; medians of 7 runs each.
fn heavy_work(executor: &Executor, isolated: &Executor) {
	let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/slow_matmul.onnx");
	let bytes = std::fs::read(path).expect("the slow_matmul fixture");
	let hash = hash_hex(&executor.store().add_bytes(&bytes, None).expect("store"));
	let request = InferRequest {
		model: hash,
		inputs: vec![JsonTensor {
			name: None,
			elem: ElementType::F32,
			shape: vec![1],
			frac_bits: 0,
			values: vec![1],
		}],
		engine: Some(EngineKind::OnnxRuntime),
		engine_version: None,
		schema: None,
		output_frac_bits: None,
		fetch_from: Vec::new(),
		input_from: None,
	};
	executor.infer(&request).expect("warm-up");
	isolated.infer(&request).expect("warm-up");
	let (mut here, mut there) = (Vec::new(), Vec::new());
	for _ in 0..7 {
		for (runner, samples) in [(executor, &mut here), (isolated, &mut there)] {
			let started = Instant::now();
			runner.infer(&request).expect("slow_matmul");
			samples.push(started.elapsed().as_secs_f64());
		}
	}
	let (here, there) = (median(here), median(there));
	println!(
		"slow_matmul onnxruntime: {:.1} ms in process, {:.1} ms isolated: {:.3}x",
		here * 1e3,
		there * 1e3,
		there / here
	);
}
