//! The `veritensor-executor` binary as docs/executor.md describes it: `add`, `inspect`, and
//! `serve` until Ctrl-C or SIGTERM, which drains its tasks first.

mod common;

use common::*;
use std::{
	io::{BufRead, BufReader, Read, Write},
	net::TcpStream,
	process::{Command, Stdio},
	time::{Duration, Instant},
};

const BINARY: &str = env!("CARGO_BIN_EXE_veritensor-executor");

fn run(args: &[&str]) -> (bool, String, String) {
	let output = Command::new(BINARY).args(args).output().expect("the binary runs");
	(
		output.status.success(),
		String::from_utf8_lossy(&output.stdout).into_owned(),
		String::from_utf8_lossy(&output.stderr).into_owned(),
	)
}

fn http_get(address: &str, path: &str) -> String {
	let mut stream = TcpStream::connect(address).expect("connect");
	stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
	write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
	let mut response = String::new();
	stream.read_to_string(&mut response).unwrap();
	response
}

#[test]
fn add_and_inspect_work_on_a_store() {
	let dir = tempfile::tempdir().unwrap();
	let store = dir.path().to_str().unwrap();
	let model = crate_dir().join("demo-models").join(INT_MODEL);
	let model = model.to_str().unwrap();
	let expected =
		json("models.json")["models"]["mlp_digits_int"]["hash"].as_str().unwrap().to_string();

	let (ok, stdout, stderr) = run(&["add", "--store", store, model]);
	assert!(ok, "{stderr}");
	assert_eq!(stdout.trim(), expected);
	let (ok, stdout, stderr) = run(&["inspect", "--store", store, &expected]);
	assert!(ok, "{stderr}");
	let info: serde_json::Value = serde_json::from_str(&stdout).unwrap();
	assert_eq!(info["bytes"], 5569);
	assert_eq!(info["signature"]["inputs"][0]["onnx_type"], "uint8");

	// A wrong expected hash, a file that is not a model: clear errors, exit status 1.
	let (ok, _, stderr) =
		run(&["add", "--store", store, model, "--hash", &format!("0x{}", "00".repeat(32))]);
	assert!(!ok && stderr.contains("hash_mismatch"), "{stderr}");
	let not_a_model = dir.path().join("notes.txt");
	std::fs::write(&not_a_model, "hello").unwrap();
	let (ok, _, stderr) = run(&["add", "--store", store, not_a_model.to_str().unwrap()]);
	assert!(!ok && stderr.contains("corrupt_model"), "{stderr}");
}

#[test]
fn serve_answers_and_stops_cleanly_on_sigint() {
	let dir = tempfile::tempdir().unwrap();
	let mut child = Command::new(BINARY)
		.args(["serve", "--listen", "127.0.0.1:0", "--store", dir.path().to_str().unwrap()])
		.env_remove("VERITENSOR_EXECUTOR_TOKEN")
		.stderr(Stdio::piped())
		.spawn()
		.expect("serve starts");
	let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
	let started = Instant::now();
	let address = loop {
		let line = lines.next().expect("a log line").expect("UTF-8 log");
		if let Some(rest) = line.split("listening on http://").nth(1) {
			break rest.split_whitespace().next().unwrap().to_string();
		}
		assert!(started.elapsed() < Duration::from_secs(30), "no listening line");
	};
	let response = http_get(&address, "/health");
	assert!(
		response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
		"{response}"
	);
	assert!(response.contains("\"status\":\"ok\""), "{response}");

	let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
	assert!(status.success());
	let deadline = Instant::now() + Duration::from_secs(20);
	let exit = loop {
		if let Some(exit) = child.try_wait().unwrap() {
			break exit;
		}
		assert!(Instant::now() < deadline, "the service did not stop after SIGINT");
		std::thread::sleep(Duration::from_millis(50));
	};
	assert!(exit.success(), "exit status {exit}");
}

/// One HTTP/1.0 exchange on behalf of job 7, as the off-chain worker names its jobs: the status
/// code and the body as JSON (null if it is not JSON).
fn http_call(address: &str, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
	let mut stream = TcpStream::connect(address).expect("connect");
	stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
	write!(
		stream,
		"{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Type: application/json\r\n\
		 X-Veritensor-Job: 7\r\nContent-Length: {}\r\n\r\n{body}",
		body.len()
	)
	.unwrap();
	let mut response = String::new();
	stream.read_to_string(&mut response).unwrap();
	let status = response.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
	let json = response.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
	(status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

#[test]
fn sigterm_refuses_new_work_lets_running_tasks_end_then_exits_zero() {
	let dir = tempfile::tempdir().unwrap();
	let store = dir.path().to_str().unwrap();
	let slow = crate_dir().join("tests/data/slow_matmul.onnx");
	let (ok, hash, stderr) = run(&["add", "--store", store, slow.to_str().unwrap()]);
	assert!(ok, "{stderr}");
	let mut child = Command::new(BINARY)
		.args(["serve", "--listen", "127.0.0.1:0", "--store", store, "--max-concurrent", "1"])
		.env_remove("VERITENSOR_EXECUTOR_TOKEN")
		.stderr(Stdio::piped())
		.spawn()
		.expect("serve starts");
	let (lines_out, lines_in) = std::sync::mpsc::channel::<String>();
	let stderr = child.stderr.take().unwrap();
	std::thread::spawn(move || {
		for line in BufReader::new(stderr).lines().map_while(Result::ok) {
			let _ = lines_out.send(line);
		}
	});
	let mut log = Vec::new();
	let mut wait_for = |needle: &str| -> String {
		let deadline = Instant::now() + Duration::from_secs(30);
		loop {
			let left = deadline.saturating_duration_since(Instant::now());
			let line = lines_in.recv_timeout(left).unwrap_or_else(|_| {
				panic!("no log line with `{needle}`; log so far:\n{}", log.join("\n"))
			});
			log.push(line.clone());
			if line.contains(needle) {
				return line;
			}
		}
	};
	let line = wait_for("listening on http://");
	let address = line.split("listening on http://").nth(1).unwrap();
	let address = address.split_whitespace().next().unwrap().to_string();
	// Six slow runs on one slot, each waiting for the one before: a drain of several times one
	// run, so that the service is still up, draining, while this test looks.
	let task = format!(
		r#"{{"model":"{}","engine":"tract","inputs":[{{"elem":"F32","shape":[1],"frac_bits":0,"values":[1]}}]}}"#,
		hash.trim()
	);
	let ids: Vec<String> = (0..6)
		.map(|_| {
			let (status, body) = http_call(&address, "POST", "/v1/tasks", &task);
			assert_eq!(status, 202, "{body}");
			body["id"].as_str().unwrap().to_string()
		})
		.collect();

	let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
	assert!(status.success());
	wait_for("SIGTERM: stopping");
	wait_for("stopping: waiting for");
	// While draining: new work refused, running tasks polled to their end.
	let (status, body) = http_call(&address, "POST", "/v1/tasks", &task);
	assert_eq!((status, body["error"]["kind"].as_str()), (503, Some("overloaded")), "{body}");
	let (status, body) = http_call(&address, "POST", "/v1/infer", &task);
	assert_eq!(status, 503, "{body}");
	let mut first = serde_json::Value::Null;
	for _ in 0..400 {
		first = http_call(&address, "GET", &format!("/v1/tasks/{}", ids[0]), "").1;
		if first["state"] != "running" {
			break;
		}
		std::thread::sleep(Duration::from_millis(25));
	}
	assert_eq!(first["state"], "done", "the first task finished while draining: {first}");
	wait_for("no task running");
	let deadline = Instant::now() + Duration::from_secs(20);
	let exit = loop {
		if let Some(exit) = child.try_wait().unwrap() {
			break exit;
		}
		assert!(Instant::now() < deadline, "the service did not stop after its tasks ended");
		std::thread::sleep(Duration::from_millis(50));
	};
	assert!(exit.success(), "exit status {exit}");
	wait_for("stopped");
	let text = log.join("\n");
	// Several tasks were still running (or waiting for the slot) when the signal came, and
	// every task ran to its end before the drain did.
	let waited: usize = text
		.split("waiting for ")
		.nth(1)
		.and_then(|rest| rest.split_whitespace().next())
		.and_then(|count| count.parse().ok())
		.unwrap_or_else(|| panic!("no drain in the log:\n{text}"));
	assert!(waited >= 2, "{text}");
	// Every request left an access line naming its job.
	assert_eq!(text.matches("POST /v1/tasks 202 job 7 ").count(), 6, "{text}");
	let drained = text.find("no task running").unwrap();
	for id in &ids {
		let ended = text.find(&format!("task {id} ended: done"));
		assert!(ended.is_some_and(|at| at < drained), "task {id} did not end first:\n{text}");
	}
}

#[test]
fn serve_refuses_a_public_address_without_a_token() {
	let dir = tempfile::tempdir().unwrap();
	let output = Command::new(BINARY)
		.args(["serve", "--listen", "0.0.0.0:0", "--store", dir.path().to_str().unwrap()])
		.env_remove("VERITENSOR_EXECUTOR_TOKEN")
		.output()
		.unwrap();
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("needs a bearer token"), "{stderr}");
}

#[test]
fn serve_off_loopback_needs_tls_and_prints_the_fingerprint_nodes_pin() {
	let dir = tempfile::tempdir().unwrap();
	let store = dir.path().join("store");
	let token = dir.path().join("token");
	std::fs::write(&token, "a-token").unwrap();
	let serve = |extra: &[&str]| {
		Command::new(BINARY)
			.args(["serve", "--listen", "0.0.0.0:0", "--store", store.to_str().unwrap()])
			.args(["--token-file", token.to_str().unwrap()])
			.args(extra)
			.env_remove("VERITENSOR_EXECUTOR_TOKEN")
			.stderr(Stdio::piped())
			.spawn()
			.expect("serve starts")
	};
	let output = serve(&[]).wait_with_output().unwrap();
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("plain HTTP sends the token and every job in clear"), "{stderr}");

	// A self-signed certificate made on the first start and kept: the same pin after a restart.
	let mut fingerprints = Vec::new();
	for _ in 0..2 {
		let mut child = serve(&["--tls-self-signed"]);
		let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
		let (mut https, mut fingerprint) = (false, None);
		while fingerprint.is_none() {
			let line = lines.next().expect("a log line").expect("UTF-8 log");
			https |= line.contains("listening on https://");
			fingerprint = line
				.split("TLS certificate SHA-256 ")
				.nth(1)
				.map(|rest| rest.split_whitespace().next().unwrap().to_string());
		}
		assert!(https, "the listening line says https");
		Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
		assert!(child.wait().unwrap().success());
		fingerprints.push(fingerprint.unwrap());
	}
	assert_eq!(fingerprints[0], fingerprints[1]);
	let (kept, made) =
		veritensor_executor::tls::ServerIdentity::self_signed_in(&store.join("tls"), &[]).unwrap();
	assert!(!made);
	assert_eq!(kept.fingerprint(), fingerprints[0]);
}

#[test]
fn serve_refuses_the_cuda_provider_with_a_library_that_has_none() {
	let dir = tempfile::tempdir().unwrap();
	let library = onnxruntime_library();
	let output = Command::new(BINARY)
		.args(["serve", "--listen", "127.0.0.1:0", "--store", dir.path().to_str().unwrap()])
		.args(["--onnxruntime-lib", library.to_str().unwrap(), "--onnxruntime-provider", "cuda"])
		.env_remove("VERITENSOR_EXECUTOR_TOKEN")
		.output()
		.unwrap();
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(
		stderr.contains("engine_unavailable") && stderr.contains("no CUDA execution provider"),
		"{stderr}"
	);
}

#[test]
fn conformance_runs_every_vector_on_every_engine_and_prints_a_summary_hash() {
	let dir = tempfile::tempdir().unwrap();
	let vectors = json("test_vectors.json");
	let inputs: Vec<Vec<serde_json::Value>> = test_pixels(&vectors)
		.iter()
		.take(20)
		.map(|pixels| vec![serde_json::to_value(int_input(pixels)).unwrap()])
		.collect();
	let vectors_file = dir.path().join("vectors.json");
	std::fs::write(&vectors_file, serde_json::to_vec(&inputs).unwrap()).unwrap();
	let library = onnxruntime_library();
	let model = crate_dir().join("demo-models").join(INT_MODEL);
	let args = [
		"conformance",
		model.to_str().unwrap(),
		vectors_file.to_str().unwrap(),
		"--onnxruntime-lib",
		library.to_str().unwrap(),
	];
	let (ok, stdout, stderr) = run(&args);
	assert!(ok, "{stdout}{stderr}");
	assert!(stdout.contains("engines: tract "), "{stdout}");
	assert!(stdout.contains("interpreter ") && stdout.contains("onnxruntime "), "{stdout}");
	assert_eq!(stdout.matches(": agree: ").count(), 20, "{stdout}");
	assert!(stdout.contains("20 of 20 vectors agree on every engine"), "{stdout}");
	let summary = stdout.lines().find_map(|line| line.strip_prefix("summary hash ")).unwrap();
	// The same vectors give the same summary; other vectors another.
	let (_, again, _) = run(&args);
	assert!(again.contains(&format!("summary hash {summary}")));
	std::fs::write(&vectors_file, serde_json::to_vec(&inputs[..19]).unwrap()).unwrap();
	let (_, fewer, _) = run(&args);
	assert!(!fewer.contains(&format!("summary hash {summary}")), "{fewer}");

	// The float model cannot run on the interpreter: the engines disagree, and the command
	// says so and fails.
	let float_inputs: Vec<Vec<serde_json::Value>> = test_pixels(&vectors)
		.iter()
		.take(2)
		.map(|pixels| vec![serde_json::to_value(float_input(pixels)).unwrap()])
		.collect();
	std::fs::write(&vectors_file, serde_json::to_vec(&float_inputs).unwrap()).unwrap();
	let float_model = crate_dir().join("demo-models").join(FLOAT_MODEL);
	let (ok, stdout, stderr) = run(&[
		"conformance",
		float_model.to_str().unwrap(),
		vectors_file.to_str().unwrap(),
		"--onnxruntime-lib",
		library.to_str().unwrap(),
	]);
	assert!(!ok);
	assert!(
		stdout.contains("DIFFER") && stdout.contains("interpreter error: unsupported_operator"),
		"{stdout}"
	);
	assert!(stderr.contains("the engines disagree"), "{stderr}");
}
