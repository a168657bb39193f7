//! Every refusal the executor's library path can give, and that failures leave nothing broken
//! behind: the store holds no bad file and the cache serves the next good request.

mod common;

use common::*;
use sp_core::H256;
use veritensor_executor::{
	store::{hash_hex, parse_hash},
	EngineKind, Error, InferRequest,
};
use veritensor_primitives::tensor::ElementType;

fn pixels() -> Vec<i64> {
	test_pixels(&json("test_vectors.json"))[0].clone()
}

#[test]
fn corrupt_bytes_are_reported_by_both_engines() {
	let setup = setup();
	let garbage: Vec<u8> =
		(0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
	let mut truncated = demo_model(FLOAT_MODEL);
	truncated.truncate(truncated.len() / 2);
	for bytes in [garbage, truncated] {
		let hash = hash_hex(&setup.executor.store().add_bytes(&bytes, None).unwrap());
		for engine in [EngineKind::Tract, EngineKind::OnnxRuntime] {
			let error =
				setup.executor.infer(&request(&hash, float_input(&pixels()), engine)).unwrap_err();
			assert!(matches!(error, Error::CorruptModel(_)), "{engine:?}: {error}");
			assert_eq!(error.kind().as_str(), "corrupt_model");
		}
	}
}

#[test]
fn unsupported_operators_are_named() {
	let setup = setup();
	let hash =
		hash_hex(&setup.executor.store().add_bytes(&fixture("unsupported_op.onnx"), None).unwrap());
	let input = veritensor_executor::tensor::JsonTensor {
		name: None,
		elem: ElementType::F32,
		shape: vec![1, 4],
		frac_bits: 8,
		values: vec![1, 2, 3, 4],
	};
	for engine in [EngineKind::Tract, EngineKind::OnnxRuntime] {
		let error = setup.executor.infer(&request(&hash, input.clone(), engine)).unwrap_err();
		assert!(
			matches!(&error, Error::UnsupportedOperator(m) if m.contains("VeritensorNoSuchOp")),
			"{engine:?}: {error}"
		);
	}
}

#[test]
fn oversized_models_and_hash_mismatches_are_refused_and_nothing_is_stored() {
	let dir = tempfile::tempdir().unwrap();
	let mut config = veritensor_executor::Config::new(dir.path());
	config.max_model_bytes = 10_000;
	let executor = veritensor_executor::Executor::new(config).unwrap();
	let error = executor.store().add_bytes(&demo_model(FLOAT_MODEL), None).unwrap_err();
	assert!(matches!(error, Error::ModelTooLarge { size: 20_310, limit: 10_000 }), "{error}");

	let model = demo_model(INT_MODEL);
	let real = H256(sp_crypto_hashing::blake2_256(&model));
	let wrong = H256::repeat_byte(7);
	let error = executor.store().add_bytes(&model, Some(wrong)).unwrap_err();
	assert!(matches!(error, Error::HashMismatch { .. }), "{error}");
	assert!(!executor.store().contains(&wrong) && !executor.store().contains(&real));
	assert_eq!(executor.store().add_bytes(&model, Some(real)).unwrap(), real);
}

#[test]
fn a_stored_file_damaged_on_disk_is_detected_and_removed() {
	let setup = setup_with(false, |_| {});
	let hash = parse_hash(&setup.int_hash).unwrap();
	let path = setup
		.dir
		.path()
		.join("store/blake2-256")
		.join(format!("{}.onnx", hex::encode(hash.as_bytes())));
	let mut bytes = std::fs::read(&path).unwrap();
	let last = bytes.len() - 1;
	bytes[last] ^= 0x01;
	std::fs::write(&path, bytes).unwrap();

	let error = setup
		.executor
		.infer(&request(&setup.int_hash, int_input(&pixels()), EngineKind::Tract))
		.unwrap_err();
	assert!(matches!(error, Error::CorruptModel(_)), "{error}");
	assert!(!path.exists(), "the damaged file is removed so it can be fetched again");
	let error = setup
		.executor
		.infer(&request(&setup.int_hash, int_input(&pixels()), EngineKind::Tract))
		.unwrap_err();
	assert!(matches!(error, Error::ModelNotFound(_)), "{error}");
}

#[test]
fn inputs_that_do_not_fit_the_graph_are_schema_mismatches() {
	let setup = setup();
	for engine in [EngineKind::Tract, EngineKind::OnnxRuntime] {
		// Integer pixels for the float model.
		let error = setup
			.executor
			.infer(&request(&setup.float_hash, int_input(&pixels()), engine))
			.unwrap_err();
		assert!(matches!(error, Error::SchemaMismatch(_)), "{error}");
		// One pixel short, with a shape to match.
		let mut short = float_input(&pixels()[..63]);
		short.shape = vec![1, 63];
		let error = setup.executor.infer(&request(&setup.float_hash, short, engine)).unwrap_err();
		assert!(matches!(error, Error::SchemaMismatch(_)), "{error}");
		// Two inputs for a one-input model.
		let mut two = request(&setup.float_hash, float_input(&pixels()), engine);
		two.inputs.push(float_input(&pixels()));
		let error = setup.executor.infer(&two).unwrap_err();
		assert!(matches!(error, Error::SchemaMismatch(_)), "{error}");
	}
}

#[test]
fn a_schema_that_disagrees_with_the_request_or_the_graph_is_refused() {
	let setup = setup_with(false, |_| {});
	let good = float_model_schema(16);
	let mut wrong_frac = good.clone();
	wrong_frac.inputs[0].frac_bits = 4;
	let mut wrong_name = good.clone();
	wrong_name.outputs[1].name = "scores".into();
	let mut wrong_output_type = good.clone();
	wrong_output_type.outputs[0].elem = ElementType::I32;
	let mut wrong_output_shape = good.clone();
	wrong_output_shape.outputs[1].shape = vec![10];
	let mut missing_output = good.clone();
	missing_output.outputs.pop();
	for schema in [wrong_frac, wrong_name, wrong_output_type, wrong_output_shape, missing_output] {
		let mut req = request(&setup.float_hash, float_input(&pixels()), EngineKind::Tract);
		req.schema = Some(schema.clone());
		let error = setup.executor.infer(&req).unwrap_err();
		assert!(matches!(error, Error::SchemaMismatch(_)), "{schema:?}: {error}");
	}
	let mut req = request(&setup.float_hash, float_input(&pixels()), EngineKind::Tract);
	req.schema = Some(good);
	assert!(setup.executor.infer(&req).is_ok());
}

#[test]
fn malformed_values_are_bad_input() {
	let setup = setup_with(false, |_| {});
	let mut wrong_count = int_input(&pixels());
	wrong_count.values.pop();
	let mut out_of_range = int_input(&pixels());
	out_of_range.values[3] = 300;
	let mut negative = int_input(&pixels());
	negative.values[0] = -1;
	let mut frac_on_integer = int_input(&pixels());
	frac_on_integer.frac_bits = 3;
	let mut zero_dim = int_input(&pixels());
	zero_dim.shape = vec![0, 64];
	for input in [wrong_count, out_of_range, negative, frac_on_integer, zero_dim] {
		let error = setup
			.executor
			.infer(&request(&setup.int_hash, input.clone(), EngineKind::Tract))
			.unwrap_err();
		assert!(matches!(error, Error::BadInput(_)), "{input:?}: {error}");
	}
	let mut float_out_of_range = float_input(&pixels());
	float_out_of_range.values[0] = i64::from(i32::MAX) + 1;
	let error = setup
		.executor
		.infer(&request(&setup.float_hash, float_out_of_range, EngineKind::Tract))
		.unwrap_err();
	assert!(matches!(error, Error::BadInput(_)), "{error}");
	let mut bad_hash = request(&setup.int_hash, int_input(&pixels()), EngineKind::Tract);
	bad_hash.model = "0x1234".into();
	assert!(matches!(setup.executor.infer(&bad_hash).unwrap_err(), Error::BadInput(_)));
}

#[test]
fn limits_unknown_models_and_missing_engines_are_reported() {
	let setup = setup_with(false, |config| config.max_input_bytes = 32);
	let error = setup
		.executor
		.infer(&request(&setup.int_hash, int_input(&pixels()), EngineKind::Tract))
		.unwrap_err();
	assert!(matches!(error, Error::InputTooLarge { size: 64, limit: 32 }), "{error}");

	let setup = setup_with(false, |_| {});
	let unknown = hash_hex(&H256::repeat_byte(9));
	let error = setup
		.executor
		.infer(&request(&unknown, int_input(&pixels()), EngineKind::Tract))
		.unwrap_err();
	assert!(matches!(error, Error::ModelNotFound(_)), "{error}");
	let error = setup
		.executor
		.infer(&request(&setup.int_hash, int_input(&pixels()), EngineKind::OnnxRuntime))
		.unwrap_err();
	assert!(matches!(error, Error::EngineUnavailable(_)), "{error}");

	let dir = tempfile::tempdir().unwrap();
	let mut config = veritensor_executor::Config::new(dir.path());
	config.onnxruntime_library = Some(dir.path().join("missing.so"));
	assert!(matches!(veritensor_executor::Executor::new(config), Err(Error::EngineUnavailable(_))));
}

#[test]
fn the_model_cache_is_bounded_by_the_bytes_of_its_files() {
	// Room for the integer model's file (5,569 bytes) but not for the float one's beside it.
	let int_bytes = demo_model(INT_MODEL).len() as u64;
	let float_bytes = demo_model(FLOAT_MODEL).len() as u64;
	assert!(float_bytes > int_bytes);
	let setup = setup_with(false, |config| config.cache_bytes = float_bytes + int_bytes - 1);
	let int = || request(&setup.int_hash, int_input(&pixels()), EngineKind::Tract);
	let float = || request(&setup.float_hash, float_input(&pixels()), EngineKind::Tract);
	let hit = |request: InferRequest| setup.executor.infer(&request).unwrap().cache_hit;
	assert!(!hit(int()));
	assert!(hit(int()), "kept while it fits");
	// The float model evicts the integer one, never itself (it was just loaded).
	assert!(!hit(float()));
	assert!(hit(float()));
	assert!(!hit(int()), "dropped to make room");
	// A budget below one model still runs it, and keeps it alone.
	let tiny = setup_with(false, |config| config.cache_bytes = 1);
	let hit = |request: InferRequest| tiny.executor.infer(&request).unwrap().cache_hit;
	let int = || request(&tiny.int_hash, int_input(&pixels()), EngineKind::Tract);
	let float = || request(&tiny.float_hash, float_input(&pixels()), EngineKind::Tract);
	assert_eq!([hit(int()), hit(int()), hit(float()), hit(int())], [false, true, false, false]);
}

#[test]
fn failures_do_not_poison_the_cache() {
	let setup = setup();
	for engine in [EngineKind::Tract, EngineKind::OnnxRuntime] {
		let good = || request(&setup.int_hash, int_input(&pixels()), engine);
		let first = setup.executor.infer(&good()).unwrap();
		let mut bad = int_input(&pixels());
		bad.values[0] = 999;
		assert!(setup.executor.infer(&request(&setup.int_hash, bad, engine)).is_err());
		let mut wrong_shape = int_input(&pixels());
		wrong_shape.shape = vec![64, 1];
		assert!(setup.executor.infer(&request(&setup.int_hash, wrong_shape, engine)).is_err());
		let again = setup.executor.infer(&good()).unwrap();
		assert!(again.cache_hit);
		assert_eq!(first.output_hash, again.output_hash);
	}
}

#[test]
fn engine_failures_are_reported_and_leave_the_model_usable() {
	let setup = setup();
	let hash = hash_hex(
		&setup.executor.store().add_bytes(&fixture("runtime_reshape.onnx"), None).unwrap(),
	);
	let tensor = |elem, shape: Vec<u32>, values: Vec<i64>| {
		veritensor_executor::tensor::JsonTensor { name: None, elem, shape, frac_bits: 0, values }
	};
	let reshape_to = |rows: i64, columns: i64, engine| {
		let mut req =
			request(&hash, tensor(ElementType::F32, vec![1, 4], vec![1, 2, 3, 4]), engine);
		req.inputs.push(tensor(ElementType::I64, vec![2], vec![rows, columns]));
		setup.executor.infer(&req)
	};
	// ONNX Runtime fails the bad shape while running, and the model stays usable.
	let error = reshape_to(3, 1, EngineKind::OnnxRuntime).unwrap_err();
	assert!(matches!(&error, Error::Engine(m) if m.contains("run")), "{error}");
	assert_eq!(error.kind().as_str(), "engine_failure");
	assert!(!error.is_permanent(), "a run-time failure is not proof the job cannot run");
	let reshaped = reshape_to(2, 2, EngineKind::OnnxRuntime).unwrap();
	assert_eq!(reshaped.outputs[0].shape, vec![2, 2]);
	assert_eq!(reshaped.outputs[0].values, vec![1 << 16, 2 << 16, 3 << 16, 4 << 16]);
	// tract needs every shape fixed before it runs, so it refuses the model whatever the shape.
	for (rows, columns) in [(3, 1), (2, 2)] {
		let error = reshape_to(rows, columns, EngineKind::Tract).unwrap_err();
		assert!(matches!(&error, Error::Engine(m) if m.contains("could not prepare")), "{error}");
	}
}
