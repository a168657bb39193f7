//! The HTTP service on a real loopback socket: every endpoint, JSON errors, the token, the
//! deadline and the concurrency limit, the metrics they leave behind, and models in child
//! processes that break their limits, pass their deadline or are killed.

mod common;

use common::*;
use http_body_util::{BodyExt, Full};
use hyper::{body::Bytes, Method, Request, StatusCode};
use hyper_util::{
	client::legacy::{connect::HttpConnector, Client},
	rt::TokioExecutor,
};
use serde_json::{json, Value};
use std::{net::SocketAddr, sync::Arc, time::Duration};
use veritensor_executor::{
	isolation::{self, IsolationConfig},
	server::{self, ServerConfig},
	Config, EngineKind, Executor,
};

struct Service {
	address: SocketAddr,
	client: Client<HttpConnector, Full<Bytes>>,
	token: Option<String>,
	_dir: tempfile::TempDir,
}

impl Service {
	async fn start(
		adjust: impl FnOnce(&mut ServerConfig),
		adjust_executor: impl FnOnce(&mut Config),
	) -> Self {
		let dir = tempfile::tempdir().unwrap();
		let mut config = Config::new(dir.path().join("store"));
		config.onnxruntime_library = Some(onnxruntime_library());
		adjust_executor(&mut config);
		let executor = Arc::new(Executor::new(config).unwrap());
		let mut server_config = ServerConfig::loopback(0);
		adjust(&mut server_config);
		let listener = server::bind(&server_config).await.unwrap();
		let address = listener.local_addr().unwrap();
		let token = server_config.token.clone();
		tokio::spawn(server::serve(listener, executor, server_config, std::future::pending()));
		let client = Client::builder(TokioExecutor::new()).build_http();
		Self { address, client, token, _dir: dir }
	}

	async fn call_with(
		&self,
		method: Method,
		path: &str,
		body: Vec<u8>,
		token: Option<&str>,
	) -> (StatusCode, Vec<u8>) {
		self.call_headed(method, path, body, token, &[]).await
	}

	async fn call_headed(
		&self,
		method: Method,
		path: &str,
		body: Vec<u8>,
		token: Option<&str>,
		headers: &[(&str, &str)],
	) -> (StatusCode, Vec<u8>) {
		let mut request =
			Request::builder().method(method.clone()).uri(format!("http://{}{path}", self.address));
		for (name, value) in headers {
			request = request.header(*name, *value);
		}
		if let Some(token) = token {
			request = request.header("authorization", format!("Bearer {token}"));
		}
		if method == Method::POST {
			request = request.header("content-type", "application/json");
		}
		let response =
			self.client.request(request.body(Full::new(Bytes::from(body))).unwrap()).await.unwrap();
		let status = response.status();
		(status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
	}

	async fn call(&self, method: Method, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
		let (status, bytes) = self.call_with(method, path, body, self.token.as_deref()).await;
		(status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
	}

	async fn upload(&self, bytes: Vec<u8>) -> String {
		let (status, body) = self.call(Method::PUT, "/v1/models", bytes).await;
		assert_eq!(status, StatusCode::CREATED, "{body}");
		body["hash"].as_str().unwrap().to_string()
	}
}

fn infer_body(model: &str, pixels: &[i64], engine: &str) -> Vec<u8> {
	json!({
		"model": model,
		"engine": engine,
		"inputs": [{ "elem": "U8", "shape": [1, 64], "values": pixels }],
	})
	.to_string()
	.into_bytes()
}

fn error_kind(body: &Value) -> &str {
	body["error"]["kind"].as_str().unwrap_or("<no error kind>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn models_are_uploaded_inspected_and_run_synchronously_and_asynchronously() {
	let service = Service::start(|_| {}, |_| {}).await;
	let (status, health) = service.call(Method::GET, "/health", vec![]).await;
	assert_eq!(status, StatusCode::OK);
	assert_eq!(health["status"], "ok");
	// tract, the interpreter and ONNX Runtime.
	let engines: Vec<&str> = health["engines"]
		.as_array()
		.unwrap()
		.iter()
		.map(|engine| engine["engine"].as_str().unwrap())
		.collect();
	assert_eq!(engines, ["tract", "interpreter", "onnxruntime"]);

	let hash = service.upload(demo_model(INT_MODEL)).await;
	assert_eq!(hash, json("models.json")["models"]["mlp_digits_int"]["hash"].as_str().unwrap());
	let (status, info) = service.call(Method::GET, &format!("/v1/models/{hash}"), vec![]).await;
	assert_eq!(status, StatusCode::OK);
	assert_eq!(info["signature"]["inputs"][0]["name"], "pixels");
	assert_eq!(info["signature"]["outputs"][1]["name"], "logits");

	let vectors = json("test_vectors.json");
	let pixels = &test_pixels(&vectors)[5];
	let label = vectors["labels"][5].as_i64().unwrap();
	let mut hashes = Vec::new();
	for engine in ["tract", "onnxruntime"] {
		let (status, result) =
			service.call(Method::POST, "/v1/infer", infer_body(&hash, pixels, engine)).await;
		assert_eq!(status, StatusCode::OK, "{result}");
		assert_eq!(result["engine"], engine);
		assert_eq!(result["outputs"][0]["values"][0].as_i64().unwrap(), label);
		hashes.push(result["output_hash"].as_str().unwrap().to_string());
	}
	assert_eq!(hashes[0], hashes[1]);

	// The same inference as an asynchronous task.
	let (status, task) =
		service.call(Method::POST, "/v1/tasks", infer_body(&hash, pixels, "tract")).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{task}");
	let id = task["id"].as_str().unwrap().to_string();
	let mut polled = Value::Null;
	for _ in 0..100 {
		let (status, body) = service.call(Method::GET, &format!("/v1/tasks/{id}"), vec![]).await;
		assert_eq!(status, StatusCode::OK);
		polled = body;
		if polled["state"] != "running" {
			break;
		}
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	assert_eq!(polled["state"], "done", "{polled}");
	assert_eq!(polled["result"]["output_hash"].as_str().unwrap(), hashes[0]);

	let (status, body) = service.call(Method::GET, "/v1/tasks/0000000000000000", vec![]).await;
	assert_eq!((status, error_kind(&body)), (StatusCode::NOT_FOUND, "unknown_task"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_is_json_with_its_kind_and_the_service_keeps_serving() {
	let service = Service::start(|_| {}, |config| config.max_model_bytes = 16 << 10).await;
	let hash = service.upload(demo_model(INT_MODEL)).await;
	let cases: Vec<(Method, String, Vec<u8>, StatusCode, &str)> = vec![
		(Method::PUT, "/v1/models".into(), b"definitely not onnx".to_vec(), StatusCode::UNPROCESSABLE_ENTITY, "corrupt_model"),
		(Method::PUT, "/v1/models".into(), demo_model(FLOAT_MODEL), StatusCode::PAYLOAD_TOO_LARGE, "model_too_large"),
		(
			Method::PUT,
			format!("/v1/models?hash=0x{}", "ab".repeat(32)),
			demo_model(INT_MODEL),
			StatusCode::UNPROCESSABLE_ENTITY,
			"hash_mismatch",
		),
		(Method::PUT, "/v1/models".into(), fixture("unsupported_op.onnx"), StatusCode::CREATED, ""),
		(Method::POST, "/v1/infer".into(), b"{not json".to_vec(), StatusCode::BAD_REQUEST, "bad_input"),
		(
			Method::POST,
			"/v1/infer".into(),
			json!({"model": hash, "inputs": [], "surprise": 1}).to_string().into_bytes(),
			StatusCode::BAD_REQUEST,
			"bad_input",
		),
		(
			Method::POST,
			"/v1/infer".into(),
			json!({"model": hash, "inputs": [{"elem": "F32", "shape": [1, 64], "frac_bits": 8, "values": vec![0; 64]}]})
				.to_string()
				.into_bytes(),
			StatusCode::UNPROCESSABLE_ENTITY,
			"schema_mismatch",
		),
		(
			Method::POST,
			"/v1/infer".into(),
			infer_body(&format!("0x{}", "00".repeat(32)), &[0; 64], "tract"),
			StatusCode::NOT_FOUND,
			"model_not_found",
		),
		(Method::GET, format!("/v1/models/0x{}", "00".repeat(32)), vec![], StatusCode::NOT_FOUND, "model_not_found"),
	];
	for (method, path, body, status, kind) in cases {
		let (got, reply) = service.call(method.clone(), &path, body).await;
		assert_eq!(got, status, "{method} {path}: {reply}");
		if !kind.is_empty() {
			assert_eq!(error_kind(&reply), kind, "{method} {path}");
			assert!(!reply["error"]["message"].as_str().unwrap().is_empty());
		}
	}
	// The unsupported model was stored (it is a readable file) and fails when run.
	let unsupported = sp_crypto_hashing::blake2_256(&fixture("unsupported_op.onnx"));
	let body = json!({"model": format!("0x{}", hex::encode(unsupported)),
		"inputs": [{"elem": "F32", "shape": [1, 4], "frac_bits": 0, "values": [1, 2, 3, 4]}]});
	let (status, reply) =
		service.call(Method::POST, "/v1/infer", body.to_string().into_bytes()).await;
	assert_eq!(
		(status, error_kind(&reply)),
		(StatusCode::UNPROCESSABLE_ENTITY, "unsupported_operator")
	);

	// Still serving, and the good model still runs.
	let (status, _) =
		service.call(Method::POST, "/v1/infer", infer_body(&hash, &[1; 64], "tract")).await;
	assert_eq!(status, StatusCode::OK);

	let (status, bytes) = service.call_with(Method::GET, "/metrics", vec![], None).await;
	assert_eq!(status, StatusCode::OK);
	let metrics = String::from_utf8(bytes).unwrap();
	for line in [
		"veritensor_executor_errors_total{kind=\"corrupt_model\"} 1",
		"veritensor_executor_errors_total{kind=\"unsupported_operator\"} 1",
		"veritensor_executor_errors_total{kind=\"model_not_found\"} 2",
		"veritensor_executor_requests_total{endpoint=\"upload_model\"} 5",
		"veritensor_executor_model_cache_misses_total 4",
		"veritensor_executor_inference_seconds_count{engine=\"tract\"} 1",
	] {
		assert!(metrics.lines().any(|l| l == line), "missing `{line}` in\n{metrics}");
	}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_guards_everything_but_health() {
	let service = Service::start(|config| config.token = Some("s3cret-token".into()), |_| {}).await;
	let (status, _) = service.call_with(Method::GET, "/health", vec![], None).await;
	assert_eq!(status, StatusCode::OK);
	for token in [None, Some("wrong-token!"), Some("s3cret")] {
		let (status, body) = service.call_with(Method::GET, "/metrics", vec![], token).await;
		assert_eq!(status, StatusCode::UNAUTHORIZED);
		let body: Value = serde_json::from_slice(&body).unwrap();
		assert_eq!(error_kind(&body), "unauthorized");
	}
	let (status, _) =
		service.call_with(Method::GET, "/metrics", vec![], Some("s3cret-token")).await;
	assert_eq!(status, StatusCode::OK);

	let mut exposed = ServerConfig::loopback(0);
	exposed.listen = "0.0.0.0:0".parse().unwrap();
	assert!(exposed.validate().is_err(), "a public address without a token is refused");
	exposed.token = Some("t".into());
	assert!(exposed.validate().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_and_the_concurrency_limit_hold() {
	let service = Service::start(
		|config| {
			config.request_timeout = Duration::from_millis(50);
			config.max_concurrent = 1;
		},
		|_| {},
	)
	.await;
	let slow = service.upload(fixture("slow_matmul.onnx")).await;
	let fast = service.upload(demo_model(INT_MODEL)).await;
	let slow_body = |engine: &str| {
		json!({"model": slow, "engine": engine, "inputs": [{"elem": "F32", "shape": [1], "frac_bits": 0, "values": [1]}]})
			.to_string()
			.into_bytes()
	};
	// Too slow for the deadline: a timeout, and the service answers meanwhile.
	let started = std::time::Instant::now();
	let (status, body) = service.call(Method::POST, "/v1/infer", slow_body("tract")).await;
	assert_eq!((status, error_kind(&body)), (StatusCode::GATEWAY_TIMEOUT, "timeout"), "{body}");
	assert!(started.elapsed() < Duration::from_secs(2));
	let (status, _) = service.call(Method::GET, "/health", vec![]).await;
	assert_eq!(status, StatusCode::OK);

	// The timed-out run still holds the only slot until it ends: the next request waits for
	// it and gives up at its own deadline.
	let (status, body) =
		service.call(Method::POST, "/v1/infer", infer_body(&fast, &[1; 64], "tract")).await;
	assert_eq!(
		(status, error_kind(&body)),
		(StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
		"{body}"
	);

	// Long work belongs in a task: it outlives the request deadline and finishes.
	let (status, task) = service.call(Method::POST, "/v1/tasks", slow_body("onnxruntime")).await;
	assert_eq!(status, StatusCode::ACCEPTED);
	let id = task["id"].as_str().unwrap().to_string();
	let mut polled = Value::Null;
	for _ in 0..600 {
		let (_, body) = service.call(Method::GET, &format!("/v1/tasks/{id}"), vec![]).await;
		polled = body;
		if polled["state"] != "running" {
			break;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	assert_eq!(polled["state"], "done", "{polled}");
	assert_eq!(polled["result"]["engine"], EngineKind::OnnxRuntime.name());
	println!("slow model on onnxruntime: {} us", polled["result"]["timing"]["inference_us"]);
	// Once the slot is free again, a quick request succeeds. The deadline is 50 ms, which a
	// loaded machine's scheduler alone can exceed: a few tries tell a free slot from noise.
	let mut answers = Vec::new();
	for _ in 0..3 {
		let (status, body) =
			service.call(Method::POST, "/v1/infer", infer_body(&fast, &[1; 64], "tract")).await;
		if status == StatusCode::OK {
			return;
		}
		answers.push(body);
	}
	panic!("a quick request failed three times with the slot free: {answers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_table_forgets_finished_tasks_and_refuses_when_all_are_running() {
	let service = Service::start(|config| config.max_tasks = 1, |_| {}).await;
	let slow = service.upload(fixture("slow_matmul.onnx")).await;
	let body = scalar_body(&slow, 1, "onnxruntime");
	let (status, first) = service.call(Method::POST, "/v1/tasks", body.clone()).await;
	assert_eq!(status, StatusCode::ACCEPTED);
	let (status, refused) = service.call(Method::POST, "/v1/tasks", body.clone()).await;
	assert_eq!((status, error_kind(&refused)), (StatusCode::SERVICE_UNAVAILABLE, "overloaded"));
	assert!(refused["error"]["message"].as_str().unwrap().contains("still running"));

	let first_id = first["id"].as_str().unwrap().to_string();
	for _ in 0..600 {
		let (_, polled) = service.call(Method::GET, &format!("/v1/tasks/{first_id}"), vec![]).await;
		if polled["state"] != "running" {
			break;
		}
		tokio::time::sleep(Duration::from_millis(50)).await;
	}
	// The finished task makes room: a new one is accepted and the old one is forgotten.
	let (status, _) = service.call(Method::POST, "/v1/tasks", body).await;
	assert_eq!(status, StatusCode::ACCEPTED);
	let (status, gone) = service.call(Method::GET, &format!("/v1/tasks/{first_id}"), vec![]).await;
	assert_eq!((status, error_kind(&gone)), (StatusCode::NOT_FOUND, "unknown_task"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_task_table_refuses_new_work_rather_than_forget_a_result_not_read_yet() {
	let service = Service::start(|config| config.max_tasks = 2, |_| {}).await;
	let fast = service.upload(demo_model(INT_MODEL)).await;
	let body = |fill: i64| infer_body(&fast, &[fill; 64], "tract");
	let tasks = |state: &str| format!("veritensor_executor_tasks{{state=\"{state}\"}}");

	// Two tasks finish and nobody has read them yet; the first is given 4 s.
	let (status, soon) =
		start_task(&service, body(1), &[("x-veritensor-timeout-ms", "4000")]).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{soon}");
	let started = std::time::Instant::now();
	let key = [("idempotency-key", "later")];
	let (status, later) = start_task(&service, body(2), &key).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{later}");
	for _ in 0..200 {
		if metric(&service, &tasks("unread")).await >= 2.0 {
			break;
		}
		tokio::time::sleep(Duration::from_millis(10)).await;
	}
	assert_eq!(metric(&service, &tasks("unread")).await, 2.0);
	// A start replayed after its answer was lost is not a read: the client polls for the result.
	let (status, replayed) = start_task(&service, body(2), &key).await;
	assert_eq!((status, &replayed["id"]), (StatusCode::OK, &later["id"]), "{replayed}");
	assert_eq!(metric(&service, &tasks("unread")).await, 2.0);

	// A flood of starts finds the table full of unread results: refused, both results kept.
	// (Forgetting one would have its client start the same work again, pushing out another
	// unread result in turn.)
	let (status, refused) = start_task(&service, body(3), &[]).await;
	assert_eq!((status, error_kind(&refused)), (StatusCode::SERVICE_UNAVAILABLE, "overloaded"));
	assert!(refused["error"]["message"].as_str().unwrap().contains("not read yet"), "{refused}");
	assert!(started.elapsed() < Duration::from_secs(4), "the test ran too slowly to tell");

	// Once its deadline has passed, nobody waits for the first: it makes room.
	tokio::time::sleep(Duration::from_secs(4).saturating_sub(started.elapsed())).await;
	let (status, third) = start_task(&service, body(3), &[]).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{third}");
	let soon_id = soon["id"].as_str().unwrap();
	let (status, gone) = service.call(Method::GET, &format!("/v1/tasks/{soon_id}"), vec![]).await;
	assert_eq!((status, error_kind(&gone)), (StatusCode::NOT_FOUND, "unknown_task"));

	// The second result is still there; read, it makes room for the next task.
	let third_done = task_outcome(&service, third["id"].as_str().unwrap()).await;
	assert_eq!(third_done["state"], "done", "{third_done}");
	let later_id = later["id"].as_str().unwrap();
	let (status, kept) = service.call(Method::GET, &format!("/v1/tasks/{later_id}"), vec![]).await;
	assert_eq!((status, kept["state"].as_str()), (StatusCode::OK, Some("done")), "{kept}");
	assert_eq!(metric(&service, &tasks("read")).await, 2.0);
	let (status, fourth) = start_task(&service, body(4), &[]).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{fourth}");
	let (status, gone) = service.call(Method::GET, &format!("/v1/tasks/{later_id}"), vec![]).await;
	assert_eq!((status, error_kind(&gone)), (StatusCode::NOT_FOUND, "unknown_task"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_starts_and_polls_many_tasks_in_one_request_each_answered_on_its_own() {
	let service = Service::start(|config| config.max_tasks = 3, |_| {}).await;
	let model = service.upload(demo_model(INT_MODEL)).await;
	let request = |fill: i64| {
		serde_json::from_slice::<Value>(&infer_body(&model, &[fill; 64], "tract")).unwrap()
	};
	let batch = json!({ "tasks": [
		{ "key": "first", "timeout_ms": 60_000, "job": "7", "request": request(1) },
		// Not an inference request: refused alone.
		{ "request": { "inputs": [] } },
		// The same key and request again: the same task, nothing new runs.
		{ "key": "first", "request": request(1) },
		{ "request": request(2) },
		{ "request": request(3) },
		// The table holds three tasks, none read yet: no room.
		{ "request": request(4) },
	]});
	let (status, started) =
		service.call(Method::POST, "/v1/tasks/batch", batch.to_string().into_bytes()).await;
	assert_eq!(status, StatusCode::OK, "{started}");
	let answers = started["tasks"].as_array().unwrap();
	assert_eq!(answers.len(), 6, "{started}");
	assert_eq!(error_kind(&answers[1]), "bad_input", "{started}");
	assert_eq!(answers[2]["id"], answers[0]["id"], "{started}");
	assert_eq!(error_kind(&answers[5]), "overloaded", "{started}");
	let ids: Vec<&str> = [0, 3, 4].iter().map(|at| answers[*at]["id"].as_str().unwrap()).collect();
	assert!(ids[0] != ids[1] && ids[1] != ids[2], "{started}");
	// Started alone with the same key and request, it is the same task too.
	let key = [("idempotency-key", "first")];
	let (status, alone) = start_task(&service, infer_body(&model, &[1; 64], "tract"), &key).await;
	assert_eq!((status, alone["id"].as_str()), (StatusCode::OK, Some(ids[0])), "{alone}");

	// Polled together until none runs: each as `GET` shows it, an unknown one as its error.
	let polled = loop {
		let poll = json!({ "ids": [ids[0], "0000000000000000", ids[1], ids[2]] });
		let (status, polled) =
			service.call(Method::POST, "/v1/tasks/poll", poll.to_string().into_bytes()).await;
		assert_eq!(status, StatusCode::OK, "{polled}");
		if polled["tasks"].as_array().unwrap().iter().all(|task| task["state"] != "running") {
			break polled;
		}
		tokio::time::sleep(Duration::from_millis(20)).await;
	};
	let tasks = polled["tasks"].as_array().unwrap();
	assert_eq!(error_kind(&tasks[1]), "unknown_task", "{polled}");
	for (at, fill) in [(0, 1), (2, 2), (3, 3)] {
		assert_eq!(tasks[at]["state"], "done", "{polled}");
		let (_, alone) =
			service.call(Method::POST, "/v1/infer", infer_body(&model, &[fill; 64], "tract")).await;
		assert_eq!(tasks[at]["result"]["output_hash"], alone["output_hash"], "task {at}: {polled}");
		assert_eq!(tasks[at]["result"]["outputs"], alone["outputs"], "task {at}: {polled}");
	}
	// Read, the results make room: the refused task starts now.
	let again = json!({ "tasks": [{ "request": request(4) }] });
	let (status, started) =
		service.call(Method::POST, "/v1/tasks/batch", again.to_string().into_bytes()).await;
	assert_eq!((status, &started["tasks"][0]["state"]), (StatusCode::OK, &json!("running")));

	// A batch this service does not take starts nothing.
	for refused in
		[json!({ "tasks": [] }), json!({ "tasks": vec![json!({ "request": request(5) }); 257] })]
	{
		let (status, answer) =
			service.call(Method::POST, "/v1/tasks/batch", refused.to_string().into_bytes()).await;
		assert_eq!((status, error_kind(&answer)), (StatusCode::BAD_REQUEST, "bad_input"));
	}
	let (status, answer) = service
		.call(Method::POST, "/v1/tasks/poll", json!({ "ids": [] }).to_string().into_bytes())
		.await;
	assert_eq!((status, error_kind(&answer)), (StatusCode::BAD_REQUEST, "bad_input"));
}

/// Posts a task with `headers`; the status and JSON answer.
async fn start_task(
	service: &Service,
	body: Vec<u8>,
	headers: &[(&str, &str)],
) -> (StatusCode, Value) {
	let (status, bytes) = service
		.call_headed(Method::POST, "/v1/tasks", body, service.token.as_deref(), headers)
		.await;
	(status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// Polls task `id` until it is no longer running (at most 60 s).
async fn task_outcome(service: &Service, id: &str) -> Value {
	for _ in 0..600 {
		let (_, polled) = service.call(Method::GET, &format!("/v1/tasks/{id}"), vec![]).await;
		if polled["state"] != "running" {
			return polled;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	panic!("task {id} still running after 60 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_starts_are_idempotent_keep_their_deadline_and_can_be_cancelled() {
	let service = Service::start(|config| config.max_concurrent = 1, |_| {}).await;
	let slow = service.upload(fixture("slow_matmul.onnx")).await;
	let fast = service.upload(demo_model(INT_MODEL)).await;
	let runs = "veritensor_executor_inference_seconds_count{engine=\"tract\"}";

	// The same key twice (a retry after a lost answer): one task, one run.
	let key = [("idempotency-key", "0123abcd-42-feedbeef")];
	let (status, first) = start_task(&service, scalar_body(&slow, 1, "tract"), &key).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{first}");
	let (status, again) = start_task(&service, scalar_body(&slow, 1, "tract"), &key).await;
	assert_eq!(status, StatusCode::OK, "{again}");
	assert_eq!(again["id"], first["id"]);
	let slow_id = first["id"].as_str().unwrap().to_string();

	// Behind the slow run on the only slot, a task whose caller gives it 100 ms is dropped
	// from the queue then, not after the service's 10 minutes.
	let started = std::time::Instant::now();
	let short = [("x-veritensor-timeout-ms", "100")];
	let (status, queued) = start_task(&service, infer_body(&fast, &[1; 64], "tract"), &short).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
	let dropped = task_outcome(&service, queued["id"].as_str().unwrap()).await;
	assert_eq!((dropped["state"].as_str(), error_kind(&dropped)), (Some("failed"), "overloaded"));
	assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

	// A queued task the caller abandons is stopped and forgotten.
	let (_, waiting) = start_task(&service, infer_body(&fast, &[1; 64], "tract"), &[]).await;
	let waiting_id = waiting["id"].as_str().unwrap().to_string();
	let (status, cancelled) =
		service.call(Method::DELETE, &format!("/v1/tasks/{waiting_id}"), vec![]).await;
	assert_eq!((status, cancelled["state"].as_str()), (StatusCode::OK, Some("cancelled")));
	let (status, gone) =
		service.call(Method::GET, &format!("/v1/tasks/{waiting_id}"), vec![]).await;
	assert_eq!((status, error_kind(&gone)), (StatusCode::NOT_FOUND, "unknown_task"));
	let (status, gone) =
		service.call(Method::DELETE, &format!("/v1/tasks/{waiting_id}"), vec![]).await;
	assert_eq!((status, error_kind(&gone)), (StatusCode::NOT_FOUND, "unknown_task"));

	// The slow task ran once, whatever the retries; forgetting it frees its key.
	let done = task_outcome(&service, &slow_id).await;
	assert_eq!(done["state"], "done", "{done}");
	assert_eq!(metric(&service, runs).await, 1.0);
	let (status, forgotten) =
		service.call(Method::DELETE, &format!("/v1/tasks/{slow_id}"), vec![]).await;
	assert_eq!((status, forgotten["state"].as_str()), (StatusCode::OK, Some("forgotten")));
	let (status, fresh) = start_task(&service, scalar_body(&slow, 1, "tract"), &key).await;
	assert_eq!(status, StatusCode::ACCEPTED);
	assert_ne!(fresh["id"], first["id"]);

	// A failed task is not replayed: the retry runs afresh.
	let missing = format!("0x{}", "ab".repeat(32));
	let retried = [("idempotency-key", "retried-after-failure")];
	let (status, failing) =
		start_task(&service, infer_body(&missing, &[1; 64], "tract"), &retried).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{failing}");
	let failed = task_outcome(&service, failing["id"].as_str().unwrap()).await;
	assert_eq!(error_kind(&failed), "model_not_found", "{failed}");
	let (status, afresh) =
		start_task(&service, infer_body(&missing, &[1; 64], "tract"), &retried).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{afresh}");
	assert_ne!(afresh["id"], failing["id"]);

	// Another request under a key replaces its task rather than answer with its result.
	let reused = [("idempotency-key", "reused-for-another-request")];
	let (_, original) = start_task(&service, infer_body(&fast, &[1; 64], "tract"), &reused).await;
	let original_id = original["id"].as_str().unwrap().to_string();
	assert_eq!(task_outcome(&service, &original_id).await["state"], "done");
	let (status, other) = start_task(&service, infer_body(&fast, &[2; 64], "tract"), &reused).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{other}");
	assert_ne!(other["id"], original["id"]);
	let (status, replaced) =
		service.call(Method::GET, &format!("/v1/tasks/{original_id}"), vec![]).await;
	assert_eq!((status, error_kind(&replaced)), (StatusCode::NOT_FOUND, "unknown_task"));

	// Malformed or spent deadlines and keys are refused.
	let body = || infer_body(&fast, &[1; 64], "tract");
	let (status, spent) = start_task(&service, body(), &[("x-veritensor-timeout-ms", "0")]).await;
	assert_eq!((status, error_kind(&spent)), (StatusCode::GATEWAY_TIMEOUT, "timeout"));
	let (status, bad) = start_task(&service, body(), &[("x-veritensor-timeout-ms", "soon")]).await;
	assert_eq!((status, error_kind(&bad)), (StatusCode::BAD_REQUEST, "bad_input"));
	let (status, bad) = start_task(&service, body(), &[("idempotency-key", "a b")]).await;
	assert_eq!((status, error_kind(&bad)), (StatusCode::BAD_REQUEST, "bad_input"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_model_is_fetched_from_the_uris_of_the_request() {
	use axum::{routing::get, Router};
	let host = {
		let router = Router::new()
			.route("/int.onnx", get(|| async { demo_model(INT_MODEL) }))
			.route("/float.onnx", get(|| async { demo_model(FLOAT_MODEL) }));
		serve_on_loopback(router).await
	};
	let service = Service::start(|_| {}, |config| config.fetch = loopback_policy()).await;
	let hash = format!("0x{}", hex(&sp_crypto_hashing::blake2_256(&demo_model(INT_MODEL))));
	let vectors = json("test_vectors.json");
	let pixels = &test_pixels(&vectors)[3];
	let with_uris = |uris: &[String]| {
		let mut body: Value = serde_json::from_slice(&infer_body(&hash, pixels, "tract")).unwrap();
		body["fetch_from"] = json!(uris);
		body.to_string().into_bytes()
	};

	let (status, body) = service.call(Method::POST, "/v1/infer", with_uris(&[])).await;
	assert_eq!((status, error_kind(&body)), (StatusCode::NOT_FOUND, "model_not_found"));
	// Bytes that hash to another model are refused and not stored.
	let wrong = format!("http://{host}/float.onnx");
	let (status, body) = service.call(Method::POST, "/v1/infer", with_uris(&[wrong])).await;
	assert_eq!(error_kind(&body), "hash_mismatch", "{status} {body}");
	// The right URI, as an asynchronous task: fetched, stored and run.
	let right = format!("http://{host}/int.onnx");
	let (status, task) = service.call(Method::POST, "/v1/tasks", with_uris(&[right])).await;
	assert_eq!(status, StatusCode::ACCEPTED, "{task}");
	let id = task["id"].as_str().unwrap().to_string();
	let mut polled = Value::Null;
	for _ in 0..250 {
		(_, polled) = service.call(Method::GET, &format!("/v1/tasks/{id}"), vec![]).await;
		if polled["state"] != "running" {
			break;
		}
		tokio::time::sleep(Duration::from_millis(20)).await;
	}
	assert_eq!(polled["state"], "done", "{polled}");
	let label = vectors["labels"][3].as_i64().unwrap();
	assert_eq!(polled["result"]["outputs"][0]["values"][0].as_i64().unwrap(), label);
	// Now in the store: no URI needed.
	let (status, body) = service.call(Method::POST, "/v1/infer", with_uris(&[])).await;
	assert_eq!(status, StatusCode::OK, "{body}");
}

fn hex(bytes: &[u8]) -> String {
	bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_inputs_are_fetched_under_the_policy_and_checked_against_their_hash() {
	use axum::{routing::get, Router};
	use codec::Encode;
	use veritensor_primitives::hashing::input_hash;
	let vectors = json("test_vectors.json");
	let wire = |image: usize| {
		let tensor = int_input(&test_pixels(&vectors)[image]).to_wire().unwrap();
		vec![tensor]
	};
	let (good, other) = (wire(3), wire(4));
	let hash = format!("0x{}", hex(&input_hash(&good).0));
	let (good_bytes, other_bytes) = (good.encode(), other.encode());
	let junk_fetches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
	let host = {
		let counted = junk_fetches.clone();
		let router = Router::new()
			.route("/good", get(move || async move { good_bytes }))
			.route("/other", get(move || async move { other_bytes }))
			.route(
				"/junk",
				get(move || {
					counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
					async { b"junk".to_vec() }
				}),
			);
		serve_on_loopback(router).await
	};
	let service = Service::start(|_| {}, |config| config.input_fetch = loopback_policy()).await;
	let model = service.upload(demo_model(INT_MODEL)).await;
	let remote = |path: &str| {
		json!({
			"model": model,
			"inputs": [],
			"input_from": { "uri": format!("http://{host}{path}"), "hash": hash },
		})
		.to_string()
		.into_bytes()
	};

	let (status, result) = service.call(Method::POST, "/v1/infer", remote("/good")).await;
	assert_eq!(status, StatusCode::OK, "{result}");
	let label = vectors["labels"][3].as_i64().unwrap();
	assert_eq!(result["outputs"][0]["values"][0].as_i64().unwrap(), label);
	let (_, inline) = service
		.call(Method::POST, "/v1/infer", infer_body(&model, &test_pixels(&vectors)[3], "tract"))
		.await;
	assert_eq!(result["output_hash"], inline["output_hash"], "the same run as inline inputs");

	for (path, kind, status) in [
		("/other", "bad_remote_input", StatusCode::UNPROCESSABLE_ENTITY),
		("/junk", "bad_remote_input", StatusCode::UNPROCESSABLE_ENTITY),
		("/missing", "input_unavailable", StatusCode::BAD_GATEWAY),
	] {
		let (got, body) = service.call(Method::POST, "/v1/infer", remote(path)).await;
		assert_eq!((got, error_kind(&body)), (status, kind), "{path}: {body}");
	}
	// Asked again (as a worker does every block until it gives up): answered from memory,
	// the host is not fetched from again.
	let (_, body) = service.call(Method::POST, "/v1/infer", remote("/junk")).await;
	assert_eq!(error_kind(&body), "bad_remote_input");
	assert_eq!(junk_fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
	// Inline and remote inputs together are refused.
	let mut both: Value = serde_json::from_slice(&remote("/good")).unwrap();
	both["inputs"] =
		json!([{ "elem": "U8", "shape": [1, 64], "values": test_pixels(&vectors)[3] }]);
	let (_, body) = service.call(Method::POST, "/v1/infer", both.to_string().into_bytes()).await;
	assert_eq!(error_kind(&body), "bad_input");

	// The default policy (HTTPS, public addresses) refuses a loopback URI: never fetched, and
	// refused as this executor's own policy, not as a bad input.
	let strict = Service::start(|_| {}, |_| {}).await;
	strict.upload(demo_model(INT_MODEL)).await;
	let (status, body) = strict.call(Method::POST, "/v1/infer", remote("/good")).await;
	assert_eq!((status, error_kind(&body)), (StatusCode::FORBIDDEN, "remote_input_refused"));
	// Models allowed from private addresses do not open them to inputs, which any submitter
	// names.
	let models_private = Service::start(|_| {}, |config| config.fetch = loopback_policy()).await;
	models_private.upload(demo_model(INT_MODEL)).await;
	let (status, body) = models_private.call(Method::POST, "/v1/infer", remote("/good")).await;
	assert_eq!((status, error_kind(&body)), (StatusCode::FORBIDDEN, "remote_input_refused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_jobs_on_one_unfetched_model_download_it_once() {
	use axum::{routing::get, Router};
	use std::sync::atomic::{AtomicUsize, Ordering};
	let downloads = Arc::new(AtomicUsize::new(0));
	let host = {
		let counted = downloads.clone();
		let router = Router::new().route(
			"/int.onnx",
			get(move || async move {
				counted.fetch_add(1, Ordering::SeqCst);
				// Slow enough that every job asks while the first download is under way.
				tokio::time::sleep(Duration::from_millis(500)).await;
				demo_model(INT_MODEL)
			}),
		);
		serve_on_loopback(router).await
	};
	let service = Arc::new(Service::start(|_| {}, |config| config.fetch = loopback_policy()).await);
	let hash = format!("0x{}", hex(&sp_crypto_hashing::blake2_256(&demo_model(INT_MODEL))));
	let vectors = json("test_vectors.json");
	let pixels = test_pixels(&vectors)[3].clone();
	let mut body: Value = serde_json::from_slice(&infer_body(&hash, &pixels, "tract")).unwrap();
	body["fetch_from"] = json!([format!("http://{host}/int.onnx")]);
	let body = body.to_string().into_bytes();

	// All at once, as 50 jobs drawn in one block reach a worker.
	let mut submissions = tokio::task::JoinSet::new();
	for _ in 0..50 {
		let (service, body) = (service.clone(), body.clone());
		submissions.spawn(async move { service.call(Method::POST, "/v1/tasks", body).await });
	}
	let mut ids = Vec::new();
	while let Some(submitted) = submissions.join_next().await {
		let (status, task) = submitted.unwrap();
		assert_eq!(status, StatusCode::ACCEPTED, "{task}");
		ids.push(task["id"].as_str().unwrap().to_string());
	}
	let label = vectors["labels"][3].as_i64().unwrap();
	for id in ids {
		let mut polled = Value::Null;
		for _ in 0..500 {
			(_, polled) = service.call(Method::GET, &format!("/v1/tasks/{id}"), vec![]).await;
			if polled["state"] != "running" {
				break;
			}
			tokio::time::sleep(Duration::from_millis(20)).await;
		}
		assert_eq!(polled["state"], "done", "{polled}");
		assert_eq!(polled["result"]["outputs"][0]["values"][0].as_i64().unwrap(), label);
	}
	assert_eq!(downloads.load(Ordering::SeqCst), 1, "the model host was asked more than once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_a_web_page_or_another_user_could_send_are_refused() {
	let service = Service::start(|config| config.token = Some("s3cret".into()), |_| {}).await;
	let model = service.upload(demo_model(INT_MODEL)).await;
	let vectors = json("test_vectors.json");
	let body = infer_body(&model, &test_pixels(&vectors)[3], "tract");
	let send = |headers: Vec<(&'static str, String)>| {
		let mut request = Request::builder()
			.method(Method::POST)
			.uri(format!("http://{}/v1/infer", service.address));
		for (name, value) in headers {
			request = request.header(name, value);
		}
		let request = request.body(Full::new(Bytes::from(body.clone()))).unwrap();
		async {
			let response = service.client.request(request).await.unwrap();
			let status = response.status();
			let bytes = response.into_body().collect().await.unwrap().to_bytes();
			(status, serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null))
		}
	};
	let bearer = ("authorization", "Bearer s3cret".to_string());
	let json_type = ("content-type", "application/json".to_string());

	// No token, or a wrong one.
	let (status, reply) = send(vec![json_type.clone()]).await;
	assert_eq!((status, error_kind(&reply)), (StatusCode::UNAUTHORIZED, "unauthorized"));
	let wrong = ("authorization", "Bearer s3cre7".to_string());
	let (status, _) = send(vec![json_type.clone(), wrong]).await;
	assert_eq!(status, StatusCode::UNAUTHORIZED);
	// A body a browser may post anywhere without asking: text/plain, or no type at all.
	let plain = ("content-type", "text/plain".to_string());
	let (status, reply) = send(vec![bearer.clone(), plain]).await;
	assert_eq!((status, error_kind(&reply)), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "bad_input"));
	let (status, _) = send(vec![bearer.clone()]).await;
	assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
	// A page whose own name resolves to 127.0.0.1 (DNS rebinding) sends its own name.
	let rebound = ("host", format!("attacker.example:{}", service.address.port()));
	let (status, reply) = send(vec![bearer.clone(), json_type.clone(), rebound]).await;
	assert_eq!((status, error_kind(&reply)), (StatusCode::MISDIRECTED_REQUEST, "bad_input"));
	// The same request, addressed to loopback with its token and type, runs.
	for host in [service.address.to_string(), format!("localhost:{}", service.address.port())] {
		let (status, reply) = send(vec![bearer.clone(), json_type.clone(), ("host", host)]).await;
		assert_eq!(status, StatusCode::OK, "{reply}");
	}
	// Health needs no token, but still a loopback host.
	let (status, _) = service.call_with(Method::GET, "/health", vec![], None).await;
	assert_eq!(status, StatusCode::OK);
}

/// Models run in children of this test's executor binary, marked so a test can find its own.
fn isolated(config: &mut Config, marker: &str, memory_mib: u64) {
	let mut isolation = IsolationConfig::new(
		env!("CARGO_BIN_EXE_veritensor-executor"),
		&[isolation::CHILD_SUBCOMMAND, marker],
	);
	isolation.memory_bytes = memory_mib << 20;
	config.isolation = Some(isolation);
}

/// A request with one input, `F32` of shape [1]: `n` for the range model, anything for the
/// slow one.
fn scalar_body(model: &str, n: i64, engine: &str) -> Vec<u8> {
	json!({"model": model, "engine": engine,
		"inputs": [{"elem": "F32", "shape": [1], "frac_bits": 0, "values": [n]}],
		"output_frac_bits": 0})
	.to_string()
	.into_bytes()
}

/// The value of a metric series in the service's /metrics text, 0 if absent.
async fn metric(service: &Service, series: &str) -> f64 {
	let (_, text) = service.call_with(Method::GET, "/metrics", vec![], None).await;
	String::from_utf8_lossy(&text)
		.lines()
		.find_map(|line| line.strip_prefix(series).and_then(|rest| rest.trim().parse().ok()))
		.unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_allocates_past_its_limit_ends_in_resource_exhausted_and_nothing_else() {
	let service = Service::start(|_| {}, |config| isolated(config, "memory-bomb", 256)).await;
	let range = service.upload(fixture("range_from_input.onnx")).await;
	let fast = service.upload(demo_model(INT_MODEL)).await;
	let (status, small) =
		service.call(Method::POST, "/v1/infer", scalar_body(&range, 4, "tract")).await;
	assert_eq!(status, StatusCode::OK, "{small}");
	assert_eq!(small["outputs"][0]["values"], json!([6]), "0 + 1 + 2 + 3");

	// 2^31 floats: 8 GiB asked of a process limited to 256 MiB, on both engines.
	for engine in ["tract", "onnxruntime"] {
		let (status, body) = service
			.call(Method::POST, "/v1/infer", scalar_body(&range, i32::MAX as i64, engine))
			.await;
		assert_eq!(
			(status, error_kind(&body)),
			(StatusCode::UNPROCESSABLE_ENTITY, "resource_exhausted"),
			"{engine}: {body}"
		);
		if engine == "tract" {
			// The child ended at its limit; ONNX Runtime reports its failed allocation itself.
			assert!(body["error"]["message"].as_str().unwrap().contains("256 MiB"), "{body}");
		}

		// The service, and other models, go on.
		let (status, _) = service.call(Method::GET, "/health", vec![]).await;
		assert_eq!(status, StatusCode::OK);
		let (status, body) =
			service.call(Method::POST, "/v1/infer", infer_body(&fast, &[1; 64], engine)).await;
		assert_eq!(status, StatusCode::OK, "{engine}: {body}");
		let (status, body) =
			service.call(Method::POST, "/v1/infer", scalar_body(&range, 4, engine)).await;
		assert_eq!((status, &body["outputs"][0]["values"]), (StatusCode::OK, &json!([6])));
	}
	// Each bomb was tried twice: in a child that had served other runs, then in a fresh one,
	// so what a child keeps between runs never decides a refusal.
	let exhausted =
		r#"veritensor_executor_child_processes_ended_total{reason="resource_exhausted"}"#;
	assert_eq!(metric(&service, exhausted).await, 4.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_past_its_deadline_is_killed_and_its_slot_freed() {
	let service = Service::start(
		|config| {
			config.request_timeout = Duration::from_millis(150);
			config.max_concurrent = 1;
		},
		|config| isolated(config, "deadline", 1024),
	)
	.await;
	let slow = service.upload(fixture("slow_matmul.onnx")).await;
	let fast = service.upload(demo_model(INT_MODEL)).await;
	let started = metric(&service, "veritensor_executor_child_processes_started_total").await;
	let slow_body = scalar_body(&slow, 1, "tract");
	let begun = std::time::Instant::now();
	let (status, body) = service.call(Method::POST, "/v1/infer", slow_body).await;
	assert_eq!((status, error_kind(&body)), (StatusCode::GATEWAY_TIMEOUT, "timeout"), "{body}");
	assert!(begun.elapsed() < Duration::from_secs(3), "answered after {:?}", begun.elapsed());

	// The only slot is free again at once: the run was killed, not left to finish (the model
	// runs well past 150 ms). A fresh child takes the next request; a deadline of
	// 150 ms, which a loaded machine's scheduler alone can exceed, gets a few tries.
	let mut answers = Vec::new();
	for _ in 0..3 {
		let (status, body) =
			service.call(Method::POST, "/v1/infer", infer_body(&fast, &[1; 64], "tract")).await;
		if status == StatusCode::OK {
			break;
		}
		answers.push(body);
	}
	assert!(answers.len() < 3, "a quick request failed three times: {answers:?}");
	// One child killed at the deadline and one started after it: the slot was not held.
	let timeouts = r#"veritensor_executor_child_processes_ended_total{reason="timeout"}"#;
	assert_eq!(metric(&service, timeouts).await, 1.0);
	assert_eq!(
		metric(&service, "veritensor_executor_child_processes_started_total").await,
		started + 1.0
	);

	// ONNX Runtime stops its run at the deadline itself (between operators): a timeout, and the
	// child lives on to serve the next request.
	let quick = Service::start(
		|config| {
			config.request_timeout = Duration::from_millis(40);
			config.max_concurrent = 1;
		},
		|config| isolated(config, "terminated", 1024),
	)
	.await;
	let slow = quick.upload(fixture("slow_matmul.onnx")).await;
	let fast = quick.upload(demo_model(INT_MODEL)).await;
	let body = scalar_body(&slow, 1, "onnxruntime");
	let (status, answer) = quick.call(Method::POST, "/v1/infer", body).await;
	assert_eq!((status, error_kind(&answer)), (StatusCode::GATEWAY_TIMEOUT, "timeout"), "{answer}");
	// The slot frees when the child answers: before the second of grace it would be killed at.
	let mut served = false;
	for _ in 0..20 {
		let (status, _) =
			quick.call(Method::POST, "/v1/infer", infer_body(&fast, &[1; 64], "onnxruntime")).await;
		if status == StatusCode::OK {
			served = true;
			break;
		}
		tokio::time::sleep(Duration::from_millis(100)).await;
	}
	assert!(served, "the slot never freed");
	assert_eq!(metric(&quick, "veritensor_executor_child_processes_started_total").await, 1.0);
	assert_eq!(metric(&quick, timeouts).await, 0.0, "the child was not killed");
}

/// Processes whose command line holds `marker`.
fn processes_marked(marker: &str) -> Vec<i32> {
	std::fs::read_dir("/proc")
		.unwrap()
		.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
		.filter(|pid| {
			std::fs::read(format!("/proc/{pid}/cmdline"))
				.is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(marker))
		})
		.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_killed_mid_run_is_a_clean_error_and_the_next_request_succeeds() {
	let service = Arc::new(
		Service::start(
			|config| {
				config.request_timeout = Duration::from_secs(120);
				config.max_concurrent = 1;
			},
			|config| isolated(config, "killed-mid-run", 1024),
		)
		.await,
	);
	let slow = service.upload(fixture("slow_matmul.onnx")).await;
	let fast = service.upload(demo_model(INT_MODEL)).await;
	let children = processes_marked("killed-mid-run");
	assert_eq!(children.len(), 1, "one child per slot: {children:?}");
	let running = {
		let service = service.clone();
		let body = scalar_body(&slow, 1, "tract");
		tokio::spawn(async move { service.call(Method::POST, "/v1/infer", body).await })
	};
	// The run takes about 0.7 s on tract, optimised.
	tokio::time::sleep(Duration::from_millis(200)).await;
	assert!(!running.is_finished(), "the slow run is still running");
	// SAFETY: kill(2) on a process id read from /proc, a child of this test.
	assert_eq!(unsafe { libc::kill(children[0], libc::SIGKILL) }, 0);
	let (status, body) = running.await.unwrap();
	assert_eq!(
		(status, error_kind(&body)),
		(StatusCode::INTERNAL_SERVER_ERROR, "engine_failure"),
		"{body}"
	);
	assert!(body["error"]["message"].as_str().unwrap().contains("signal 9"), "{body}");
	let (status, body) =
		service.call(Method::POST, "/v1/infer", infer_body(&fast, &[1; 64], "tract")).await;
	assert_eq!(status, StatusCode::OK, "{body}");
	let now = processes_marked("killed-mid-run");
	assert!(now.len() == 1 && now[0] != children[0], "a new child replaced it: {now:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_client_has_a_model_fetched_once_and_reports_refusals() {
	use axum::{routing::get, Router};
	use std::sync::atomic::{AtomicUsize, Ordering};
	use veritensor_executor::client::{ApiClient, ApiError};
	let downloads = Arc::new(AtomicUsize::new(0));
	let host = {
		let counted = downloads.clone();
		let router = Router::new().route(
			"/int.onnx",
			get(move || {
				counted.fetch_add(1, Ordering::SeqCst);
				async { demo_model(INT_MODEL) }
			}),
		);
		serve_on_loopback(router).await
	};
	let service = Service::start(
		|config| config.token = Some("s3cret".into()),
		|config| config.fetch = loopback_policy(),
	)
	.await;
	let hash = sp_core::H256(sp_crypto_hashing::blake2_256(&demo_model(INT_MODEL)));
	let uris = vec![format!("http://{host}/int.onnx")];
	let base = format!("http://{}", service.address);
	let deadline = Duration::from_secs(30);

	let client = ApiClient::new(&base, Some("s3cret")).unwrap();
	assert!(client.fetch_model(&hash, &uris, deadline).await.unwrap(), "downloaded");
	assert!(!client.fetch_model(&hash, &uris, deadline).await.unwrap(), "already stored");
	assert_eq!(downloads.load(Ordering::SeqCst), 1);

	let stranger = ApiClient::new(&base, Some("guess")).unwrap();
	match stranger.fetch_model(&hash, &uris, deadline).await {
		Err(ApiError::Refused { status: 401, kind, .. }) => assert_eq!(kind, "unauthorized"),
		other => panic!("refused for its token: {other:?}"),
	}
	let missing = sp_core::H256::repeat_byte(7);
	match client.fetch_model(&missing, &uris, deadline).await {
		Err(ApiError::Refused { kind, .. }) => assert_eq!(kind, "hash_mismatch"),
		other => panic!("bytes of another model refused: {other:?}"),
	}
	assert!(matches!(
		ApiClient::new(&format!("https://{}", service.address), None),
		Err(ApiError::BadUrl(_))
	));
	// Nothing listens on the port of a service that stopped.
	let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
	let nobody = ApiClient::new(&format!("http://{closed}"), None).unwrap();
	assert!(matches!(
		nobody.fetch_model(&hash, &uris, deadline).await,
		Err(ApiError::Unreachable(_))
	));
}
