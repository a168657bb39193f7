use super::*;
use crate::{GenesisConfig, ModelSpec};
use veritensor_primitives::{model::Engine, ComparisonRule};

#[test]
fn a_spec_reads_as_plain_json_and_round_trips() {
	let digits = spec(1);
	let json = serde_json::to_value(&digits).unwrap();
	assert_eq!(json["artifact_hash"], format!("0x{}", "01".repeat(32)));
	assert_eq!(json["format"], "Onnx");
	assert_eq!(json["schema"]["inputs"][0]["name"], "input");
	assert_eq!(json["schema"]["inputs"][0]["elem"], "F32");
	assert_eq!(json["schema"]["outputs"][0]["shape"], serde_json::json!([1]));
	assert_eq!(json["uris"][0], "https://models.example/digits.onnx");
	assert_eq!(json["metadata"]["name"], "digits");
	assert_eq!(json["metadata"]["description"]["Text"], "8x8 digit classifier");
	assert_eq!(json["metadata"]["licence"], "Apache-2.0");
	assert_eq!(json["price_per_worker"], 100);
	assert_eq!(serde_json::from_value::<ModelSpec<Test>>(json).unwrap(), digits);

	let mut exact = spec(2);
	exact.comparison = ComparisonRule::ExactHash {
		engine: Engine::OnnxRuntime,
		version: b"1.20.1".to_vec().try_into().unwrap(),
	};
	let json = serde_json::to_value(&exact).unwrap();
	assert_eq!(json["comparison"]["ExactHash"]["engine"], "OnnxRuntime");
	assert_eq!(json["comparison"]["ExactHash"]["version"], "1.20.1");
	assert_eq!(serde_json::from_value::<ModelSpec<Test>>(json).unwrap(), exact);
}

#[test]
fn the_genesis_config_is_json_with_the_specs_inline() {
	let config = GenesisConfig::<Test> { models: vec![(BOB, spec(4))], executables: vec![] };
	let json = serde_json::to_value(&config).unwrap();
	assert_eq!(json["models"][0][0], BOB);
	assert_eq!(json["models"][0][1]["metadata"]["name"], "digits");
	let back: GenesisConfig<Test> = serde_json::from_value(json).unwrap();
	assert_eq!(back.models, config.models);
}

#[test]
fn json_that_does_not_fit_a_spec_is_refused_with_the_reason() {
	let refused = |change: &dyn Fn(&mut serde_json::Value)| {
		let mut json = serde_json::to_value(spec(1)).unwrap();
		change(&mut json);
		serde_json::from_value::<ModelSpec<Test>>(json).unwrap_err().to_string()
	};
	let error = refused(&|json| json["metadata"]["name"] = "n".repeat(65).into());
	assert!(error.contains("text of 65 bytes is longer than its limit of 64 bytes"), "{error}");
	let error = refused(&|json| json["uris"] = serde_json::json!(["a", "b", "c", "d", "e"]));
	assert!(error.contains("more than 4 texts"), "{error}");
	let error = refused(&|json| json["metadata"]["name"] = serde_json::json!([100, 105]));
	assert!(error.contains("expected UTF-8 text of at most 64 bytes"), "{error}");
	let error = refused(&|json| json["nmae"] = "typo".into());
	assert!(error.contains("unknown field `nmae`"), "{error}");
}

#[test]
#[should_panic(expected = "is malformed: EmptyName")]
fn a_malformed_genesis_model_stops_genesis() {
	let mut nameless = spec(4);
	nameless.metadata.name = Default::default();
	ExtBuilder::default().with_genesis_model(BOB, nameless).build();
}

#[test]
#[should_panic(expected = "is listed twice")]
fn a_genesis_model_is_listed_once() {
	ExtBuilder::default()
		.with_genesis_model(BOB, spec(4))
		.with_genesis_model(ALICE, spec(4))
		.build();
}
