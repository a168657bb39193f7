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
/// The bytes of a label: one I64.
const LABEL_BYTES: u32 = 8;
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

/// The classifier as a model the runtime runs, computing the honest answer (class 2).
fn executable_classifier() {
	make_executable_with(
		super::quorum::classifier(),
		super::quorum::classified(2, super::quorum::HONEST),
	);
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
		assert_eq!(info.actual_weight, Some(Jobs::recompute_weight(EXECUTION_WEIGHT, LABEL_BYTES)));

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
			Event::Refereed {
				job,
				outcome: crate::RefereeOutcome::Recomputed { upheld: false },
				slashed: vec![(worker(1), EXPOSURE)],
			}
			.into(),
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
		assert_eq!(info.actual_weight, Some(Jobs::recompute_weight(EXECUTION_WEIGHT, LABEL_BYTES)));

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
		assert_eq!(declared, Jobs::recompute_weight(MAX_EXECUTION_WEIGHT, 8 * 4096));
		assert!(declared.all_gte(Jobs::recompute_weight(EXECUTION_WEIGHT, LABEL_BYTES)));
		assert!(declared.all_gte(<Test as crate::Config>::WeightInfo::challenge()));
	});
}

fn asset_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Jobs(crate::HoldReason::ChallengeDeposit), &who)
}

mod escalations {
	//! Contradicted audits and split quorums of a model the runtime runs itself, settled by its
	//! run before any referee is drawn.

	use super::super::{audit::*, quorum::*};
	use super::*;
	use crate::{RefereeCause, RefereeOutcome};
	use sp_runtime::Perbill;

	/// Nothing of the job is left for referees: the draw at `draw_at` draws nobody.
	fn no_referees_drawn(job: u64, draw_at: u64) {
		run_to_block(draw_at);
		assert!(!System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Jobs(Event::RefereesDrawn { job: drawn, .. }) if drawn == job
		)));
		assert!(JobsMap::<Test>::get(job).is_none());
	}

	#[test]
	fn a_contradicted_audit_is_settled_by_the_runtimes_run_and_the_wrong_auditor_slashed() {
		ExtBuilder.build_and_execute(|| {
			AuditRateFloor::set(Perbill::one());
			setup(5);
			executable_classifier();
			let before = Balances::free_balance(USER);
			let job = submit_audited();
			let (original, auditor, _, _) = audit_and_reveal(job, (2, HONEST), (0, GARBAGE));
			let draw_at = draw_at(job);

			let info =
				Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), job).expect("settled");
			assert_eq!(info.pays_fee, Pays::No, "it caught a party");
			System::assert_has_event(
				Event::Refereed {
					job,
					outcome: RefereeOutcome::Recomputed { upheld: true },
					slashed: vec![(worker(auditor), EXPOSURE)],
				}
				.into(),
			);
			assert_eq!(slashes(), vec![(worker(auditor), EXPOSURE, SlashReason::WrongResult)]);
			// The worker's own signed result stands; it is paid, the user pays as quoted.
			let result = Results::<Test>::get(job).unwrap();
			assert_eq!(result.worker, worker(original));
			assert_eq!(result.output_hash, output_hash(&classified(2, HONEST)));
			assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
			assert_eq!(earned(original), PRICE);
			assert_eq!(earned(auditor), 0);
			assert_eq!(
				Balances::free_balance(USER),
				before - Jobs::quote(&classifier(), &VerificationTerms::audited()).unwrap().1
			);
			no_referees_drawn(job, draw_at);
		});
	}

	#[test]
	fn a_contradicted_audit_whose_worker_is_wrong_gives_the_user_the_auditors_answer_free() {
		ExtBuilder.build_and_execute(|| {
			AuditRateFloor::set(Perbill::one());
			setup(5);
			executable_classifier();
			let before = Balances::free_balance(USER);
			let job = submit_audited();
			fund_pool(10_000);
			let (original, auditor, _, _) = audit_and_reveal(job, (0, GARBAGE), (2, HONEST));
			let draw_at = draw_at(job);
			assert_ok!(Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), job));
			assert_eq!(slashes(), vec![(worker(original), EXPOSURE, SlashReason::WrongResult)]);
			let result = Results::<Test>::get(job).unwrap();
			assert_eq!(result.worker, worker(auditor), "the auditor's signed output");
			assert_eq!(result.output, crate::Payload::Inline(classified(2, HONEST)));
			assert_eq!(Balances::free_balance(USER), before, "the user paid nothing");
			assert_eq!(earned(auditor), PRICE, "the auditor is paid from the pool");
			no_referees_drawn(job, draw_at);
		});
	}

	#[test]
	fn a_split_quorum_with_nobody_right_is_settled_on_the_runtimes_output_and_all_slashed() {
		ExtBuilder.build_and_execute(|| {
			setup(6);
			executable_classifier();
			let before = Balances::free_balance(USER);
			let job = submit_quorum(3);
			run_to_block(1 + DELAY as u64);
			let seeds = members(job);
			let findings: Vec<_> = seeds
				.iter()
				.zip([GARBAGE, NOISY, [0, 0, 0, 65_536]])
				.map(|(seed, scores)| finding(*seed, job, 2, scores))
				.collect();
			commit_and_reveal(job, &findings);
			let draw_at = draw_at(job);
			System::assert_has_event(
				Event::Escalated {
					job,
					cause: RefereeCause::QuorumSplit,
					parties: seeds.iter().map(|seed| worker(*seed)).collect(),
					draw_at,
				}
				.into(),
			);

			let info =
				Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), job).expect("settled");
			assert_eq!(info.pays_fee, Pays::No);
			assert_eq!(slashes().len(), 3, "every member was wrong");
			let result = Results::<Test>::get(job).unwrap();
			assert_eq!(result.output, crate::Payload::Inline(classified(2, HONEST)));
			assert_eq!(result.worker, worker(seeds[0]));
			assert_eq!(
				Jobs::result_status(job),
				Some(ResultStatus::Recomputed { worker: worker(seeds[0]) })
			);
			assert_eq!(Balances::free_balance(USER), before, "the user paid nothing");
			for seed in &seeds {
				assert_eq!(earned(*seed), 0);
			}
			assert_noop!(
				Jobs::settle_by_execution(RuntimeOrigin::signed(USER), job),
				Error::<Test>::UnknownJob
			);
			no_referees_drawn(job, draw_at);
		});
	}

	#[test]
	fn only_an_escalation_awaiting_its_referees_of_a_model_the_runtime_runs_is_settled_so() {
		ExtBuilder.build_and_execute(|| {
			setup(6);
			// Not a model the runtime runs: the referees judge it.
			let job = submit_quorum(3);
			run_to_block(1 + DELAY as u64);
			let seeds = members(job);
			// Pairwise beyond agreement, within the slash rule: no majority.
			let split: Vec<_> = seeds
				.iter()
				.zip([60_000, 60_030, 60_060])
				.map(|(seed, third)| finding(*seed, job, 2, [0, 0, third, 0]))
				.collect();
			assert_noop!(
				Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), job),
				Error::<Test>::NotEscalated
			);
			commit_and_reveal(job, &split);
			assert_noop!(
				Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), job),
				Error::<Test>::NotRunByTheRuntime
			);
			// Once the referees are drawn, they judge it.
			executable_classifier();
			run_to_block(draw_at(job));
			assert_noop!(
				Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), job),
				Error::<Test>::NotEscalated
			);
			assert_noop!(
				Jobs::settle_by_execution(RuntimeOrigin::signed(CHALLENGER), 999),
				Error::<Test>::UnknownJob
			);
		});
	}
}

mod appeals {
	//! Appeals of a quorum's slashes on a model the runtime runs itself: settled in the appeal's
	//! own call by the runtime's run.

	use super::super::{appeal::*, quorum::*};
	use super::*;
	use crate::{Appeals, Decisions, Parties, RefereeOutcome};
	use veritensor_primitives::quorum::Verdict;

	/// The bytes of a classifier's output: a label (I64) and four scores (F32).
	const CLASSIFIED_BYTES: u32 = 8 + 16;

	#[test]
	fn an_honest_minoritys_appeal_is_won_at_once_the_colluding_majority_slashed_the_user_refunded()
	{
		ExtBuilder.build_and_execute(|| {
			setup(7);
			executable_classifier();
			let before = Balances::free_balance(USER);
			// Two members collude on a garbage answer: the honest one is outvoted, found wrong.
			let (job, seeds) = decide_quorum_with(&[0, 1]);
			let (cheats, honest) = ([seeds[0], seeds[1]], seeds[2]);
			assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Agreed, Verdict::Wrong]);
			let appellant_before = Balances::free_balance(operator(honest));

			let info = Jobs::appeal(RuntimeOrigin::signed(operator(honest)), job, worker(honest))
				.expect("settled in the call");
			assert_eq!(info.pays_fee, Pays::No, "the majority's slashes pay");
			let weight = Jobs::appeal_recompute_weight(EXECUTION_WEIGHT, 2, CLASSIFIED_BYTES);
			assert_eq!(info.actual_weight, Some(weight));
			let canonical_output = output_hash(&classified(2, HONEST));
			System::assert_has_event(
				Event::Recomputed {
					job,
					challenger: operator(honest),
					output_hash: canonical_output,
					upheld: false,
				}
				.into(),
			);
			System::assert_has_event(
				Event::Refereed {
					job,
					outcome: RefereeOutcome::Recomputed { upheld: false },
					slashed: vec![(worker(cheats[0]), EXPOSURE), (worker(cheats[1]), EXPOSURE)],
				}
				.into(),
			);
			System::assert_last_event(
				Event::AppealEnded {
					job,
					worker: worker(honest),
					operator: operator(honest),
					won: true,
					returned: MIN_FEE,
					reward: 2 * (REPORTER_BOUNTY * EXPOSURE),
				}
				.into(),
			);
			// The user paid nothing and holds the honest member's own signed answer.
			assert_eq!(Balances::free_balance(USER), before);
			let result = Results::<Test>::get(job).unwrap();
			assert_eq!(result.worker, worker(honest));
			assert_eq!(result.output_hash, output_hash(&classified(2, HONEST)));
			assert_eq!(verdicts(job), vec![Verdict::Wrong, Verdict::Wrong, Verdict::Differed]);
			assert_eq!(held(honest), 0);
			assert_eq!(Balances::free_balance(operator(honest)), appellant_before);

			// The honest member's slash never lands; the majority earns nothing, ever.
			let dispute_end = Decisions::<Test>::get(job).unwrap().dispute_end;
			run_to_block(dispute_end.max(System::block_number()) + 1);
			let expected = vec![
				(worker(cheats[0]), EXPOSURE, SlashReason::WrongResult),
				(worker(cheats[1]), EXPOSURE, SlashReason::WrongResult),
			];
			assert_eq!(slashes(), expected);
			// The honest operator's claim is its reward, nothing for the job itself.
			let reward = 2 * (REPORTER_BOUNTY * EXPOSURE);
			assert_eq!((earned(cheats[0]), earned(cheats[1]), earned(honest)), (0, 0, reward));
			assert_eq!(Parties::<Test>::iter_prefix(job).count(), 0);
			assert!(!Inputs::<Test>::contains_key(job));
			assert_eq!(open_jobs(classifier()), 0);
		});
	}

	#[test]
	fn a_wrong_members_appeal_loses_at_once_and_the_majority_is_paid() {
		ExtBuilder.build_and_execute(|| {
			setup(7);
			executable_classifier();
			let (job, seeds) = decide_quorum_with(&[2]);
			let cheat = seeds[2];
			let cheat_before = Balances::free_balance(operator(cheat));

			let info = Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job, worker(cheat))
				.expect("settled in the call");
			assert_eq!(info.pays_fee, Pays::Yes, "the loser pays the run");
			System::assert_has_event(
				Event::Refereed {
					job,
					outcome: RefereeOutcome::Recomputed { upheld: true },
					slashed: vec![(worker(cheat), EXPOSURE)],
				}
				.into(),
			);
			System::assert_last_event(
				Event::AppealEnded {
					job,
					worker: worker(cheat),
					operator: operator(cheat),
					won: false,
					returned: 0,
					reward: 0,
				}
				.into(),
			);
			assert_eq!(Balances::free_balance(operator(cheat)), cheat_before - MIN_FEE);
			assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
			assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(cheat)), (PRICE, PRICE, 0));
			assert!(Appeals::<Test>::get(job).is_some());
			// Slashed once: the window's end does not slash it again.
			let dispute_end = Decisions::<Test>::get(job).unwrap().dispute_end;
			run_to_block(dispute_end.max(System::block_number()) + 1);
			assert_eq!(slashes(), vec![(worker(cheat), EXPOSURE, SlashReason::WrongResult)]);
		});
	}

	#[test]
	fn an_appeal_is_checked_before_the_run_and_one_the_runtime_cannot_run_goes_to_referees() {
		use frame_support::traits::fungible::Mutate;
		use frame_support::traits::tokens::{Fortitude, Precision, Preservation};
		ExtBuilder.build_and_execute(|| {
			setup(7);
			executable_classifier();
			let (job, seeds) = decide_quorum_with(&[2]);
			let cheat = seeds[2];
			let funds = Balances::free_balance(operator(cheat));
			// Without the minimum fee: refused before anything runs.
			assert_ok!(Balances::burn_from(
				&operator(cheat),
				funds,
				Preservation::Expendable,
				Precision::Exact,
				Fortitude::Polite,
			));
			assert_noop!(
				Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job, worker(cheat)),
				Error::<Test>::InsufficientDeposit
			);
			// A run that fails: the referees judge it, with a challenge's deposit.
			assert_ok!(Balances::mint_into(&operator(cheat), funds));
			fail_executions(classifier(), ExecutionError::TooCostly);
			let info = Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job, worker(cheat))
				.expect("appealed");
			let tried =
				<Test as crate::Config>::WeightInfo::appeal().saturating_add(EXECUTION_WEIGHT);
			assert_eq!(info.actual_weight, Some(tried), "the attempted run is charged");
			assert_eq!(held(cheat), 3 * PRICE + MIN_FEE);
			assert!(matches!(
				JobsMap::<Test>::get(job).unwrap().state,
				crate::JobState::Escalated { .. }
			));
			assert!(slashes().is_empty(), "nothing judged yet");
		});
	}
}
