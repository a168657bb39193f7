//! A model the runtime runs itself, with this runtime's bounds and measured weights: the integer
//! demo model proposed with its artifact and conformance vectors, listed through a council
//! motion, then run on chain to the outputs ONNX Runtime recorded for it; challenges of its
//! results settled by that run.

mod common;

use codec::Encode;
use frame_support::{assert_ok, dispatch::GetDispatchInfo, traits::Get};
use serde_json::Value;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave};
use sp_runtime::traits::Hash as _;
use veritensor_primitives::traits::ModelRegistry;
use veritensor_primitives::{output_hash, ElementType, Tensor};
use veritensor_runtime::{
	Council, Jobs, MaxCouncilProposalWeight, MaxExecutableBytes, MaxExecutionCost, Models, Runtime,
	RuntimeBlockWeights, RuntimeCall, RuntimeOrigin, System, EXECUTION_SHARE,
};

type Bytes = <Runtime as pallet_models::Config>::MaxExecutableTensorBytes;

/// The bytes of the integer demo model's output: the label (I64) and ten logits (I32).
const OUTPUT_BYTES: u32 = 8 + 10 * 4;

/// The integer demo model's file, as the presets store it.
const ARTIFACT: &[u8] = veritensor_runtime::genesis_config_presets::DEMO_INTEGER_MODEL;

fn vectors() -> Value {
	let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../executor/demo-models/test_vectors.json");
	serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn tensor(elem: ElementType, shape: &[u32], values: impl Iterator<Item = i64>) -> Tensor<Bytes> {
	let width = elem.wire_width() as usize;
	let data: Vec<u8> = values.flat_map(|value| value.to_le_bytes()[..width].to_vec()).collect();
	Tensor {
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits: 0,
		data: data.try_into().unwrap(),
	}
}

/// Image `index`'s pixels as the model's input.
fn pixels(vectors: &Value, index: usize) -> Vec<Tensor<Bytes>> {
	let pixels = vectors["pixels"][index].as_array().unwrap();
	vec![tensor(ElementType::U8, &[1, 64], pixels.iter().map(|p| p.as_i64().unwrap()))]
}

/// The outputs ONNX Runtime recorded for image `index`: the label and the ten logits.
fn recorded(vectors: &Value, index: usize) -> Vec<Tensor<Bytes>> {
	let model = &vectors["mlp_digits_int"];
	let logits = model["logits"][index].as_array().unwrap();
	vec![
		tensor(ElementType::I64, &[1], std::iter::once(model["labels"][index].as_i64().unwrap())),
		tensor(ElementType::I32, &[1, 10], logits.iter().map(|l| l.as_i64().unwrap())),
	]
}

#[test]
fn the_presets_integer_demo_model_runs_on_chain() {
	common::ext("development").execute_with(|| {
		let vectors = vectors();
		let model = veritensor_primitives::ModelHash::from(
			veritensor_runtime::genesis_config_presets::DEMO_INTEGER_MODEL_HASH,
		);
		let schema = pallet_models::Models::<Runtime>::get(model).unwrap().spec.schema;
		for index in 0..8 {
			let outputs = Models::execute::<Bytes>(&model, &schema, &pixels(&vectors, index))
				.expect("the run succeeds");
			assert_eq!(outputs, recorded(&vectors, index), "image {index}");
		}
	});
}

#[test]
fn the_integer_demo_model_is_listed_executable_through_the_council_and_runs_on_chain() {
	// The presets list this file at genesis: here it is proposed on a chain without it.
	let mut ext = common::ext_without_model("local_testnet", "mlp_digits_int");
	ext.execute_with(|| {
		System::set_block_number(1);
		let vectors = vectors();
		let spec = veritensor_runtime::genesis_config_presets::demo_integer_model();
		let model = spec.artifact_hash;
		let claims: Vec<pallet_models::ConformanceVector<Runtime>> = (0..4)
			.map(|index| pallet_models::ConformanceVector {
				inputs: pixels(&vectors, index).try_into().unwrap(),
				output_hash: output_hash(&recorded(&vectors, index)),
			})
			.collect();
		assert_ok!(Models::propose_executable(
			RuntimeOrigin::signed(Dave.to_account_id()),
			Box::new(spec),
			ARTIFACT.to_vec().try_into().unwrap(),
			claims.try_into().unwrap(),
		));

		let call = RuntimeCall::Models(pallet_models::Call::approve { model });
		let length = call.encoded_size() as u32;
		let weight = call.get_dispatch_info().call_weight;
		assert!(
			MaxCouncilProposalWeight::get().all_gte(weight),
			"the largest approval must fit a council motion"
		);
		let motion = <Runtime as frame_system::Config>::Hashing::hash_of(&call);
		assert_ok!(Council::propose(
			RuntimeOrigin::signed(Alice.to_account_id()),
			2,
			Box::new(call),
			length
		));
		assert_ok!(Council::vote(RuntimeOrigin::signed(Alice.to_account_id()), motion, 0, true));
		assert_ok!(Council::vote(RuntimeOrigin::signed(Bob.to_account_id()), motion, 0, true));
		assert_ok!(Council::close(
			RuntimeOrigin::signed(Charlie.to_account_id()),
			motion,
			0,
			weight,
			length
		));

		let executable =
			pallet_models::Executables::<Runtime>::get(model).expect("listed executable");
		assert_eq!(executable.cost, 10_006, "the cost docs/interpreter.md states");
		assert_eq!(executable.bytes as usize, ARTIFACT.len());

		// Images the vectors did not cover: the runtime computes what ONNX Runtime recorded.
		let schema = pallet_models::Models::<Runtime>::get(model).unwrap().spec.schema;
		for index in 4..40 {
			let outputs = Models::execute::<Bytes>(&model, &schema, &pixels(&vectors, index))
				.expect("the run succeeds");
			assert_eq!(outputs, recorded(&vectors, index), "image {index}");
		}
	});
}

#[test]
fn a_run_on_chain_fits_its_share_of_a_block() {
	use pallet_models::WeightInfo;
	type Measured = pallet_models::weights::SubstrateWeight<Runtime>;
	let block = RuntimeBlockWeights::get().max_block.ref_time();
	let largest = Measured::execute(MaxExecutableBytes::get(), MaxExecutionCost::get() as u32);
	assert!(largest.ref_time() <= EXECUTION_SHARE * block);
	// The benchmarks' largest model must be listable here, or they cannot run.
	assert!(MaxExecutionCost::get() >= pallet_models::execution::MAX_BENCHMARKED_COST as u64);

	let demo = Measured::execute(ARTIFACT.len() as u32, 10_006);
	println!(
		"an on-chain run of the integer demo model weighs {} µs ({:.3} % of a block); the \
		 largest run allowed costs {} units ({} µs, {:.1} % of a block)",
		demo.ref_time() / 1_000_000,
		demo.ref_time() as f64 * 100.0 / block as f64,
		MaxExecutionCost::get(),
		largest.ref_time() / 1_000_000,
		largest.ref_time() as f64 * 100.0 / block as f64,
	);
}

/// The integer demo model as the presets list it.
fn preset_model() -> veritensor_primitives::ModelHash {
	veritensor_primitives::ModelHash::from(
		veritensor_runtime::genesis_config_presets::DEMO_INTEGER_MODEL_HASH,
	)
}

/// Bob's single-worker job of the preset integer model on image `index`, assigned to a new
/// worker of Dave's that answers `outputs`, receipt signed; returns the job and the worker.
fn answered_job(
	index: usize,
	outputs: Vec<Tensor<Bytes>>,
) -> (u64, veritensor_primitives::WorkerId) {
	use frame_support::traits::{Authorize, UnfilteredDispatchable};
	use sp_core::Pair;
	let model = preset_model();
	let pair = sp_core::sr25519::Pair::from_seed(&[9; 32]);
	let worker = common::register_worker(&pair, model);
	let terms = veritensor_primitives::VerificationTerms::single();
	let (_, quote) = Jobs::quote(&model, &terms).expect("quoted");
	let job = pallet_jobs::NextJobId::<Runtime>::get();
	let input = pallet_jobs::Payload::Inline(pixels(&vectors(), index).try_into().unwrap());
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(Bob.to_account_id()),
		model,
		input,
		terms,
		quote,
		20
	));
	common::assign(job, &worker);
	let receipt = veritensor_primitives::Receipt {
		genesis_hash: System::block_hash(0),
		job_id: job,
		model,
		input_hash: pallet_jobs::Jobs::<Runtime>::get(job).unwrap().input_hash,
		output_hash: output_hash(&outputs),
		worker: worker.clone(),
	};
	let answer = pallet_jobs::Submission {
		job,
		answer: pallet_jobs::Answer::Output {
			output: pallet_jobs::Payload::Inline(outputs.try_into().unwrap()),
			signature: pair.sign(&receipt.signing_payload()).into(),
		},
	};
	let call = common::answers_call(&pair, vec![answer]);
	call.authorize(sp_runtime::transaction_validity::TransactionSource::InBlock)
		.expect("submit_results authorizes itself")
		.expect("the block takes the answer");
	assert_ok!(call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()));
	assert!(pallet_jobs::Provisionals::<Runtime>::contains_key(job), "one worker's word");
	(job, worker)
}

/// Dave's bond, which backs the worker's assignments.
fn dave_bond() -> veritensor_runtime::Balance {
	use frame_support::traits::fungible::InspectHold;
	veritensor_runtime::Balances::total_balance_on_hold(&Dave.to_account_id())
}

#[test]
fn a_wrong_result_of_the_preset_integer_model_is_overturned_by_the_runtimes_own_run() {
	common::ext("development").execute_with(|| {
		System::set_block_number(1);
		let vectors = vectors();
		let right = recorded(&vectors, 0);
		let mut wrong = right.clone();
		let label = vectors["mlp_digits_int"]["labels"][0].as_i64().unwrap();
		wrong[0] = tensor(ElementType::I64, &[1], std::iter::once((label + 1) % 10));
		let bob_before = veritensor_runtime::Balances::free_balance(Bob.to_account_id());
		let (job, worker) = answered_job(0, wrong);
		assert!(veritensor_runtime::Balances::free_balance(Bob.to_account_id()) < bob_before);
		let bond_before = dave_bond();

		let info = Jobs::challenge(
			RuntimeOrigin::signed(Charlie.to_account_id()),
			job,
			output_hash(&right),
		)
		.expect("settled in the call");
		assert_eq!(info.pays_fee, frame_support::dispatch::Pays::No);
		let run = <Models as ModelRegistry<_, _>>::execution_weight(&preset_model()).unwrap();
		assert_eq!(info.actual_weight, Some(Jobs::recompute_weight(run, OUTPUT_BYTES)));

		// The worker slashed, Bob refunded all he paid, with the exact answer.
		assert!(dave_bond() < bond_before, "the worker's bond was slashed");
		assert_eq!(veritensor_runtime::Balances::free_balance(Bob.to_account_id()), bob_before);
		let result = pallet_jobs::Results::<Runtime>::get(job).unwrap();
		assert_eq!(result.output, pallet_jobs::Payload::Inline(right.clone().try_into().unwrap()));
		assert_eq!(result.output_hash, output_hash(&right));
		assert_eq!(
			Jobs::result_status(job),
			Some(pallet_jobs::ResultStatus::Recomputed { worker })
		);
		assert!(pallet_jobs::Referrals::<Runtime>::get(job).is_none(), "no referee drawn");
	});
}

#[test]
fn a_challenge_against_a_right_result_of_the_preset_integer_model_loses() {
	common::ext("development").execute_with(|| {
		System::set_block_number(1);
		let right = recorded(&vectors(), 3);
		let (job, _) = answered_job(3, right.clone());
		let bond_before = dave_bond();
		let charlie = Charlie.to_account_id();
		let before = veritensor_runtime::Balances::free_balance(&charlie);
		let mut claimed = right.clone();
		claimed[1] = tensor(ElementType::I32, &[1, 10], 0..10);

		let info =
			Jobs::challenge(RuntimeOrigin::signed(charlie.clone()), job, output_hash(&claimed))
				.expect("settled in the call");
		assert_eq!(info.pays_fee, frame_support::dispatch::Pays::Yes);
		let min_fee = <Runtime as pallet_jobs::Config>::MinFee::get();
		assert_eq!(veritensor_runtime::Balances::free_balance(&charlie), before - min_fee);
		assert_eq!(dave_bond(), bond_before, "the honest worker keeps its bond");
		assert_eq!(Jobs::result_status(job), Some(pallet_jobs::ResultStatus::Final));
		assert!(pallet_jobs::Claimable::<Runtime>::get(Dave.to_account_id()).is_some());
	});
}

#[test]
fn a_challenge_settled_by_a_run_fits_a_block() {
	let weight_of =
		|call: pallet_jobs::Call<Runtime>| RuntimeCall::Jobs(call).get_dispatch_info().call_weight;
	let declared = weight_of(pallet_jobs::Call::challenge { job: 0, claimed: Default::default() });
	let normal = RuntimeBlockWeights::get()
		.get(frame_support::dispatch::DispatchClass::Normal)
		.max_extrinsic
		.expect("a bound on normal transactions");
	assert!(normal.all_gte(declared), "a challenge fits a block");
	let worker = veritensor_primitives::WorkerId::from(sp_core::sr25519::Public::from_raw([0; 32]));
	for (name, call) in [
		("an appeal", pallet_jobs::Call::appeal { job: 0, worker }),
		("an escalation's settlement", pallet_jobs::Call::settle_by_execution { job: 0 }),
	] {
		let weight = weight_of(call);
		assert!(normal.all_gte(weight), "{name} fits a block");
		println!("{name} declares {} µs", weight.ref_time() / 1_000_000);
	}
	common::ext("development").execute_with(|| {
		let run = <Models as ModelRegistry<_, _>>::execution_weight(&preset_model()).unwrap();
		let settled = Jobs::recompute_weight(run, OUTPUT_BYTES);
		let block = RuntimeBlockWeights::get().max_block.ref_time();
		println!(
			"a challenge of the integer demo model settled by the runtime's run weighs {} µs \
			 ({:.2} % of a block; the run {} µs); a challenge declares {} µs",
			settled.ref_time() / 1_000_000,
			settled.ref_time() as f64 * 100.0 / block as f64,
			run.ref_time() / 1_000_000,
			declared.ref_time() / 1_000_000,
		);
	});
}
