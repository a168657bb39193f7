//! Helpers shared by the executor's integration tests.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use veritensor_executor::{
	store::hash_hex,
	tensor::{JsonSchema, JsonTensor, JsonTensorSpec},
	Config, EngineKind, Executor, InferRequest,
};
use veritensor_primitives::tensor::ElementType;

pub const FLOAT_MODEL: &str = "mlp_digits_f32.onnx";
pub const INT_MODEL: &str = "mlp_digits_int.onnx";

pub fn crate_dir() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn demo_model(name: &str) -> Vec<u8> {
	std::fs::read(crate_dir().join("demo-models").join(name)).expect("demo models are committed")
}

pub fn fixture(name: &str) -> Vec<u8> {
	std::fs::read(crate_dir().join("tests/data").join(name)).expect("test fixtures are committed")
}

pub fn json(name: &str) -> Value {
	let text = std::fs::read_to_string(crate_dir().join("demo-models").join(name))
		.expect("demo models are committed");
	serde_json::from_str(&text).expect("valid JSON")
}

/// The ONNX Runtime library the tests load: VERITENSOR_ONNXRUNTIME_LIB, else where
/// scripts/setup-onnxruntime.sh puts it. Missing is a failure, not a skip: the second engine
/// is part of what these tests check.
pub fn onnxruntime_library() -> PathBuf {
	let path =
		std::env::var_os("VERITENSOR_ONNXRUNTIME_LIB").map(PathBuf::from).unwrap_or_else(|| {
			PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
				.join(".cache/veritensor-onnxruntime/1.31.1/libonnxruntime.so.1.31.1")
		});
	assert!(
		path.is_file(),
		"ONNX Runtime library not found at {}: run scripts/setup-onnxruntime.sh",
		path.display()
	);
	path
}

pub struct Setup {
	pub dir: tempfile::TempDir,
	pub executor: Executor,
	pub float_hash: String,
	pub int_hash: String,
}

/// An executor with both demo models in its store, ONNX Runtime configured when asked.
pub fn setup_with(with_onnxruntime: bool, adjust: impl FnOnce(&mut Config)) -> Setup {
	let dir = tempfile::tempdir().expect("temp dir");
	let mut config = Config::new(dir.path().join("store"));
	if with_onnxruntime {
		config.onnxruntime_library = Some(onnxruntime_library());
	}
	adjust(&mut config);
	let executor = Executor::new(config).expect("executor starts");
	let float_hash = hash_hex(&executor.store().add_bytes(&demo_model(FLOAT_MODEL), None).unwrap());
	let int_hash = hash_hex(&executor.store().add_bytes(&demo_model(INT_MODEL), None).unwrap());
	Setup { dir, executor, float_hash, int_hash }
}

pub fn setup() -> Setup {
	setup_with(true, |_| {})
}

/// The held-out images as integer pixel rows.
pub fn test_pixels(vectors: &Value) -> Vec<Vec<i64>> {
	vectors["pixels"]
		.as_array()
		.unwrap()
		.iter()
		.map(|row| row.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect())
		.collect()
}

pub fn ints(value: &Value) -> Vec<i64> {
	value.as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect()
}

/// Pixels as the float model takes them: fixed point with 8 fraction bits (exact for 0..16).
pub fn float_input(pixels: &[i64]) -> JsonTensor {
	JsonTensor {
		name: None,
		elem: ElementType::F32,
		shape: vec![1, 64],
		frac_bits: 8,
		values: pixels.iter().map(|p| p << 8).collect(),
	}
}

/// Pixels as the integer model takes them.
pub fn int_input(pixels: &[i64]) -> JsonTensor {
	JsonTensor {
		name: None,
		elem: ElementType::U8,
		shape: vec![1, 64],
		frac_bits: 0,
		values: pixels.to_vec(),
	}
}

pub fn request(model: &str, input: JsonTensor, engine: EngineKind) -> InferRequest {
	InferRequest {
		model: model.to_string(),
		inputs: vec![input],
		engine: Some(engine),
		engine_version: None,
		schema: None,
		output_frac_bits: None,
		fetch_from: Vec::new(),
		input_from: None,
	}
}

/// The float model's schema as a registry would declare it: pixels with 8 fraction bits,
/// probabilities with `probability_bits`.
pub fn float_model_schema(probability_bits: u8) -> JsonSchema {
	let spec = |name: &str, elem, shape: Vec<u32>, frac_bits| JsonTensorSpec {
		name: name.into(),
		elem,
		shape,
		frac_bits,
	};
	JsonSchema {
		inputs: vec![spec("pixels", ElementType::F32, vec![1, 64], 8)],
		outputs: vec![
			spec("label", ElementType::I64, vec![1], 0),
			spec("probabilities", ElementType::F32, vec![1, 10], probability_bits),
		],
	}
}

/// A fetch policy that lets tests fetch over HTTP from loopback hosts.
pub fn loopback_policy() -> veritensor_executor::fetch::FetchPolicy {
	veritensor_executor::fetch::FetchPolicy {
		schemes: vec!["http".into()],
		hosts: None,
		allow_private: true,
		timeout: std::time::Duration::from_secs(5),
		..Default::default()
	}
}

/// Serves `router` on a free loopback port, for as long as the test's runtime lives.
pub async fn serve_on_loopback(router: axum::Router) -> std::net::SocketAddr {
	let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
	let address = listener.local_addr().unwrap();
	tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
	address
}
