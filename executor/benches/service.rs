//! Throughput of the float demo model with two concurrent clients: the HTTP service as a
//! worker runs it (models in child processes, two inferences at once, one ONNX Runtime thread
//! each) next to bare ONNX Runtime with the same threads (two sessions of one intra-op thread,
//! each driven by its own thread).
//!
//!     cargo bench -p veritensor-executor --bench service [-- --seconds 10] [--only http]
//!
//! Paths, each for `--seconds` (default 10), in rounds that alternate them:
//! - `bare onnxruntime`: two threads, each with its own session, run new inputs back to back.
//! - `isolated executor`: two threads call `Executor::infer` on an isolated executor (JSON-form
//!   request, checks, fixed-point conversion, the child process hop, hashes): no HTTP.
//! - `http service`: two clients, each on its own keep-alive connection, post `/v1/infer` to
//!   the service on loopback (`--max-concurrent 2 --threads 1 --engine onnxruntime`).
//!
//! `--only P` runs just the paths whose name contains `P` (`bare`, `isolated`, `http`), for a
//! profiler. Everything shares the machine's cores: clients, service, children. Needs the ONNX Runtime
//! library (scripts/setup-onnxruntime.sh).

mod common;

use common::{demo_dir, images, library, median, seconds_argument};
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Request};
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use ort::value::Tensor;
use std::{
	sync::Arc,
	time::{Duration, Instant},
};
use veritensor_executor::{
	isolation::{self, IsolationConfig},
	server::{self, ServerConfig},
	store::hash_hex,
	tensor::JsonTensor,
	Config, EngineKind, Executor, InferRequest,
};
use veritensor_primitives::tensor::ElementType;

const CLIENTS: usize = 2;
const ROUNDS: usize = 5;

/// What one client does until the deadline; returns the inferences it completed.
type ClientLoop<'a> = dyn Fn(usize, Instant) -> usize + Sync + 'a;

/// Runs `work(client, deadline)` on `CLIENTS` threads at once until `budget` passes; each
/// returns how many inferences it completed. Returns inferences per second, all together.
fn concurrently(budget: Duration, work: impl Fn(usize, Instant) -> usize + Sync) -> f64 {
	let started = Instant::now();
	let deadline = started + budget;
	let done: usize = std::thread::scope(|scope| {
		let work = &work;
		let handles: Vec<_> =
			(0..CLIENTS).map(|client| scope.spawn(move || work(client, deadline))).collect();
		handles.into_iter().map(|handle| handle.join().expect("a client thread")).sum()
	});
	done as f64 / started.elapsed().as_secs_f64()
}

fn main() {
	let seconds = seconds_argument(10.0);
	let per_round = Duration::from_secs_f64(seconds / ROUNDS as f64);
	let library = library();
	let dir = std::env::temp_dir().join(format!("veritensor-bench-service-{}", std::process::id()));
	let mut config = Config::new(&dir);
	config.onnxruntime_library = Some(library.clone());
	config.threads = 1;
	config.default_engine = EngineKind::OnnxRuntime;
	config.isolation = Some(IsolationConfig::new(
		env!("CARGO_BIN_EXE_veritensor-executor"),
		&[isolation::CHILD_SUBCOMMAND],
	));
	let executor = Arc::new(Executor::new(config).expect("isolated executor"));
	let bytes = std::fs::read(demo_dir().join("mlp_digits_f32.onnx")).expect("model file");
	let hash = hash_hex(&executor.store().add_bytes(&bytes, None).expect("store"));
	let images = images();
	let requests: Vec<InferRequest> = images
		.iter()
		.map(|pixels| InferRequest {
			model: hash.clone(),
			inputs: vec![JsonTensor {
				name: None,
				elem: ElementType::F32,
				shape: vec![1, 64],
				frac_bits: 8,
				values: pixels.iter().map(|p| p << 8).collect(),
			}],
			engine: Some(EngineKind::OnnxRuntime),
			engine_version: None,
			schema: None,
			output_frac_bits: None,
			fetch_from: Vec::new(),
			input_from: None,
		})
		.collect();
	let bodies: Vec<Bytes> = requests
		.iter()
		.map(|request| Bytes::from(serde_json::to_vec(request).expect("a request as JSON")))
		.collect();

	// The service, on its own runtime.
	let service = tokio::runtime::Builder::new_multi_thread()
		.worker_threads(2)
		.enable_all()
		.build()
		.expect("the service's runtime");
	let mut server_config = ServerConfig::loopback(0);
	server_config.max_concurrent = CLIENTS;
	let listener = service.block_on(server::bind(&server_config)).expect("bind");
	let address = listener.local_addr().expect("address");
	service.spawn(server::serve(listener, executor.clone(), server_config, std::future::pending()));

	// Bare ONNX Runtime: a session per client thread, one intra-op thread each.
	let environment =
		veritensor_executor::engine::shared_environment(&library).expect("onnxruntime");
	let sessions: Vec<std::sync::Mutex<_>> = (0..CLIENTS)
		.map(|_| {
			std::sync::Mutex::new(
				veritensor_executor::engine::onnxruntime_session(&environment, &bytes, 1)
					.unwrap_or_else(|e| panic!("bare session: {e}")),
			)
		})
		.collect();
	let input_name = sessions[0].lock().expect("session").inputs()[0].name().to_string();
	let floats: Vec<Vec<f32>> =
		images.iter().map(|pixels| pixels.iter().map(|p| *p as f32).collect()).collect();

	let bare = |client: usize, deadline: Instant| {
		let mut session = sessions[client].lock().expect("session");
		let mut done = 0;
		while Instant::now() < deadline {
			let input = Tensor::from_array(([1usize, 64], floats[done % floats.len()].clone()))
				.expect("tensor");
			let outputs = session.run(vec![(input_name.as_str(), input.into_dyn())]).expect("run");
			let label: Vec<i64> = outputs[0].try_extract_tensor::<i64>().expect("label").1.to_vec();
			let scores = outputs[1].try_extract_tensor::<f32>().expect("scores").1.to_vec();
			std::hint::black_box((label, scores));
			done += 1;
		}
		done
	};
	let isolated = |client: usize, deadline: Instant| {
		let mut done = 0;
		while Instant::now() < deadline {
			let request = &requests[(done * CLIENTS + client) % requests.len()];
			std::hint::black_box(executor.infer(request).expect("infer").output_hash);
			done += 1;
		}
		done
	};
	let over_http = |client: usize, deadline: Instant| {
		let runtime = tokio::runtime::Builder::new_current_thread()
			.enable_all()
			.build()
			.expect("a client runtime");
		runtime.block_on(async {
			let http = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
			let mut done = 0;
			while Instant::now() < deadline {
				let body = bodies[(done * CLIENTS + client) % bodies.len()].clone();
				let request = Request::post(format!("http://{address}/v1/infer"))
					.header("content-type", "application/json")
					.body(Full::new(body))
					.expect("a request");
				let response = http.request(request).await.expect("an answer");
				assert!(response.status().is_success(), "inference failed: {}", response.status());
				std::hint::black_box(response.into_body().collect().await.expect("a body"));
				done += 1;
			}
			done
		})
	};

	let paths: [(&str, &ClientLoop); 3] = [
		("bare onnxruntime", &bare),
		("isolated executor", &isolated),
		("http service", &over_http),
	];
	let only = std::env::args().skip_while(|a| a != "--only").nth(1);
	let chosen: Vec<_> =
		paths.iter().filter(|(path, _)| only.as_deref().is_none_or(|o| path.contains(o))).collect();
	assert!(!chosen.is_empty(), "--only names none of the paths (bare, isolated, http)");
	// Warm every path: the children's sessions, the connections.
	for (_, work) in &chosen {
		concurrently(Duration::from_millis(300), work);
	}
	let mut rates = vec![Vec::new(); chosen.len()];
	for _ in 0..ROUNDS {
		for ((_, work), rates) in chosen.iter().zip(&mut rates) {
			rates.push(concurrently(per_round, work));
		}
	}
	let rates: Vec<f64> = rates.into_iter().map(median).collect();
	let floor = chosen.iter().zip(&rates).find(|((path, _), _)| path.starts_with("bare"));
	let floor = floor.map(|(_, rate)| *rate);
	println!(
		"mlp_digits_f32 on ONNX Runtime, {CLIENTS} concurrent clients, 1 intra-op thread per \
		 inference, {ROUNDS} rounds of {:.1} s (median)",
		per_round.as_secs_f64()
	);
	println!("{:<20} {:>12} {:>14} {:>10}", "path", "infer/s", "µs/infer/client", "vs bare");
	for ((path, _), rate) in chosen.iter().zip(&rates) {
		let versus = floor.map(|floor| format!("{:.2}x", floor / rate)).unwrap_or_default();
		println!("{path:<20} {rate:>12.0} {:>14.1} {versus:>10}", 1e6 * CLIENTS as f64 / rate);
	}
	drop(service);
	let _ = std::fs::remove_dir_all(&dir);
}
