//! Chain specifications built from the runtime's genesis presets.

use sc_service::ChainType;
use sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use veritensor_runtime::WASM_BINARY;

/// A Veritensor chain specification.
pub type ChainSpec = sc_service::GenericChainSpec;

fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the runtime's wasm binary is missing: build the node without SKIP_WASM_BUILD".to_string()
	})
}

fn properties() -> sc_chain_spec::Properties {
	let mut properties = sc_chain_spec::Properties::new();
	properties.insert("tokenSymbol".into(), "VTN".into());
	properties.insert("tokenDecimals".into(), 12.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

/// A single-validator development chain (Alice) with sudo.
pub fn development() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Veritensor Development")
		.with_id("veritensor_dev")
		.with_chain_type(ChainType::Development)
		.with_protocol_id("vtn")
		.with_genesis_config_preset_name(DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// A four-validator local test network (Alice, Bob, Charlie, Dave) without sudo.
pub fn local_testnet() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Veritensor Local Testnet")
		.with_id("veritensor_local_testnet")
		.with_chain_type(ChainType::Local)
		.with_protocol_id("vtn")
		.with_genesis_config_preset_name(LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
