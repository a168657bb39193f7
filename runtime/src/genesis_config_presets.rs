//! Genesis presets: `development` (one validator, sudo, both digits demo models listed and the dev
//! node's worker registered for them, so that a fresh chain answers jobs at once) and
//! `local_testnet` (four validators, no sudo, both digits demo models listed, no worker). In both,
//! the integer model is one the runtime runs itself: its artifact is stored at genesis. Both run
//! short sessions ([`SHORT_SESSION_LENGTH`] slots), and their validators are declared through
//! the validator set, each bonded with the minimum, with its session keys. The node's chain
//! specs are built from them, and `build-spec --chain <preset>` shows their full JSON.

use crate::{
	configs::{
		currency::{MILLI_UNITS, UNITS},
		time::SHORT_SESSION_LENGTH,
		ValidatorMinimumBond, BABE_GENESIS_EPOCH_CONFIG,
	},
	AccountId, BabeConfig, Balance, BalancesConfig, CouncilConfig, ModelsConfig, Runtime,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, ValidatorsConfig, WorkersConfig,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use pallet_models::{Description, ModelMetadata, ModelSpec};
use serde_json::Value;
use sp_consensus_babe::AuthorityId as BabeId;
use sp_consensus_grandpa::AuthorityId as GrandpaId;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use veritensor_primitives::{
	ComparisonRule, ElementType, IoSchema, ModelFormat, ModelHash, OutputRule, TensorSpec, WorkerId,
};

/// What each development account is endowed with.
pub const DEV_ENDOWMENT: Balance = 1_000_000 * UNITS;

/// What each genesis validator bonds: the minimum.
pub fn genesis_validator_bond() -> Balance {
	<ValidatorMinimumBond as frame_support::traits::Get<Balance>>::get()
}

/// A genesis validator: its account and session keys.
struct Authority {
	account: AccountId,
	keys: SessionKeys,
}

/// The development keys of one well-known account (`//Alice`, ...), which is also the
/// validator's account: its BABE key is sr25519 and its GRANDPA key ed25519, both derived from
/// the same seed.
fn authority(babe: Sr25519Keyring, grandpa: Ed25519Keyring) -> Authority {
	let babe_key: BabeId = babe.public().into();
	let grandpa_key: GrandpaId = grandpa.public().into();
	Authority {
		account: babe.to_account_id(),
		keys: SessionKeys { babe: babe_key, grandpa: grandpa_key },
	}
}

/// blake2-256 of `executor/demo-models/mlp_digits_f32.onnx`, the float digits demo model.
pub const DEMO_FLOAT_MODEL_HASH: [u8; 32] = [
	0x81, 0x0f, 0x3f, 0xd8, 0xa0, 0x86, 0xa7, 0xe5, 0x02, 0x0e, 0x9c, 0x3a, 0x63, 0xf9, 0x65, 0xba,
	0x45, 0xc4, 0xb8, 0x5e, 0x10, 0x25, 0x38, 0xe1, 0xb1, 0xab, 0xce, 0xca, 0xa3, 0x30, 0xf0, 0x40,
];
/// Size of that file in bytes.
pub const DEMO_FLOAT_MODEL_SIZE: u64 = 20_310;

/// blake2-256 of `executor/demo-models/mlp_digits_int.onnx`, the integer digits demo model.
pub const DEMO_INTEGER_MODEL_HASH: [u8; 32] = [
	0x4e, 0xf1, 0x0b, 0x7f, 0x86, 0xf5, 0x62, 0xb2, 0x78, 0x76, 0x80, 0xb6, 0x9e, 0xe6, 0x48, 0xa2,
	0x12, 0xc2, 0x69, 0xd4, 0xbe, 0x90, 0xef, 0x0a, 0x39, 0x15, 0x94, 0xf4, 0x1e, 0x7f, 0x84, 0x33,
];
/// That file, stored on chain at genesis so that the runtime runs the model itself.
pub const DEMO_INTEGER_MODEL: &[u8] =
	include_bytes!("../../executor/demo-models/mlp_digits_int.onnx");
/// Size of that file in bytes (5,569).
pub const DEMO_INTEGER_MODEL_SIZE: u64 = DEMO_INTEGER_MODEL.len() as u64;

/// What the development chain's worker operator (Eve) bonds at genesis.
pub const DEV_OPERATOR_BOND: Balance = 10_000 * UNITS;
/// The development worker's capacity: a demo batch of 64 jobs at once. Its bond must cover it
/// at the largest slash per assignment (64 x 100 VTN).
pub const DEV_WORKER_CAPACITY: u32 = 64;

fn bounded<B: TryFrom<Vec<u8>>>(text: &str) -> B {
	B::try_from(text.as_bytes().to_vec())
		.unwrap_or_else(|_| panic!("the demo model's text `{text}` fits its bound; qed"))
}

fn tensor(name: &str, elem: ElementType, shape: &[u32], frac_bits: u8) -> TensorSpec {
	TensorSpec {
		name: bounded(name),
		elem,
		shape: shape.to_vec().try_into().expect("demo shapes have at most 6 dimensions; qed"),
		frac_bits,
	}
}

/// The float digits demo model (a 64-64-10 MLP, 97.6 % on held-out digits): 8x8 images of
/// pixels 0..16 as fixed point with 8 fraction bits in; the label and the ten class
/// probabilities (16 fraction bits) out. Float arithmetic differs slightly between engines, so
/// the probabilities are compared by tolerance (in raw units of 2^-16), and the label must be
/// their argmax (see [`demo_float_model_rule`]).
pub fn demo_float_model() -> ModelSpec<Runtime> {
	ModelSpec {
		artifact_hash: ModelHash::from(DEMO_FLOAT_MODEL_HASH),
		artifact_size: DEMO_FLOAT_MODEL_SIZE,
		format: ModelFormat::Onnx,
		schema: IoSchema {
			inputs: vec![tensor("pixels", ElementType::F32, &[1, 64], 8)]
				.try_into()
				.expect("one input; qed"),
			outputs: vec![
				tensor("label", ElementType::I64, &[1], 0),
				tensor("probabilities", ElementType::F32, &[1, 10], 16),
			]
			.try_into()
			.expect("two outputs; qed"),
		},
		comparison: demo_float_model_rule(),
		price_per_worker: 10 * MILLI_UNITS,
		owner_royalty: MILLI_UNITS,
		uris: vec![bounded(
			"https://raw.githubusercontent.com/veritensor/veritensor/main/executor/demo-models/mlp_digits_f32.onnx",
		)]
		.try_into()
		.expect("one URI; qed"),
		metadata: ModelMetadata {
			name: bounded("mlp_digits_f32"),
			description: Description::Text(bounded(
				"Handwritten digit classifier (64-64-10 MLP) trained on scikit-learn's digits: \
				 8x8 pixels 0..16 in, label and class probabilities out.",
			)),
			licence: bounded("Apache-2.0"),
		},
		supersedes: None,
	}
}

/// The float demo model's comparison rule: the label must be the argmax of the worker's own
/// probabilities (a label that is not is provably wrong, whatever the other workers say), and
/// answers agree when their labels are equal; the probabilities agree within 4 raw units
/// (6e-5) and are wrong beyond 64 (1e-3): the executor's tests hold tract and ONNX Runtime
/// within 2e-5 (1.3 units) of the recorded outputs.
pub fn demo_float_model_rule() -> ComparisonRule {
	ComparisonRule::PerOutput(
		vec![OutputRule::ArgMaxOf(1), OutputRule::Tolerance { agree: 4, slash: 64 }]
			.try_into()
			.expect("two rules for two outputs; qed"),
	)
}

/// The integer digits demo model (the same MLP with int8 weights, integer arithmetic only): 8x8
/// images of pixels 0..16 as u8 in; the label and the ten integer logits out. Its graph is
/// inside the on-chain interpreter's subset, so it is pinned to the interpreter (outputs must
/// hash equal to what that engine computes) and the runtime can run it to settle a dispute.
pub fn demo_integer_model() -> ModelSpec<Runtime> {
	ModelSpec {
		artifact_hash: ModelHash::from(DEMO_INTEGER_MODEL_HASH),
		artifact_size: DEMO_INTEGER_MODEL_SIZE,
		format: ModelFormat::Onnx,
		schema: IoSchema {
			inputs: vec![tensor("pixels", ElementType::U8, &[1, 64], 0)]
				.try_into()
				.expect("one input; qed"),
			outputs: vec![
				tensor("label", ElementType::I64, &[1], 0),
				tensor("logits", ElementType::I32, &[1, 10], 0),
			]
			.try_into()
			.expect("two outputs; qed"),
		},
		comparison: pallet_models::Pallet::<Runtime>::interpreter_rule(),
		price_per_worker: 10 * MILLI_UNITS,
		owner_royalty: MILLI_UNITS,
		uris: vec![bounded(
			"https://raw.githubusercontent.com/veritensor/veritensor/main/executor/demo-models/mlp_digits_int.onnx",
		)]
		.try_into()
		.expect("one URI; qed"),
		metadata: ModelMetadata {
			name: bounded("mlp_digits_int"),
			description: Description::Text(bounded(
				"Integer-only handwritten digit classifier (64-64-10 MLP, int8 weights).",
			)),
			licence: bounded("Apache-2.0"),
		},
		supersedes: None,
	}
}

/// What a preset lists and registers besides its validators, accounts and council.
struct Market {
	/// Models and their owners.
	models: Vec<(AccountId, ModelSpec<Runtime>)>,
	/// Artifacts of those models the runtime runs itself.
	executables: Vec<&'static [u8]>,
	/// Operators and their bonds.
	operators: Vec<(AccountId, Balance)>,
	/// Worker keys with their operator, models and capacity.
	workers: Vec<(WorkerId, AccountId, Vec<ModelHash>, u32)>,
}

/// The development chain's market: both demo models (the float one Alice's, the integer one
/// Ferdie's and run by the runtime itself), and Eve bonded with the dev node's worker key
/// (`//Alice`, which `--dev` puts in the keystore) serving both.
fn development_market() -> Market {
	let eve = Sr25519Keyring::Eve.to_account_id();
	let dev_worker = WorkerId::from(Sr25519Keyring::Alice.public());
	Market {
		models: vec![
			(Sr25519Keyring::Alice.to_account_id(), demo_float_model()),
			(Sr25519Keyring::Ferdie.to_account_id(), demo_integer_model()),
		],
		executables: vec![DEMO_INTEGER_MODEL],
		operators: vec![(eve.clone(), DEV_OPERATOR_BOND)],
		workers: vec![(
			dev_worker,
			eve,
			vec![ModelHash::from(DEMO_FLOAT_MODEL_HASH), ModelHash::from(DEMO_INTEGER_MODEL_HASH)],
			DEV_WORKER_CAPACITY,
		)],
	}
}

/// The local testnet's market: both demo models (owned as on the development chain, the integer
/// one run by the runtime itself), no worker.
fn local_market() -> Market {
	Market {
		models: vec![
			(Sr25519Keyring::Alice.to_account_id(), demo_float_model()),
			(Sr25519Keyring::Ferdie.to_account_id(), demo_integer_model()),
		],
		executables: vec![DEMO_INTEGER_MODEL],
		operators: vec![],
		workers: vec![],
	}
}

fn genesis(
	authorities: Vec<Authority>,
	endowed: Vec<AccountId>,
	council: Vec<AccountId>,
	sudo: Option<AccountId>,
	market: Market,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed.into_iter().map(|account| (account, DEV_ENDOWMENT)).collect(),
		},
		// BABE and GRANDPA take their genesis authorities from the session's genesis keys.
		babe: BabeConfig { epoch_config: BABE_GENESIS_EPOCH_CONFIG },
		validators: ValidatorsConfig {
			validators: authorities
				.iter()
				.map(|a| (a.account.clone(), genesis_validator_bond()))
				.collect(),
			session_length: SHORT_SESSION_LENGTH,
		},
		session: SessionConfig {
			keys: authorities.into_iter().map(|a| (a.account.clone(), a.account, a.keys)).collect(),
		},
		council: CouncilConfig { members: council },
		sudo: SudoConfig { key: sudo },
		models: ModelsConfig {
			models: market.models,
			executables: market
				.executables
				.into_iter()
				.map(|bytes| bytes.to_vec().into())
				.collect(),
		},
		workers: WorkersConfig { operators: market.operators, workers: market.workers },
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
/// account endowed, both demo models listed and the dev node's worker serving them.
pub fn development() -> Value {
	genesis(
		vec![authority(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		council(),
		Some(Sr25519Keyring::Alice.to_account_id()),
		development_market(),
	)
}

/// Four validators (Alice, Bob, Charlie, Dave), the same council, no sudo, both demo models
/// listed and no worker.
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
		local_market(),
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
