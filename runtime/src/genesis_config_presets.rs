//! Genesis presets: `development` (one validator, sudo) and `local_testnet` (four validators, no
//! sudo). The node's chain specs are built from them, and `build-spec --chain <preset>` shows
//! their full JSON.

use crate::{
	configs::{currency::UNITS, BABE_GENESIS_EPOCH_CONFIG},
	AccountId, BabeConfig, Balance, BalancesConfig, CouncilConfig, GrandpaConfig,
	RuntimeGenesisConfig, SudoConfig,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// What each development account is endowed with.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNITS;

/// The consensus keys of one validator.
struct Authority {
	babe: BabeId,
	grandpa: GrandpaId,
}

/// The development keys of one well-known account (`//Alice`, ...): its BABE key is sr25519 and
/// its GRANDPA key ed25519, both derived from the same seed.
fn authority(babe: Sr25519Keyring, grandpa: Ed25519Keyring) -> Authority {
	Authority { babe: babe.public().into(), grandpa: grandpa.public().into() }
}

fn genesis(
	authorities: Vec<Authority>,
	endowed: Vec<AccountId>,
	council: Vec<AccountId>,
	sudo: Option<AccountId>,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|account| (account, DEV_ENDOWMENT)).collect(),
		},
		babe: BabeConfig {
			authorities: authorities.iter().map(|a| (a.babe.clone(), 1)).collect(),
			epoch_config: BABE_GENESIS_EPOCH_CONFIG,
		},
		grandpa: GrandpaConfig {
			authorities: authorities.iter().map(|a| (a.grandpa.clone(), 1)).collect(),
		},
		council: CouncilConfig { members: council },
		sudo: SudoConfig { key: sudo },
	})
}

fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::iter().map(|keyring| keyring.to_account_id()).collect()
}

fn council() -> Vec<AccountId> {
	[Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie]
		.into_iter()
		.map(|keyring| keyring.to_account_id())
		.collect()
}

/// One validator (Alice), Alice, Bob and Charlie on the council, Alice as sudo, every dev
/// account endowed.
pub fn development() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		council(),
		Some(Sr25519Keyring::Alice.to_account_id()),
	)
}

/// Four validators (Alice, Bob, Charlie, Dave), the same council, no sudo.
pub fn local_testnet() -> Value {
	genesis(
		vec![
			authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			authority(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		dev_accounts(),
		council(),
		None,
	)
}

/// The JSON patch of the preset `id`, if there is one.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		DEV_RUNTIME_PRESET => development(),
		LOCAL_TESTNET_RUNTIME_PRESET => local_testnet(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialising a JSON value into a string cannot fail; qed")
			.into_bytes(),
	)
}

/// The names of all presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![PresetId::from(DEV_RUNTIME_PRESET), PresetId::from(LOCAL_TESTNET_RUNTIME_PRESET)]
}
