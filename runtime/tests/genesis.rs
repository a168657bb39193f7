//! The runtime's genesis presets and pallet configuration, checked natively.

mod common;

use common::ext;
use frame_support::traits::IntegrityTest;
use sp_genesis_builder::{PresetId, DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET};
use sp_runtime::traits::OpaqueKeys;
use veritensor_runtime::{
	genesis_config_presets::{
		demo_float_model, demo_integer_model, get_preset, preset_names, DEMO_FLOAT_MODEL_HASH,
		DEMO_FLOAT_MODEL_SIZE, DEMO_INTEGER_MODEL, DEMO_INTEGER_MODEL_HASH,
		DEMO_INTEGER_MODEL_SIZE, DEV_ENDOWMENT, DEV_OPERATOR_BOND, DEV_WORKER_CAPACITY,
	},
	AccountId, AllPalletsWithSystem, Babe, Balances, Grandpa, Runtime, SessionKeys,
};

fn account(keyring: sp_keyring::Sr25519Keyring) -> AccountId {
	keyring.to_account_id()
}

#[test]
fn every_pallet_passes_its_integrity_test() {
	ext(DEV_RUNTIME_PRESET).execute_with(|| {
		<AllPalletsWithSystem as IntegrityTest>::integrity_test();
	});
}

#[test]
fn the_runtime_lists_exactly_the_two_presets() {
	let names: Vec<String> =
		preset_names().into_iter().map(|id| String::from_utf8(id.into()).unwrap()).collect();
	assert_eq!(names, vec![DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET]);
	assert!(get_preset(&PresetId::from("no_such_preset")).is_none());
}

#[test]
fn every_preset_builds_and_decodes() {
	for id in preset_names() {
		let name = String::from_utf8(id.into()).unwrap();
		ext(&name).execute_with(|| {
			assert!(!Babe::authorities().is_empty(), "{name}: no BABE authority");
			assert_eq!(
				Babe::authorities().len(),
				Grandpa::grandpa_authorities().len(),
				"{name}: every validator runs both BABE and GRANDPA"
			);
			assert_eq!(
				pallet_collective::Members::<Runtime, veritensor_runtime::CouncilCollective>::get()
					.len(),
				3,
				"{name}: council of three"
			);
		});
	}
}

#[test]
fn development_has_one_validator_and_sudo() {
	use sp_keyring::Sr25519Keyring::*;
	ext(DEV_RUNTIME_PRESET).execute_with(|| {
		let babe: Vec<_> = Babe::authorities().iter().map(|(id, _)| id.clone()).collect();
		assert_eq!(babe, vec![Alice.public().into()]);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), Some(account(Alice)));
		// The collective keeps its members sorted.
		let mut council = vec![account(Alice), account(Bob), account(Charlie)];
		council.sort();
		assert_eq!(
			pallet_collective::Members::<Runtime, veritensor_runtime::CouncilCollective>::get(),
			council
		);
		assert_eq!(Balances::free_balance(account(Ferdie)), DEV_ENDOWMENT);
		// Every block carries VRF randomness: secondary slots are VRF slots too.
		let config = Babe::epoch_config().expect("set at genesis");
		assert_eq!(
			config.allowed_slots,
			sp_consensus_babe::AllowedSlots::PrimaryAndSecondaryVRFSlots
		);
	});
}

#[test]
fn local_testnet_has_four_validators_and_no_sudo() {
	use sp_keyring::Sr25519Keyring::*;
	ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		let babe: Vec<_> = Babe::authorities().iter().map(|(id, _)| id.clone()).collect();
		let expected: Vec<sp_consensus_babe::AuthorityId> =
			[Alice, Bob, Charlie, Dave].into_iter().map(|k| k.public().into()).collect();
		assert_eq!(babe, expected);
		let grandpa: Vec<_> =
			Grandpa::grandpa_authorities().into_iter().map(|(id, _)| id).collect();
		let expected: Vec<sp_consensus_grandpa::AuthorityId> = [
			sp_keyring::Ed25519Keyring::Alice,
			sp_keyring::Ed25519Keyring::Bob,
			sp_keyring::Ed25519Keyring::Charlie,
			sp_keyring::Ed25519Keyring::Dave,
		]
		.into_iter()
		.map(|k| k.public().into())
		.collect();
		assert_eq!(grandpa, expected);
		assert_eq!(pallet_sudo::Key::<Runtime>::get(), None);
	});
}

#[test]
fn session_keys_are_the_consensus_keys_and_not_the_worker_key() {
	assert_eq!(
		SessionKeys::key_ids(),
		&[sp_core::crypto::key_types::BABE, sp_core::crypto::key_types::GRANDPA]
	);
}

#[test]
fn every_preset_declares_its_validators_bonded_with_session_keys() {
	use veritensor_runtime::{
		configs::time::SHORT_SESSION_LENGTH, genesis_config_presets::genesis_validator_bond,
		Session,
	};
	for id in preset_names() {
		let name = String::from_utf8(id.into()).unwrap();
		ext(&name).execute_with(|| {
			let validators = pallet_validators::Validators::<Runtime>::get().into_inner();
			assert_eq!(Session::validators(), validators, "{name}");
			for who in &validators {
				assert!(pallet_session::NextKeys::<Runtime>::contains_key(who), "{name}: keys");
				assert_eq!(
					pallet_validators::Bonds::<Runtime>::get(who).map(|bond| bond.amount),
					Some(genesis_validator_bond()),
					"{name}: bond"
				);
			}
			assert_eq!(pallet_validators::SessionLength::<Runtime>::get(), SHORT_SESSION_LENGTH);
		});
	}
}

#[test]
fn a_block_leaves_room_for_normal_transactions() {
	use frame_support::dispatch::DispatchClass;
	let weights = <Runtime as frame_system::Config>::BlockWeights::get();
	let normal = weights.get(DispatchClass::Normal).max_total.expect("normal class is bounded");
	assert_eq!(weights.max_block.ref_time(), 2_000_000_000_000);
	assert_eq!(normal.ref_time(), weights.max_block.ref_time() * 3 / 4);
}

/// Checks the committed demo model file `name` against its hash and size, and returns its entry in
/// `executor/demo-models/models.json`.
fn committed_demo_model(name: &str, hash: [u8; 32], size: u64) -> serde_json::Value {
	let manifest = env!("CARGO_MANIFEST_DIR");
	let file = std::fs::read(format!("{manifest}/../executor/demo-models/{name}.onnx"))
		.expect("the demo model is committed");
	assert_eq!(sp_io::hashing::blake2_256(&file), hash, "{name}");
	assert_eq!(file.len() as u64, size, "{name}");
	let catalogue: serde_json::Value = serde_json::from_str(
		&std::fs::read_to_string(format!("{manifest}/../executor/demo-models/models.json"))
			.unwrap(),
	)
	.unwrap();
	catalogue["models"][name].clone()
}

/// Checks that a listed schema names, types and shapes its tensors as the catalogue declares.
fn assert_schema_as_declared(
	context: &str,
	schema: &veritensor_primitives::IoSchema,
	declared: &serde_json::Value,
) {
	for (side, specs) in [("inputs", &schema.inputs), ("outputs", &schema.outputs)] {
		let ports = declared[side].as_array().unwrap();
		assert_eq!(ports.len(), specs.len(), "{context} {side}");
		for (port, spec) in ports.iter().zip(specs.iter()) {
			assert_eq!(port["name"].as_str().unwrap().as_bytes(), &spec.name[..]);
			assert_eq!(port["elem"].as_str().unwrap(), format!("{:?}", spec.elem));
			let shape: Vec<u32> = port["shape"]
				.as_array()
				.unwrap()
				.iter()
				.map(|d| d.as_u64().unwrap() as u32)
				.collect();
			assert_eq!(shape, spec.shape.to_vec(), "{context} {side}");
		}
	}
}

/// Checks that the chain in scope lists `hash` from genesis, owned by `owner`, with `spec`
/// and the schema the executor's catalogue `declared`; returns the record.
fn listed_at_genesis(
	name: &str,
	hash: [u8; 32],
	owner: sp_keyring::Sr25519Keyring,
	spec: pallet_models::ModelSpec<Runtime>,
	declared: &serde_json::Value,
) -> pallet_models::ModelRecord<Runtime> {
	let record = pallet_models::Models::<Runtime>::get(sp_core::H256(hash))
		.unwrap_or_else(|| panic!("{name}: {hash:?} is not in the registry"));
	assert_eq!(
		record.status,
		pallet_models::ModelStatus::Listed { proposed: 0, listed: 0 },
		"{name}"
	);
	assert_eq!(record.owner, account(owner));
	assert_eq!(record.spec, spec);
	assert_schema_as_declared(name, &record.spec.schema, declared);
	record
}

#[test]
fn both_presets_list_the_float_demo_model_as_the_executor_sees_it() {
	let declared =
		committed_demo_model("mlp_digits_f32", DEMO_FLOAT_MODEL_HASH, DEMO_FLOAT_MODEL_SIZE);
	for id in preset_names() {
		let name = String::from_utf8(id.into()).unwrap();
		ext(&name).execute_with(|| {
			listed_at_genesis(
				&name,
				DEMO_FLOAT_MODEL_HASH,
				sp_keyring::Sr25519Keyring::Alice,
				demo_float_model(),
				&declared,
			);
		});
	}
}

#[test]
fn both_presets_list_the_integer_demo_model_for_the_runtime_to_run() {
	let declared =
		committed_demo_model("mlp_digits_int", DEMO_INTEGER_MODEL_HASH, DEMO_INTEGER_MODEL_SIZE);
	for id in preset_names() {
		let name = String::from_utf8(id.into()).unwrap();
		ext(&name).execute_with(|| {
			let model = sp_core::H256(DEMO_INTEGER_MODEL_HASH);
			let record = listed_at_genesis(
				&name,
				DEMO_INTEGER_MODEL_HASH,
				sp_keyring::Sr25519Keyring::Ferdie,
				demo_integer_model(),
				&declared,
			);
			assert_eq!(record.spec.comparison, veritensor_runtime::Models::interpreter_rule());
			// Stored as committed, and checked as an approval checks it: the cost
			// docs/interpreter.md states.
			let artifact = pallet_models::Artifacts::<Runtime>::get(model)
				.unwrap_or_else(|| panic!("{name}: no artifact stored"));
			assert_eq!(artifact.to_vec(), DEMO_INTEGER_MODEL.to_vec(), "{name}");
			let executable = pallet_models::Executables::<Runtime>::get(model)
				.unwrap_or_else(|| panic!("{name}: not executable"));
			assert_eq!(executable.cost, 10_006, "{name}");
			assert_eq!(u64::from(executable.bytes), DEMO_INTEGER_MODEL_SIZE, "{name}");
		});
	}
}

#[test]
fn development_answers_jobs_at_once_with_the_dev_nodes_worker() {
	use frame_support::traits::fungible::InspectHold;
	use sp_keyring::Sr25519Keyring::*;
	use veritensor_primitives::traits::WorkerStaking;
	// `--dev` puts the worker key of the seed `//Alice` into the node's keystore.
	let dev_worker = veritensor_primitives::WorkerId::from(Alice.public());
	ext(DEV_RUNTIME_PRESET).execute_with(|| {
		frame_system::Pallet::<Runtime>::set_block_number(1);
		let bond = Balances::balance_on_hold(
			&veritensor_runtime::RuntimeHoldReason::Workers(
				pallet_workers::HoldReason::OperatorBond,
			),
			&account(Eve),
		);
		assert_eq!(bond, DEV_OPERATOR_BOND);
		assert_eq!(Balances::free_balance(account(Eve)), DEV_ENDOWMENT - DEV_OPERATOR_BOND);
		let info = pallet_workers::Pallet::<Runtime>::worker_info(&dev_worker)
			.expect("the dev worker is registered");
		assert_eq!(info.operator, account(Eve));
		assert!(info.eligible, "drawn from the first block");
		assert_eq!(info.capacity, DEV_WORKER_CAPACITY);
		for model in [DEMO_FLOAT_MODEL_HASH, DEMO_INTEGER_MODEL_HASH] {
			let drawn = <pallet_workers::Pallet<Runtime> as WorkerStaking<_, _>>::candidates(
				&sp_core::H256(model),
				veritensor_runtime::configs::MAX_ASSIGNMENT_SLASH,
			);
			assert_eq!(
				drawn.iter().map(|c| c.worker.clone()).collect::<Vec<_>>(),
				vec![dev_worker.clone()]
			);
		}
	});
	ext(LOCAL_TESTNET_RUNTIME_PRESET).execute_with(|| {
		assert!(pallet_workers::Pallet::<Runtime>::worker_info(&dev_worker).is_none());
	});
}

#[test]
fn the_presets_show_the_demo_model_as_readable_json() {
	let hash: String = DEMO_FLOAT_MODEL_HASH.iter().map(|byte| format!("{byte:02x}")).collect();
	for id in preset_names() {
		let name = String::from_utf8(id.into()).unwrap();
		let patch: serde_json::Value =
			serde_json::from_slice(&get_preset(&PresetId::from(name.as_str())).unwrap()).unwrap();
		let spec = &patch["models"]["models"][0][1];
		assert_eq!(spec["artifact_hash"], format!("0x{hash}"), "{name}");
		assert_eq!(spec["metadata"]["name"], "mlp_digits_f32", "{name}");
		assert_eq!(spec["schema"]["inputs"][0]["name"], "pixels", "{name}");
	}
}
