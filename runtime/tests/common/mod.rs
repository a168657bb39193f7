//! Genesis state from the runtime's presets, as the node builds it.

#![allow(dead_code)]

use codec::Encode;
use frame_support::{
	assert_ok,
	traits::{OnFinalize, OnInitialize},
};
use serde_json::Value;
use sp_consensus_babe::{
	digests::{PreDigest, SecondaryPlainPreDigest},
	Slot, BABE_ENGINE_ID,
};
use sp_genesis_builder::PresetId;
use sp_keyring::Sr25519Keyring::Ferdie;
use sp_runtime::BuildStorage;
use sp_runtime::{Digest, DigestItem};
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	ComparisonRule, IoSchema, ModelFormat, OutputRule,
};
use veritensor_runtime::{
	genesis_config_presets::get_preset, AllPalletsWithSystem, Babe, Models, Runtime,
	RuntimeGenesisConfig, RuntimeOrigin, System, Timestamp,
};

/// BABE's first slot here; any slot but zero, which BABE reads as "no genesis slot yet".
const FIRST_SLOT: u64 = 1_000;

/// Produces the next block as a node would, authored by the session's validator number
/// `author`: a BABE pre-digest for the block's slot (one slot per block), every pallet's
/// `on_initialize` (where sessions end), the timestamp inherent, and every pallet's
/// `on_finalize` (where GRANDPA enacts a scheduled set).
pub fn produce_block(author: u32) {
	start_block(author);
	end_block();
}

/// Starts the next block as [`produce_block`] does, leaving it open for transactions.
pub fn start_block(author: u32) {
	let number = System::block_number() + 1;
	let parent = System::parent_hash();
	let slot = Slot::from(FIRST_SLOT + number as u64);
	let pre_digest =
		PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index: author, slot });
	let digest = Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre_digest.encode())] };
	System::initialize(&number, &parent, &digest);
	AllPalletsWithSystem::on_initialize(number);
	assert_ok!(Timestamp::set(RuntimeOrigin::none(), *slot * Babe::slot_duration()));
}

/// Ends the block [`start_block`] opened.
pub fn end_block() {
	let number = System::block_number();
	AllPalletsWithSystem::on_finalize(number);
	let header = System::finalize();
	frame_system::BlockHash::<Runtime>::insert(number, header.hash());
	System::set_parent_hash(header.hash());
}

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

/// A chain from the local testnet preset (Alice, Bob, Charlie and Dave validating, sessions of
/// ten slots), with a keystore for new session keys, at block 1.
pub fn local_chain() -> sp_io::TestExternalities {
	let mut ext = ext(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET);
	ext.register_extension(sp_keystore::KeystoreExt::new(
		sp_keystore::testing::MemoryKeystore::new(),
	));
	ext.execute_with(|| produce_block(0));
	ext
}

/// Produces blocks, authored by the session's first validator, until session `index` has
/// started.
pub fn run_to_session(index: sp_staking::SessionIndex) {
	while veritensor_runtime::Session::current_index() < index {
		produce_block(0);
	}
}

/// What `who` holds as a validator bond.
pub fn validator_bond(who: &veritensor_runtime::AccountId) -> u128 {
	use frame_support::traits::fungible::InspectHold;
	veritensor_runtime::Balances::balance_on_hold(
		&veritensor_runtime::RuntimeHoldReason::Validators(
			pallet_validators::HoldReason::ValidatorBond,
		),
		who,
	)
}

/// Externalities holding a preset's genesis state without the models named `model_name` (nor
/// their artifacts), for tests that list such a model themselves.
pub fn ext_without_model(name: &str, model_name: &str) -> sp_io::TestExternalities {
	let mut config = preset_config(name);
	let (kept, dropped): (Vec<_>, Vec<_>) = config
		.models
		.models
		.into_iter()
		.partition(|(_, spec)| spec.metadata.name.as_slice() != model_name.as_bytes());
	config.models.models = kept;
	config.models.executables.retain(|bytes| {
		let hash = sp_io::hashing::blake2_256(bytes);
		!dropped.iter().any(|(_, spec)| spec.artifact_hash.0 == hash)
	});
	config.build_storage().expect("the preset's genesis storage builds").into()
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
		comparison: ComparisonRule::PerOutput(vec![OutputRule::Exact].try_into().unwrap()),
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

/// `pair`'s answer to `job` of [`model`]: the label 3, with the worker key's receipt signature.
pub fn output_answer(pair: &sp_core::sr25519::Pair, job: u64) -> pallet_jobs::Submission<Runtime> {
	use sp_core::Pair;
	let record = pallet_jobs::Jobs::<Runtime>::get(job).expect("the job is open");
	let output = vec![tensor(ElementType::I64, &[1], 3i64.to_le_bytes().to_vec())];
	let receipt = veritensor_primitives::Receipt {
		genesis_hash: veritensor_runtime::System::block_hash(0),
		job_id: job,
		model: model(),
		input_hash: record.input_hash,
		output_hash: veritensor_primitives::output_hash(&output),
		worker: pair.public().into(),
	};
	pallet_jobs::Submission {
		job,
		answer: pallet_jobs::Answer::Output {
			output: pallet_jobs::Payload::Inline(output.try_into().unwrap()),
			signature: pair.sign(&receipt.signing_payload()).into(),
		},
	}
}

/// The call carrying `answers` as the worker `pair`'s, the batch signed by its key.
pub fn answers_call(
	pair: &sp_core::sr25519::Pair,
	answers: Vec<pallet_jobs::Submission<Runtime>>,
) -> pallet_jobs::Call<Runtime> {
	use sp_core::Pair;
	let worker = veritensor_primitives::WorkerId::from(pair.public());
	let answers = pallet_jobs::AnswersOf::<Runtime>::truncate_from(answers);
	let payload = pallet_jobs::answers::answers_payload::<Runtime>(&worker, &answers);
	pallet_jobs::Call::submit_results { worker, answers, signature: pair.sign(&payload).into() }
}

/// A worker key of Dave's, registered for `model` and eligible, whose account holds nothing.
pub fn register_worker(
	pair: &sp_core::sr25519::Pair,
	model: veritensor_primitives::ModelHash,
) -> veritensor_primitives::WorkerId {
	use sp_core::Pair;
	use sp_keyring::Sr25519Keyring::Dave;
	use veritensor_primitives::traits::WorkerStaking;
	use veritensor_runtime::{System, Workers};
	let worker = veritensor_primitives::WorkerId::from(pair.public());
	let operator = RuntimeOrigin::signed(Dave.to_account_id());
	assert_ok!(Workers::bond(
		operator.clone(),
		5_000 * veritensor_runtime::configs::currency::UNITS
	));
	let proof = pair
		.sign(&veritensor_primitives::possession_payload(
			&Dave.to_account_id(),
			&System::block_hash(0),
		))
		.into();
	assert_ok!(Workers::register(
		operator,
		worker.clone(),
		proof,
		vec![model].try_into().unwrap(),
		4
	));
	let eligible = System::block_number() + <Workers as WorkerStaking<_, _>>::eligibility_delay();
	System::set_block_number(eligible);
	worker
}

/// Assigns the queued `job` to `worker` as the draw does (the draw itself is tested with the
/// pallet: the presets' own workers would take part in a real one).
pub fn assign(job: u64, worker: &veritensor_primitives::WorkerId) {
	use veritensor_primitives::traits::WorkerStaking;
	use veritensor_runtime::{System, Workers};
	let pallet_jobs::JobState::Queued { assign_at } =
		pallet_jobs::Jobs::<Runtime>::get(job).unwrap().state
	else {
		panic!("queued")
	};
	pallet_jobs::AssignmentQueue::<Runtime>::remove(assign_at);
	let exposure = <Workers as WorkerStaking<_, _>>::max_exposure();
	assert_ok!(<Workers as WorkerStaking<_, _>>::note_assigned(worker, exposure));
	pallet_jobs::Jobs::<Runtime>::mutate(job, |record| {
		record.as_mut().unwrap().state = pallet_jobs::JobState::Assigned {
			workers: vec![worker.clone()].try_into().unwrap(),
			at: System::block_number(),
		};
	});
	pallet_jobs::WorkerJobs::<Runtime>::insert(worker, job, ());
}
