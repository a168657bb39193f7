//! A `--dev` node, as the README starts it: BABE authors blocks, GRANDPA finalises them, the
//! runtime and its keys are what clients expect, and SIGINT stops it cleanly.

mod common;

use codec::Decode;
use common::{http_get, http_request_with, wait_until, Node};
use serde_json::json;
use std::{os::unix::fs::PermissionsExt, time::Duration};
use veritensor_primitives::offchain::{ExecutorEndpoint, EXECUTOR_ENDPOINT_KEY};

/// Alice's sr25519 public key: the dev node's BABE key and worker key.
const ALICE: &str = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d";
/// Bob's sr25519 public key, which a `--dev` node does not hold.
const BOB: &str = "0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48";
/// Bob's account (SS58), an operator for proofs of possession.
const BOB_ACCOUNT: &str = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";

/// Digest items are SCALE-encoded: a variant byte, then the engine id `BABE`.
const BABE_PRE_RUNTIME: &str = "0x0642414245";
const BABE_SEAL: &str = "0x0542414245";

/// `Models::Models` is a Blake2_128Concat map: twox128("Models") ++ twox128("Models") ++
/// blake2_128(key) ++ key. The two prefixes are constants; the hasher part is computed here.
fn models_storage_key(hash: &str) -> String {
	let key: Vec<u8> = (2..hash.len())
		.step_by(2)
		.map(|i| u8::from_str_radix(&hash[i..i + 2], 16).unwrap())
		.collect();
	let mut full = sp_io::hashing::twox_128(b"Models").to_vec();
	full.extend(sp_io::hashing::twox_128(b"Models"));
	full.extend(sp_io::hashing::blake2_128(&key));
	full.extend(&key);
	format!("0x{}", full.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[test]
fn dev_node_authors_finalises_and_exits_cleanly() {
	let mut node = Node::start("dev", &["--dev", "--tmp"]);

	let version = node.rpc_when_up("state_getRuntimeVersion", json!([]), Duration::from_secs(120));
	assert_eq!(version["specName"], "veritensor");

	let finalised = wait_until(Duration::from_secs(180), || {
		node.assert_running();
		node.finalized_number().is_some_and(|number| number >= 3)
	});
	assert!(finalised, "GRANDPA finalised no block #3 within 180 s:\n{}", node.log_tail());
	let best = node.best_number().expect("best block");
	assert!(best >= 3, "best block #{best} below the finalised one");

	for number in 1..=3 {
		let hash = node.rpc("chain_getBlockHash", json!([number])).expect("block hash");
		let header = node.rpc("chain_getHeader", json!([hash])).expect("header");
		let logs: Vec<&str> = header["digest"]["logs"]
			.as_array()
			.expect("digest logs")
			.iter()
			.filter_map(|log| log.as_str())
			.collect();
		assert!(
			logs.iter().any(|log| log.starts_with(BABE_PRE_RUNTIME)),
			"block #{number} has no BABE pre-digest: {logs:?}"
		);
		assert!(
			logs.iter().any(|log| log.starts_with(BABE_SEAL)),
			"block #{number} has no BABE seal: {logs:?}"
		);
	}

	// `--dev` puts Alice's worker key into the keystore, next to her session keys.
	let has_worker_key =
		|key: &str| node.rpc("author_hasKey", json!([key, "vtwk"])).expect("author_hasKey answers");
	assert_eq!(has_worker_key(ALICE), json!(true));
	assert_eq!(has_worker_key(BOB), json!(false));

	// Worker keys are managed apart from the session keys: a new one on request, and none minted
	// by rotating the session keys.
	let worker_keys = || {
		node.rpc("veritensor_workerKeyProofs", json!([BOB_ACCOUNT]))
			.expect("proofs answer")
			.as_array()
			.expect("a list of proofs")
			.len()
	};
	assert_eq!(worker_keys(), 1);
	let created = node.rpc("veritensor_generateWorkerKey", json!([])).expect("a new worker key");
	let created = created["worker"].as_str().expect("the key in hex").to_string();
	assert_eq!(has_worker_key(&created), json!(true));
	assert_eq!(worker_keys(), 2);
	node.rpc("author_rotateKeys", json!([])).expect("session keys rotate");
	assert_eq!(worker_keys(), 2, "rotating the session keys minted a worker key");

	let metadata = node.rpc("state_getMetadata", json!([])).expect("metadata");
	assert!(metadata.as_str().is_some_and(|hex| hex.len() > 10_000), "metadata is too short");

	let health = node.rpc("system_health", json!([])).expect("health");
	assert_eq!(health["isSyncing"], json!(false));

	// The embedded executor serves on loopback, and its address is where the off-chain worker
	// reads it.
	let log = node.log();
	let address = log
		.split("Embedded executor listening on http://")
		.nth(1)
		.and_then(|rest| rest.split_whitespace().next())
		.unwrap_or_else(|| panic!("no embedded executor in the log:\n{}", node.log_tail()))
		.to_string();
	assert!(address.starts_with("127.0.0.1:"), "the executor listens on {address}");
	let (status, body) = http_get(&address, "/health").expect("executor health");
	assert!(status.contains("200"), "{status}: {body}");
	let executor_health: serde_json::Value = serde_json::from_str(&body).expect("health JSON");
	assert_eq!(executor_health["status"], "ok");
	assert_eq!(executor_health["engines"][0]["engine"], "tract");
	// The development chain lists the float demo model at genesis; its file is in store.
	let float_model = "0x810f3fd8a086a7e5020e9c3a63f965ba45c4b85e102538e1b1abcecaa330f040";
	let listed =
		node.rpc("state_getStorage", json!([models_storage_key(float_model)])).expect("storage");
	assert!(listed.is_string(), "the float demo model is not in the registry");
	let local_storage = |key: &[u8]| {
		let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
		let stored = node
			.rpc("offchain_localStorageGet", json!(["PERSISTENT", format!("0x{key}")]))
			.expect("offchain_localStorageGet");
		let stored = stored.as_str().expect("a stored value").to_string();
		(2..stored.len())
			.step_by(2)
			.map(|i| u8::from_str_radix(&stored[i..i + 2], 16).expect("hex"))
			.collect::<Vec<u8>>()
	};
	// The off-chain worker's endpoint record carries the token this start drew; without it,
	// or with a body that does not say it is JSON, the executor does nothing.
	let bytes = local_storage(EXECUTOR_ENDPOINT_KEY);
	let endpoint = ExecutorEndpoint::decode(&mut &bytes[..]).expect("a SCALE endpoint");
	assert_eq!(endpoint.url, format!("http://{address}").into_bytes());
	let token = String::from_utf8(endpoint.token).expect("a text token");
	assert_eq!(token.len(), 64, "a 32-byte token in hex: {token}");
	let token_file = log
		.split("token in ")
		.nth(1)
		.and_then(|rest| rest.split(", engines").next())
		.map(std::path::PathBuf::from)
		.expect("the log names the token file");
	assert_eq!(std::fs::read_to_string(&token_file).expect("the token file"), token);
	let mode = std::fs::metadata(&token_file).expect("token file").permissions().mode();
	assert_eq!(mode & 0o077, 0, "the token file is readable by its owner only: {mode:o}");
	let json_type = "Content-Type: application/json\r\n";
	let bearer = format!("Authorization: Bearer {token}\r\n");
	let authorised = format!("{json_type}{bearer}");
	let ones = vec![1; 64];
	let digits = json!({"model": float_model,
		"inputs": [{"elem": "F32", "shape": [1, 64], "frac_bits": 0, "values": ones}]})
	.to_string();
	for (headers, refused) in [
		(json_type.to_string(), "401"),
		(format!("Content-Type: text/plain\r\n{bearer}"), "415"),
		(authorised.clone(), ""),
	] {
		let (status, body) =
			http_request_with(&address, "POST", "/v1/infer", &headers, digits.as_bytes())
				.expect("the executor answers");
		let expected = if refused.is_empty() { "200" } else { refused };
		assert!(status.contains(expected), "{headers:?}: {status}: {body}");
	}
	let (status, body) =
		http_request_with(&address, "GET", &format!("/v1/models/{float_model}"), "", b"")
			.expect("model info");
	assert!(status.contains("401"), "model info without the token: {status}: {body}");
	let call = |method: &str, path: &str, body: &[u8]| {
		http_request_with(&address, method, path, &authorised, body)
	};

	// A model whose memory follows an input value, asked for 8 GiB: the child running it dies
	// at its memory limit, the request ends in resource_exhausted, and the node, its executor
	// and other models go on.
	let range_model = std::fs::read(
		std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
			.join("../executor/tests/data/range_from_input.onnx"),
	)
	.expect("the range fixture");
	let (status, body) = call("PUT", "/v1/models", &range_model).expect("upload");
	assert!(status.contains("201"), "{status}: {body}");
	let range: serde_json::Value = serde_json::from_str(&body).expect("upload JSON");
	let range_request = |n: i64| {
		json!({"model": range["hash"], "output_frac_bits": 0,
			"inputs": [{"elem": "F32", "shape": [1], "frac_bits": 0, "values": [n]}]})
		.to_string()
		.into_bytes()
	};
	let best_before = node.best_number().expect("best block");
	let (status, body) =
		call("POST", "/v1/infer", &range_request(i32::MAX as i64)).expect("the executor answers");
	assert!(status.contains("422") && body.contains("resource_exhausted"), "{status}: {body}");
	node.assert_running();
	let (status, _) = http_get(&address, "/health").expect("executor health");
	assert!(status.contains("200"), "{status}");
	let (status, body) = call("POST", "/v1/infer", &range_request(4)).expect("a small range");
	assert!(status.contains("200") && body.contains("[6]"), "{status}: {body}");
	let (status, body) = call("POST", "/v1/infer", digits.as_bytes()).expect("digits");
	assert!(status.contains("200"), "{status}: {body}");
	// The executor's metrics are on the node's own Prometheus endpoint.
	let prometheus = format!("127.0.0.1:{}", node.prometheus_port);
	let (status, metrics) = http_get(&prometheus, "/metrics").expect("the node's metrics");
	assert!(status.contains("200"), "{status}");
	let value = |name: &str, label: &str| -> Option<f64> {
		metrics.lines().find_map(|line| {
			let (series, value) = line.rsplit_once(' ')?;
			(series.starts_with(&format!("{name}{{")) && series.contains(label))
				.then(|| value.parse().ok())
				.flatten()
		})
	};
	for (name, label, at_least) in [
		("veritensor_executor_requests_total", "endpoint=\"infer\"", 4.0),
		("veritensor_executor_errors_total", "kind=\"resource_exhausted\"", 1.0),
		("veritensor_executor_errors_total", "kind=\"unauthorized\"", 1.0),
		("veritensor_executor_child_processes_started_total", "chain=\"veritensor_dev\"", 1.0),
		("substrate_block_height", "status=\"best\"", 1.0),
	] {
		let found = value(name, label);
		assert!(
			found.is_some_and(|found| found >= at_least),
			"{name} {label}: {found:?}, expected at least {at_least}; the node's metrics:\n{metrics}"
		);
	}
	let authoring = wait_until(Duration::from_secs(60), || {
		node.best_number().is_some_and(|best| best > best_before)
	});
	assert!(authoring, "no block authored after the memory bomb:\n{}", node.log_tail());

	let status = node.interrupt(Duration::from_secs(60));
	assert!(status.success(), "the node exited with {status} after SIGINT");
}
