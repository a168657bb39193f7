//! Models pinned to an engine and version (exact comparison rules): a pinned request runs on
//! exactly that engine whatever the executor's default, and an executor without that engine
//! version refuses with its own permanent kind. The tract version reported is the one linked.

mod common;

use common::*;
use veritensor_executor::{engine::EngineKind, Error, ExecutorErrorKind, InferRequest};

fn pinned(model: &str, engine: EngineKind, version: &str) -> InferRequest {
	InferRequest {
		engine_version: Some(version.into()),
		..request(model, int_input(&pixels()), engine)
	}
}

fn pixels() -> Vec<i64> {
	test_pixels(&json("test_vectors.json")).remove(0)
}

/// The tract-onnx version `Cargo.lock` resolves, read independently of the build script.
fn locked_tract_version() -> String {
	let lock = std::fs::read_to_string(crate_dir().join("../Cargo.lock")).unwrap();
	let at = lock.find("name = \"tract-onnx\"\nversion = \"").expect("tract-onnx is locked");
	let rest = &lock[at + "name = \"tract-onnx\"\nversion = \"".len()..];
	rest[..rest.find('"').unwrap()].to_string()
}

#[test]
fn the_reported_tract_version_is_the_locked_one() {
	let setup = setup_with(false, |_| {});
	let tract = setup.executor.engines().into_iter().find(|e| e.engine == EngineKind::Tract);
	assert_eq!(tract.unwrap().version, locked_tract_version());
}

#[test]
fn a_tract_pinned_request_runs_on_tract_when_the_default_is_onnxruntime() {
	let setup = setup_with(true, |config| config.default_engine = EngineKind::OnnxRuntime);
	let unpinned = setup.executor.infer(&request_default(&setup.int_hash)).unwrap();
	assert_eq!(unpinned.engine, EngineKind::OnnxRuntime, "the default engine is ONNX Runtime");

	let answer = setup
		.executor
		.infer(&pinned(&setup.int_hash, EngineKind::Tract, &locked_tract_version()))
		.unwrap();
	assert_eq!(answer.engine, EngineKind::Tract);
	assert_eq!(answer.engine_version, locked_tract_version());
}

fn request_default(model: &str) -> InferRequest {
	InferRequest { engine: None, ..request(model, int_input(&pixels()), EngineKind::Tract) }
}

#[test]
fn an_executor_without_the_pinned_version_refuses_permanently() {
	let setup = setup_with(false, |_| {});
	let error =
		setup.executor.infer(&pinned(&setup.int_hash, EngineKind::Tract, "0.0.1")).unwrap_err();
	assert!(matches!(error, Error::EngineMismatch(_)), "{error}");
	assert_eq!(error.kind(), ExecutorErrorKind::EngineMismatch);
	assert!(error.is_permanent());

	// Pinned to an engine this executor does not have at all: the same refusal.
	let error = setup
		.executor
		.infer(&pinned(&setup.int_hash, EngineKind::OnnxRuntime, "1.31.1"))
		.unwrap_err();
	assert!(matches!(error, Error::EngineMismatch(_)), "{error}");
}

#[test]
fn the_engine_is_checked_before_anything_is_fetched() {
	let setup = setup_with(false, |_| {});
	let missing = format!("0x{}", "77".repeat(32));
	let request = InferRequest {
		fetch_from: vec!["https://models.invalid/m.onnx".into()],
		..pinned(&missing, EngineKind::Tract, "0.0.1")
	};
	let error = setup.executor.engine_for(&request).unwrap_err();
	assert_eq!(error.kind(), ExecutorErrorKind::EngineMismatch);
	assert_eq!(
		setup
			.executor
			.engine_for(&pinned(&missing, EngineKind::Tract, &locked_tract_version()))
			.unwrap(),
		EngineKind::Tract
	);
}
