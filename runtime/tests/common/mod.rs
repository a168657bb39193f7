//! Genesis state from the runtime's presets, as the node builds it.

#![allow(dead_code)]

use frame_support::assert_ok;
use serde_json::Value;
use sp_genesis_builder::PresetId;
use sp_keyring::Sr25519Keyring::Ferdie;
use sp_runtime::BuildStorage;
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	ComparisonRule, IoSchema, ModelFormat,
};
use veritensor_runtime::{
	genesis_config_presets::get_preset, Models, Runtime, RuntimeGenesisConfig, RuntimeOrigin,
};

/// Applies a JSON patch the way the node's chain-spec builder does: objects merge key by key,
/// everything else is replaced.
fn merge(base: &mut Value, patch: Value) {
	match (base, patch) {
		(Value::Object(base), Value::Object(patch)) => {
			for (key, value) in patch {
				merge(base.entry(key).or_insert(Value::Null), value);
			}
		}
		(base, patch) => *base = patch,
	}
}

/// The full genesis config a preset describes, decoded strictly (unknown fields are errors).
pub fn preset_config(name: &str) -> RuntimeGenesisConfig {
	let patch = get_preset(&PresetId::from(name)).expect("the preset exists");
	let patch: Value = serde_json::from_slice(&patch).expect("the preset is JSON");
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	merge(&mut config, patch);
	serde_json::from_value(config).expect("the preset decodes into the runtime's genesis config")
}

/// Externalities holding a preset's genesis state.
pub fn ext(name: &str) -> sp_io::TestExternalities {
	preset_config(name).build_storage().expect("the preset's genesis storage builds").into()
}

/// The model the integration tests list: four pixels in, a label out, compared exactly.
pub fn model() -> veritensor_primitives::ModelHash {
	veritensor_primitives::ModelHash::repeat_byte(0x42)
}

pub fn tensor_spec(name: &str, elem: ElementType, shape: &[u32]) -> TensorSpec {
	TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits: 0,
	}
}

/// Ferdie proposes [`model`] and root approves it.
pub fn list_model() {
	let spec = pallet_models::ModelSpec::<Runtime> {
		artifact_hash: model(),
		artifact_size: 4_096,
		format: ModelFormat::Onnx,
		schema: IoSchema {
			inputs: vec![tensor_spec("pixels", ElementType::U8, &[1, 4])].try_into().unwrap(),
			outputs: vec![tensor_spec("label", ElementType::I64, &[1])].try_into().unwrap(),
		},
		comparison: ComparisonRule::Tolerance { agree: 0, slash: 0 },
		price_per_worker: 1_000_000_000,
		owner_royalty: 100_000_000,
		uris: vec![b"https://models.example/m.onnx".to_vec().try_into().unwrap()]
			.try_into()
			.unwrap(),
		metadata: pallet_models::ModelMetadata {
			name: b"m".to_vec().try_into().unwrap(),
			description: pallet_models::Description::Text(b"m".to_vec().try_into().unwrap()),
			licence: b"MIT".to_vec().try_into().unwrap(),
		},
		supersedes: None,
	};
	assert_ok!(Models::propose(RuntimeOrigin::signed(Ferdie.to_account_id()), Box::new(spec)));
	assert_ok!(Models::approve(RuntimeOrigin::root(), model()));
}

/// An inline tensor of `elem`s shaped `shape`, from its raw little-endian bytes.
pub fn tensor(
	elem: ElementType,
	shape: &[u32],
	data: Vec<u8>,
) -> veritensor_primitives::Tensor<frame_support::traits::ConstU32<8192>> {
	veritensor_primitives::Tensor {
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits: 0,
		data: data.try_into().unwrap(),
	}
}
