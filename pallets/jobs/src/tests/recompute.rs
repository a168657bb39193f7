//! Challenges of models the runtime runs itself: settled in the challenge's own call by the
//! runtime's run on the stored input, without referees.

use super::{audit::*, *};
use crate::{
	Error, Event, Inputs, Jobs as JobsMap, Provisionals, Referrals, ResultStatus, Results,
	WeightInfo,
};
use frame_support::{
	assert_noop, assert_ok,
	dispatch::{GetDispatchInfo, Pays},
};
use sp_core::H256;
use veritensor_primitives::{
	output_hash,
	traits::{ExecutionError, SlashReason},
};

const CHALLENGER: AccountId = OTHER_USER;
const OPERATOR: AccountId = 100;
const FILL: u8 = 7;

/// Lists the digits model as executable, adds its one worker and has it answer a job on an
/// image of value [`FILL`] with `label`; returns the job.
fn settle_executable(label: i64) -> u64 {
	make_executable(digits());
	add_worker(1, OPERATOR, 5_000, 2);
	let job = submit(USER, FILL, 200);
	run_to_block(1 + DELAY as u64);
	assert_ok!(answer(1, vec![output_answer(1, job, label)]));
	job
}

/// The canonical hash of the label `value`.
fn hash_of(value: i64) -> H256 {
	let crate::Payload::Inline(tensors) = label(value) else { unreachable!() };
	output_hash(&tensors)
}

fn treasury_claim() -> Balance {
	crate::Claimable::<Test>::get(TREASURY).unwrap_or(0)
}

#[test]
fn a_challenge_against_a_wrong_result_is_settled_by_the_runtime_in_the_same_block() {
	ExtBuilder.build_and_execute(|| {
		let right = executed_label(FILL);
		let job = settle_executable(right + 1);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT - COST, "it paid for the result");
		let challenger_before = Balances::free_balance(CHALLENGER);
		let pool_before = pool();
		let block = System::block_number();

		let info = Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, hash_of(right))
			.expect("the challenge is settled");
		assert_eq!(info.pays_fee, Pays::No, "the winner pays nothing: the slash pays");
		assert_eq!(info.actual_weight, Some(Jobs::recompute_weight(EXECUTION_WEIGHT)));

		// Settled in this block: the worker slashed, the user refunded in full with the
		// runtime's output, no referee drawn.
		assert_eq!(System::block_number(), block);
		assert_eq!(slashes(), vec![(worker(1), EXPOSURE, SlashReason::WrongResult)]);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
		let result = Results::<Test>::get(job).expect("kept");
		assert_eq!(result.output, label(right));
		assert_eq!(result.output_hash, hash_of(right));
		assert!(!result.single_worker);
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Recomputed { worker: worker(1) }));
		assert!(Referrals::<Test>::get(job).is_none() && JobsMap::<Test>::get(job).is_none());
		assert!(Provisionals::<Test>::get(job).is_none() && !Inputs::<Test>::contains_key(job));
		assert_eq!(open_jobs(digits()), 0);

		// The challenger's fee came back and the slash's bounty is its reward; the audit pool
		// only passed the bounty on.
		let bounty = REPORTER_BOUNTY * EXPOSURE;
		System::assert_has_event(
			Event::Overturned { job, worker: worker(1), refunded: COST }.into(),
		);
		System::assert_has_event(
			Event::Recomputed {
				job,
				challenger: CHALLENGER,
				output_hash: hash_of(right),
				upheld: false,
			}
			.into(),
		);
		System::assert_last_event(
			Event::ChallengeEnded {
				job,
				challenger: CHALLENGER,
				won: true,
				returned: MIN_FEE,
				reward: bounty,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(CHALLENGER), challenger_before);
		assert_eq!(crate::Claimable::<Test>::get(CHALLENGER), Some(bounty));
		assert_eq!(pool(), pool_before);

		// The worker never earns from it, and the window's end changes nothing.
		run_past_window();
		assert_eq!(crate::Claimable::<Test>::get(OPERATOR), None);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Recomputed { worker: worker(1) }));
	});
}

#[test]
fn a_challenge_against_a_right_result_loses_the_minimum_fee_pays_for_the_run_and_makes_it_final() {
	ExtBuilder.build_and_execute(|| {
		let right = executed_label(FILL);
		let job = settle_executable(right);
		let challenger_before = Balances::free_balance(CHALLENGER);
		let treasury_before = treasury_claim();

		let info = Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, hash_of(right + 1))
			.expect("the challenge is settled");
		assert_eq!(info.pays_fee, Pays::Yes, "the loser pays the run");
		assert_eq!(info.actual_weight, Some(Jobs::recompute_weight(EXECUTION_WEIGHT)));

		assert!(slashes().is_empty(), "an honest worker is never slashed");
		assert_eq!(Balances::free_balance(CHALLENGER), challenger_before - MIN_FEE);
		assert_eq!(asset_held(CHALLENGER), 0);
		// The result is final at once: the worker is paid now, not at the window's end.
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
		assert_eq!(crate::Claimable::<Test>::get(OPERATOR), Some(PRICE));
		assert_eq!(treasury_claim(), treasury_before + (COST - PRICE - ROYALTY) + MIN_FEE);
		assert_eq!(Results::<Test>::get(job).unwrap().output, label(right));
		assert!(!Inputs::<Test>::contains_key(job));
		assert_eq!(open_jobs(digits()), 0);
		System::assert_has_event(Event::Finalized { job, worker: worker(1) }.into());
		System::assert_has_event(
			Event::Recomputed {
				job,
				challenger: CHALLENGER,
				output_hash: hash_of(right),
				upheld: true,
			}
			.into(),
		);
		System::assert_last_event(
			Event::ChallengeEnded {
				job,
				challenger: CHALLENGER,
				won: false,
				returned: 0,
				reward: 0,
			}
			.into(),
		);

		// Nothing is paid twice when the window ends, and the result cannot be challenged
		// again.
		assert_noop!(
			Jobs::challenge(RuntimeOrigin::signed(USER), job, hash_of(right + 1)),
			Error::<Test>::NotProvisional
		);
		run_past_window();
		assert_eq!(crate::Claimable::<Test>::get(OPERATOR), Some(PRICE));
		assert_eq!(treasury_claim(), treasury_before + (COST - PRICE - ROYALTY) + MIN_FEE);
	});
}

#[test]
fn a_challenge_of_a_run_that_fails_goes_to_the_referees() {
	ExtBuilder.build_and_execute(|| {
		let job = settle_executable(executed_label(FILL) + 1);
		fail_executions(digits(), ExecutionError::TooCostly);
		let info = Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, hash_of(0))
			.expect("the challenge is open");
		assert_eq!(info.pays_fee, Pays::Yes);
		let tried =
			<Test as crate::Config>::WeightInfo::challenge().saturating_add(EXECUTION_WEIGHT);
		assert_eq!(info.actual_weight, Some(tried), "the attempted run is charged");
		let deposit = 3 * PRICE + MIN_FEE;
		assert_eq!(asset_held(CHALLENGER), deposit);
		assert!(Referrals::<Test>::get(job).is_some());
		assert!(matches!(
			Jobs::result_status(job),
			Some(ResultStatus::Provisional { challenged: true, .. })
		));
		assert!(slashes().is_empty());
	});
}

#[test]
fn a_challenge_of_a_model_the_runtime_runs_is_checked_before_the_run() {
	ExtBuilder.build_and_execute(|| {
		let right = executed_label(FILL);
		let job = settle_executable(right + 1);
		// No funds for the minimum fee: refused, nothing run, nothing changed.
		const BROKE: AccountId = 77;
		assert_noop!(
			Jobs::challenge(RuntimeOrigin::signed(BROKE), job, hash_of(right)),
			Error::<Test>::InsufficientDeposit
		);
		assert_noop!(
			Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, hash_of(right + 1)),
			Error::<Test>::ClaimMatchesResult
		);
		run_past_window();
		assert_noop!(
			Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, hash_of(right)),
			Error::<Test>::NotProvisional
		);
		assert!(slashes().is_empty());
	});
}

#[test]
fn a_challenge_declares_the_weight_of_the_costliest_run() {
	ExtBuilder.build_and_execute(|| {
		let call = crate::Call::<Test>::challenge { job: 0, claimed: H256::zero() };
		let declared = call.get_dispatch_info().call_weight;
		assert_eq!(declared, Jobs::recompute_weight(MAX_EXECUTION_WEIGHT));
		assert!(declared.all_gte(Jobs::recompute_weight(EXECUTION_WEIGHT)));
		assert!(declared.all_gte(<Test as crate::Config>::WeightInfo::challenge()));
	});
}

fn asset_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Jobs(crate::HoldReason::ChallengeDeposit), &who)
}
