//! The off-chain worker's executor client: requests the real executor understands, answers
//! checked against the schema and their hash, errors sorted into retry or cannot-execute, and
//! the HTTP exchange through the off-chain test externalities. No pallet state is involved.

use crate::executor_client::{
	cancel_tasks, infer_request, poll_tasks, read_answer, read_cancellation, read_task,
	remote_infer_request, start_tasks, ClientError, TaskStart, TaskState, TaskTerms,
};
use frame_support::{traits::ConstU32, BoundedVec};
use serde_json::{json, Value};
use sp_core::{
	offchain::{testing, OffchainDbExt, OffchainWorkerExt},
	H256,
};
use sp_runtime::offchain::Duration;
use veritensor_primitives::{
	hashing::output_hash,
	offchain::ExecutorEndpoint,
	tensor::{ElementType, IoSchema, Tensor, TensorSpec},
	CannotExecuteReason, ComparisonRule, Engine, ExecutorErrorKind,
};

type Bytes = ConstU32<{ 64 * 1024 }>;

fn spec(name: &str, elem: ElementType, shape: &[u32], frac_bits: u8) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
	}
}

/// The float digits demo model's schema, as the development chain lists it.
fn digits_schema() -> IoSchema {
	IoSchema {
		inputs: vec![spec("pixels", ElementType::F32, &[1, 64], 8)].try_into().unwrap(),
		outputs: vec![
			spec("label", ElementType::I64, &[1], 0),
			spec("probabilities", ElementType::F32, &[1, 10], 16),
		]
		.try_into()
		.unwrap(),
	}
}

fn f32_tensor(shape: &[u32], frac_bits: u8, raw: &[i32]) -> Tensor<Bytes> {
	Tensor {
		elem: ElementType::F32,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
		data: BoundedVec::try_from(raw.iter().flat_map(|r| r.to_le_bytes()).collect::<Vec<_>>())
			.unwrap(),
	}
}

/// A predicted label: one I64.
fn label_tensor(label: i64) -> Tensor<Bytes> {
	Tensor {
		elem: ElementType::I64,
		shape: vec![1].try_into().unwrap(),
		frac_bits: 0,
		data: BoundedVec::try_from(label.to_le_bytes().to_vec()).unwrap(),
	}
}

fn demo_dir() -> std::path::PathBuf {
	std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../executor/demo-models")
}

fn demo_image(index: usize) -> (Vec<i32>, i64) {
	let vectors: Value =
		serde_json::from_slice(&std::fs::read(demo_dir().join("test_vectors.json")).unwrap())
			.unwrap();
	let pixels = vectors["pixels"][index]
		.as_array()
		.unwrap()
		.iter()
		.map(|p| (p.as_i64().unwrap() << 8) as i32);
	(pixels.collect(), vectors["labels"][index].as_i64().unwrap())
}

#[test]
fn the_request_carries_raw_values_and_the_schema() {
	let model = H256::repeat_byte(0xab);
	let schema = digits_schema();
	let input = f32_tensor(&[1, 4], 8, &[256, -128, 0, 2560]);
	let body: Value =
		serde_json::from_slice(&infer_request(&model, &[input], &schema, None, &[])).unwrap();
	assert_eq!(body["model"], format!("0x{}", "ab".repeat(32)));
	assert_eq!(
		body["inputs"],
		json!([{ "elem": "F32", "shape": [1, 4], "frac_bits": 8, "values": [256, -128, 0, 2560] }])
	);
	assert_eq!(
		body["schema"]["outputs"][1],
		json!({ "name": "probabilities", "elem": "F32", "shape": [1, 10], "frac_bits": 16 })
	);
}

#[test]
fn the_real_executor_understands_the_request_and_its_answer_is_accepted() {
	let dir = tempfile::tempdir().unwrap();
	let executor =
		veritensor_executor::Executor::new(veritensor_executor::Config::new(dir.path())).unwrap();
	let model_bytes = std::fs::read(demo_dir().join("mlp_digits_f32.onnx")).unwrap();
	let model = executor.store().add_bytes(&model_bytes, None).unwrap();
	let schema = digits_schema();
	let uris = [b"https://models.test/f32.onnx".to_vec()];
	for index in [0, 1, 2, 3] {
		let (pixels, label) = demo_image(index);
		let input = f32_tensor(&[1, 64], 8, &pixels);
		let request: veritensor_executor::InferRequest =
			serde_json::from_slice(&infer_request(&model, &[input], &schema, None, &uris))
				.expect("the executor parses it");
		assert_eq!(request.fetch_from, vec!["https://models.test/f32.onnx".to_string()]);
		let response = executor.infer(&request).expect("the executor runs it");
		let answer = serde_json::to_vec(&response).unwrap();
		let (outputs, hash) =
			read_answer::<Bytes>(200, &answer, &schema).expect("the answer checks");
		assert_eq!(hash, output_hash(&outputs));
		assert_eq!(outputs[0].raw_element(0), Some(label), "image {index}");
		assert_eq!(outputs[1].frac_bits, 16);
	}
	// A job's remote input goes as a URI and the input hash.
	let hash = H256::repeat_byte(9);
	let body = remote_infer_request(&model, b"https://data.test/x", &hash, &schema, None, &uris);
	let request: veritensor_executor::InferRequest =
		serde_json::from_slice(&body).expect("the executor parses it");
	let remote = request.input_from.expect("a remote input");
	assert_eq!((remote.uri.as_str(), request.inputs.len()), ("https://data.test/x", 0));
	assert_eq!(remote.hash, format!("0x{}", "09".repeat(32)));
}

#[test]
fn unknown_or_garbled_errors_are_retried() {
	let schema = digits_schema();
	let body = json!({ "error": { "kind": "a_kind_from_the_future", "message": "why" } });
	let error = read_answer::<Bytes>(503, body.to_string().as_bytes(), &schema).unwrap_err();
	assert_eq!(
		error,
		ClientError::Executor {
			kind: None,
			name: "a_kind_from_the_future".into(),
			message: "why".into()
		}
	);
	assert!(!error.is_permanent());
	assert_eq!(error.reason(), CannotExecuteReason::ExecutionFailed);
	assert!(matches!(
		read_answer::<Bytes>(500, b"<html>", &schema),
		Err(ClientError::Malformed(_))
	));
}

/// An executor error of `kind`. The match has no wildcard, so a new kind does not compile here
/// until it has an error.
fn executor_error_of(kind: ExecutorErrorKind) -> veritensor_executor::Error {
	use veritensor_executor::Error;
	let text = || String::from("why");
	match kind {
		ExecutorErrorKind::ModelNotFound => Error::ModelNotFound(text()),
		ExecutorErrorKind::ModelTooLarge => Error::ModelTooLarge { size: 2, limit: 1 },
		ExecutorErrorKind::HashMismatch => Error::HashMismatch { expected: text(), actual: text() },
		ExecutorErrorKind::CorruptModel => Error::CorruptModel(text()),
		ExecutorErrorKind::UnsupportedOperator => Error::UnsupportedOperator(text()),
		ExecutorErrorKind::SchemaMismatch => Error::SchemaMismatch(text()),
		ExecutorErrorKind::BadInput => Error::BadInput(text()),
		ExecutorErrorKind::InputTooLarge => Error::InputTooLarge { size: 2, limit: 1 },
		ExecutorErrorKind::EngineUnavailable => Error::EngineUnavailable(text()),
		ExecutorErrorKind::EngineMismatch => Error::EngineMismatch(text()),
		ExecutorErrorKind::EngineFailure => Error::Engine(text()),
		ExecutorErrorKind::FetchRefused => Error::FetchRefused(text()),
		ExecutorErrorKind::FetchFailed => Error::FetchFailed(text()),
		ExecutorErrorKind::InputUnavailable => Error::InputUnavailable(text()),
		ExecutorErrorKind::BadRemoteInput => Error::BadRemoteInput(text()),
		ExecutorErrorKind::RemoteInputRefused => Error::RemoteInputRefused(text()),
		ExecutorErrorKind::Timeout => Error::Timeout(1),
		ExecutorErrorKind::Overloaded => Error::Overloaded(text()),
		ExecutorErrorKind::UnknownTask => Error::UnknownTask(text()),
		ExecutorErrorKind::Storage => Error::Storage(text()),
		ExecutorErrorKind::Unauthorized => Error::Unauthorized,
		ExecutorErrorKind::ResourceExhausted => Error::ResourceExhausted(text()),
	}
}

#[test]
fn every_error_kind_round_trips_through_the_executor_and_the_client() {
	let schema = digits_schema();
	let kinds = ExecutorErrorKind::all();
	assert!(kinds.len() >= 21, "the kinds are read off the type: {kinds:?}");
	for kind in kinds {
		let error = executor_error_of(kind);
		assert_eq!(error.kind(), kind, "the executor names its error by this kind");
		let (status, body) = veritensor_executor::server::error_reply(&error);
		let read = read_answer::<Bytes>(status, body.to_string().as_bytes(), &schema).unwrap_err();
		assert_eq!(
			read,
			ClientError::Executor {
				kind: Some(kind),
				name: kind.as_str().into(),
				message: error.to_string()
			}
		);
		assert_eq!(read.is_permanent(), error.is_permanent(), "{kind:?}");
		assert_eq!(read.reason(), kind.reason(), "{kind:?}");
		// A failed task carries the same error.
		let failed = json!({ "id": "1", "state": "failed", "error": body["error"] });
		let read_task = read_task::<Bytes>(200, failed.to_string().as_bytes(), &schema);
		assert_eq!(read_task.map(|_| ()), Err(read));
	}
}

#[test]
fn errors_of_a_workers_own_limits_never_blame_the_job() {
	let own_limits = [
		ExecutorErrorKind::ModelTooLarge,
		ExecutorErrorKind::InputTooLarge,
		ExecutorErrorKind::FetchRefused,
		ExecutorErrorKind::RemoteInputRefused,
		ExecutorErrorKind::EngineUnavailable,
		ExecutorErrorKind::EngineMismatch,
	];
	for kind in own_limits {
		assert!(
			matches!(
				kind.reason(),
				CannotExecuteReason::WorkerLimits | CannotExecuteReason::EngineUnavailable
			),
			"{kind:?} is reported as {:?}",
			kind.reason()
		);
	}
}

#[test]
fn a_pinned_model_names_its_engine_and_version_in_the_request() {
	let schema = digits_schema();
	let model = H256::repeat_byte(0xab);
	let input = f32_tensor(&[1, 64], 8, &[0; 64]);
	let rule = ComparisonRule::ExactHash {
		engine: Engine::Tract,
		version: b"0.23.9".to_vec().try_into().unwrap(),
	};
	let request: veritensor_executor::InferRequest = serde_json::from_slice(&infer_request(
		&model,
		core::slice::from_ref(&input),
		&schema,
		Some(&rule),
		&[],
	))
	.expect("the executor parses it");
	assert_eq!(request.engine, Some(veritensor_executor::EngineKind::Tract));
	assert_eq!(request.engine_version.as_deref(), Some("0.23.9"));

	let tolerance = ComparisonRule::PerOutput(
		vec![veritensor_primitives::OutputRule::Tolerance { agree: 1, slash: 2 }]
			.try_into()
			.unwrap(),
	);
	let request: veritensor_executor::InferRequest =
		serde_json::from_slice(&infer_request(&model, &[input], &schema, Some(&tolerance), &[]))
			.unwrap();
	assert_eq!((request.engine, request.engine_version), (None, None));
}

#[test]
fn answers_that_do_not_check_are_refused() {
	let schema = digits_schema();
	let label =
		json!({ "name": "label", "elem": "I64", "shape": [1], "frac_bits": 0, "values": [3] });
	let probabilities = |values: Vec<i64>| json!({ "name": "probabilities", "elem": "F32", "shape": [1, 10], "frac_bits": 16, "values": values });
	let honest =
		vec![label_tensor(3), f32_tensor(&[1, 10], 16, &[0, 0, 0, 65536, 0, 0, 0, 0, 0, 0])];
	let hash = format!("0x{}", hex_of(&output_hash(&honest).0));
	let answer = |outputs: Value, hash: &str| {
		json!({ "outputs": outputs, "output_hash": hash }).to_string().into_bytes()
	};
	let good = answer(json!([label, probabilities(vec![0, 0, 0, 65536, 0, 0, 0, 0, 0, 0])]), &hash);
	assert_eq!(
		read_answer::<Bytes>(200, &good, &schema),
		Ok((honest, output_hash_of(&good, &schema)))
	);

	let wrong_hash = answer(
		json!([label, probabilities(vec![0, 0, 0, 65536, 0, 0, 0, 0, 0, 0])]),
		&format!("0x{}", "00".repeat(32)),
	);
	let altered =
		answer(json!([label, probabilities(vec![0, 0, 0, 65535, 1, 0, 0, 0, 0, 0])]), &hash);
	let short = answer(json!([label, probabilities(vec![0; 9])]), &hash);
	let one_output = answer(json!([label]), &hash);
	let wrong_type = answer(
		json!([label, { "name": "probabilities", "elem": "I32", "shape": [1, 10], "frac_bits": 0, "values": vec![0; 10] }]),
		&hash,
	);
	let out_of_range = answer(json!([label, probabilities(vec![1 << 40; 10])]), &hash);
	for body in [wrong_hash, altered, short, one_output, wrong_type, out_of_range] {
		assert!(
			matches!(read_answer::<Bytes>(200, &body, &schema), Err(ClientError::Malformed(_))),
			"{}",
			String::from_utf8_lossy(&body)
		);
	}
}

fn hex_of(bytes: &[u8]) -> String {
	bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn output_hash_of(answer: &[u8], schema: &IoSchema) -> H256 {
	read_answer::<Bytes>(200, answer, schema).unwrap().1
}

#[test]
fn inference_goes_over_the_nodes_http_with_the_token() {
	let (offchain, state) = testing::TestOffchainExt::new();
	let mut externalities = sp_io::TestExternalities::default();
	externalities.register_extension(OffchainWorkerExt::new(offchain.clone()));
	externalities.register_extension(OffchainDbExt::new(offchain));
	let schema = digits_schema();
	let model = H256::repeat_byte(1);
	let (pixels, _) = demo_image(0);
	let input = f32_tensor(&[1, 64], 8, &pixels);
	let outputs =
		vec![label_tensor(0), f32_tensor(&[1, 10], 16, &[65536, 0, 0, 0, 0, 0, 0, 0, 0, 0])];
	let answer = json!({
		"outputs": [
			{ "name": "label", "elem": "I64", "shape": [1], "frac_bits": 0, "values": [0] },
			{ "name": "probabilities", "elem": "F32", "shape": [1, 10], "frac_bits": 16, "values": [65536, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
		],
		"output_hash": format!("0x{}", hex_of(&output_hash(&outputs).0)),
	});
	let uris = vec![b"https://models.test/digits.onnx".to_vec()];
	let headers = |json: bool| {
		let mut headers = vec![("Authorization".to_string(), "Bearer t0ken".to_string())];
		if json {
			headers.insert(0, ("Content-Type".into(), "application/json".into()));
		}
		headers
	};
	let request = infer_request(&model, core::slice::from_ref(&input), &schema, None, &uris);
	// The start goes in a batch, its headers as fields and its request as it is.
	let mut batch = br#"{"tasks":[{"job":"42","key":"k-42","timeout_ms":18000,"request":"#.to_vec();
	batch.extend_from_slice(&request);
	batch.extend_from_slice(b"}]}");
	let mut state = state.write();
	state.expect_request(testing::PendingRequest {
		method: "POST".into(),
		uri: "http://127.0.0.1:8077/v1/tasks/batch".into(),
		headers: headers(true),
		body: batch,
		response: Some(br#"{"tasks":[{"id":"00ab12","state":"running"}]}"#.to_vec()),
		sent: true,
		..Default::default()
	});
	for response in [
		json!({ "id": "00ab12", "state": "running" }),
		json!({ "id": "00ab12", "state": "done", "result": answer }),
	] {
		state.expect_request(testing::PendingRequest {
			method: "POST".into(),
			uri: "http://127.0.0.1:8077/v1/tasks/poll".into(),
			headers: headers(true),
			body: br#"{"ids":["00ab12"]}"#.to_vec(),
			response: Some(json!({ "tasks": [response] }).to_string().into_bytes()),
			sent: true,
			..Default::default()
		});
	}
	state.expect_request(testing::PendingRequest {
		method: "DELETE".into(),
		uri: "http://127.0.0.1:8077/v1/tasks/00ab12".into(),
		headers: headers(false),
		response: Some(json!({ "id": "00ab12", "state": "forgotten" }).to_string().into_bytes()),
		sent: true,
		..Default::default()
	});
	drop(state);
	let endpoint =
		ExecutorEndpoint { url: b"http://127.0.0.1:8077/".to_vec(), token: b"t0ken".to_vec() };
	let terms = TaskTerms { key: "k-42".into(), timeout_ms: 18_000 };
	externalities.execute_with(|| {
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(2_000));
		let body = infer_request(&model, core::slice::from_ref(&input), &schema, None, &uris);
		let start = TaskStart { job: 42, terms, request: body };
		let task = start_tasks(&endpoint, vec![start], deadline).pop().unwrap().unwrap();
		assert_eq!(task, b"00ab12".to_vec());
		let poll = || {
			poll_tasks::<Bytes>(&endpoint, &[(&task[..], &schema)], deadline)
				.pop()
				.unwrap()
				.unwrap()
		};
		assert_eq!(poll(), TaskState::Running);
		assert_eq!(poll(), TaskState::Done(outputs.clone(), output_hash(&outputs)));
		assert_eq!(cancel_tasks(&endpoint, core::slice::from_ref(&task), deadline), vec![Ok(())]);
	});
}

#[test]
fn a_cancellation_is_done_when_the_executor_forgot_the_task_and_refused_otherwise() {
	let forgotten = json!({ "id": "00ab12", "state": "forgotten" }).to_string();
	assert_eq!(read_cancellation(200, forgotten.as_bytes()), Ok(()));
	let unknown = json!({ "error": { "kind": "unknown_task", "message": "no such task" } });
	assert_eq!(read_cancellation(404, unknown.to_string().as_bytes()), Ok(()));
	let refused = json!({ "error": { "kind": "unauthorized", "message": "no token" } });
	assert!(matches!(
		read_cancellation(401, refused.to_string().as_bytes()),
		Err(ClientError::Executor { name, .. }) if name == "unauthorized"
	));
	assert!(matches!(read_cancellation(502, b"<html>"), Err(ClientError::Malformed(_))));
}
