//! Genesis state from the runtime's presets, as the node builds it.

#![allow(dead_code)]

use serde_json::Value;
use sp_genesis_builder::PresetId;
use sp_runtime::BuildStorage;
use veritensor_runtime::{genesis_config_presets::get_preset, RuntimeGenesisConfig};

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
