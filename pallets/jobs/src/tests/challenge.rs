//! Provisional results and challenges: who can challenge, what the referees decide, and who
//! pays.

use super::{audit::*, quorum::*, *};
use crate::{
	Answer, Error, Event, Finding, Inputs, Jobs as JobsMap, Provisionals, RefereeOutcome,
	ResultStatus, Results, Submission,
};
use frame_support::{assert_noop, assert_ok, traits::fungible::Mutate};
use veritensor_primitives::{output_hash, traits::SlashReason};

const CHALLENGER: AccountId = OTHER_USER;
/// Three referees' prices and the minimum fee.
const DEPOSIT: Balance = 3 * PRICE + MIN_FEE;

/// Submits a single-worker classifier job and has its worker answer `label` and `scores`;
/// returns the job, the worker's seed and its finding.
fn settle_single(label: i64, scores: [i32; 4]) -> (u64, u8, Finding<Test>) {
	let job = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(USER),
		classifier(),
		image(7),
		VerificationTerms::single(),
		FEE,
		QUORUM_DEADLINE,
	));
	run_to_block(System::block_number() + DELAY as u64);
	let seed = members(job)[0];
	let found = finding(seed, job, label, scores);
	let Finding::Output { output, signature } = found.clone() else { unreachable!() };
	assert_ok!(answer(
		seed,
		vec![Submission { job, answer: Answer::Output { output, signature } }]
	));
	(job, seed, found)
}

/// The canonical hash of the honest answer.
fn honest_hash() -> sp_core::H256 {
	output_hash(&classified(2, HONEST))
}

#[test]
fn a_challenge_against_a_wrong_result_wins_slashes_the_worker_and_refunds_the_user() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		fund_pool(10_000);
		let before = Balances::free_balance(USER);
		let challenger_before = Balances::free_balance(CHALLENGER);
		let (job, cheat, _) = settle_single(0, GARBAGE);
		assert_eq!(Balances::free_balance(USER), before - cost(1), "it paid for the result");

		assert_ok!(Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, honest_hash()));
		let draw_at = System::block_number() + DELAY as u64;
		System::assert_last_event(
			Event::Challenged {
				job,
				challenger: CHALLENGER,
				deposit: DEPOSIT,
				claimed: honest_hash(),
				draw_at,
			}
			.into(),
		);
		assert_eq!(
			Balances::balance_on_hold(&HoldReason::ChallengeDeposit.into(), &CHALLENGER),
			DEPOSIT
		);
		assert!(matches!(
			Jobs::result_status(job),
			Some(ResultStatus::Provisional { challenged: true, .. })
		));

		let pool_before = pool();
		let referees = referee(job, HONEST);
		assert!(!referees.contains(&cheat), "the worker does not judge itself");
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: false },
				slashed: vec![(worker(cheat), EXPOSURE)],
			}
			.into(),
		);
		System::assert_has_event(
			Event::Overturned { job, worker: worker(cheat), refunded: cost(1) }.into(),
		);
		// The slash's bounty (a tenth of it) pays the referees first; the deposit makes up the
		// rest (here the slash is small against three prices: nothing is left as a reward).
		let bounty = REPORTER_BOUNTY * EXPOSURE;
		let made_up = 3 * PRICE - bounty;
		System::assert_last_event(
			Event::ChallengeEnded {
				job,
				challenger: CHALLENGER,
				won: true,
				returned: DEPOSIT - made_up,
				reward: 0,
			}
			.into(),
		);
		assert_eq!(slashes(), vec![(worker(cheat), EXPOSURE, SlashReason::WrongResult)]);
		// The user paid nothing in the end and holds the referees' answer.
		assert_eq!(Balances::free_balance(USER), before);
		let result = Results::<Test>::get(job).unwrap();
		assert_eq!(result.worker, worker(referees[0]));
		assert_eq!(result.output_hash, honest_hash());
		assert_eq!(
			Jobs::result_status(job),
			Some(ResultStatus::Overturned { worker: worker(cheat) })
		);
		assert_eq!(Balances::free_balance(CHALLENGER), challenger_before - made_up);
		// The referees are paid; the pool only passed the bounty on; the cheat earns nothing,
		// ever.
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
		assert_eq!(pool(), pool_before);
		run_past_window();
		assert_eq!(earned(cheat), 0);
		assert!(JobsMap::<Test>::get(job).is_none() && !Inputs::<Test>::contains_key(job));
		assert_eq!(open_jobs(classifier()), 0);
	});
}

#[test]
fn a_challenge_against_an_honest_worker_loses_its_deposit_to_the_referees_and_the_pool() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		let challenger_before = Balances::free_balance(CHALLENGER);
		// Honest float noise: beyond agreement with the referees, within the slash rule.
		let (job, honest, _) = settle_single(2, NOISY);
		assert_ok!(Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, honest_hash()));
		let pool_before = pool();
		let referees = referee(job, HONEST);

		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: true },
				slashed: vec![],
			}
			.into(),
		);
		System::assert_has_event(Event::Finalized { job, worker: worker(honest) }.into());
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
		assert!(slashes().is_empty());
		assert_eq!(Balances::free_balance(CHALLENGER), challenger_before - DEPOSIT);
		// The deposit paid the referees, the rest went to the pool.
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
		assert_eq!(pool(), pool_before + DEPOSIT - 3 * PRICE);
		// The worker's result stands and is final: it is paid at once.
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
		assert_eq!(Results::<Test>::get(job).unwrap().worker, worker(honest));
		assert_eq!(earned(honest), PRICE);
		assert!(Provisionals::<Test>::get(job).is_none());
		assert_eq!(open_jobs(classifier()), 0);
	});
}

#[test]
fn without_three_referees_a_challenge_ends_with_its_deposit_back_less_the_minimum_fee() {
	ExtBuilder.build_and_execute(|| {
		// The worker and two other operators: one short of a referee quorum.
		setup(3);
		let challenger_before = Balances::free_balance(CHALLENGER);
		let (job, honest, _) = settle_single(2, HONEST);
		assert_ok!(Jobs::challenge(
			RuntimeOrigin::signed(CHALLENGER),
			job,
			honest_hash() ^ sp_core::H256::repeat_byte(1)
		));
		run_to_block(System::block_number() + DELAY as u64);
		System::assert_has_event(
			Event::Refereed { job, outcome: RefereeOutcome::NoReferees, slashed: vec![] }.into(),
		);
		System::assert_last_event(
			Event::ChallengeEnded {
				job,
				challenger: CHALLENGER,
				won: false,
				returned: DEPOSIT - MIN_FEE,
				reward: 0,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(CHALLENGER), challenger_before - MIN_FEE);
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
		assert_eq!(earned(honest), PRICE);
		assert!(slashes().is_empty());
	});
}

#[test]
fn a_challengers_own_workers_never_judge_its_challenge() {
	ExtBuilder.build_and_execute(|| {
		// Four operators: with the worker's and the challenger's left out, two remain, one short
		// of a referee quorum. A challenger that could draw itself would judge its own claim.
		setup(4);
		let (job, cheat, _) = settle_single(0, GARBAGE);
		let own = (1..=4).find(|seed| *seed != cheat).unwrap();
		Balances::set_balance(&operator(own), ENDOWMENT);
		assert_ok!(Jobs::challenge(RuntimeOrigin::signed(operator(own)), job, honest_hash()));
		run_to_block(System::block_number() + DELAY as u64);
		System::assert_has_event(
			Event::Refereed { job, outcome: RefereeOutcome::NoReferees, slashed: vec![] }.into(),
		);
	});
}

#[test]
fn challenges_are_checked() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		let (job, _, _) = settle_single(2, HONEST);
		let result_hash = Results::<Test>::get(job).unwrap().output_hash;
		let challenge =
			|who, job, claimed| Jobs::challenge(RuntimeOrigin::signed(who), job, claimed);
		assert_noop!(challenge(CHALLENGER, 99, result_hash), Error::<Test>::NotProvisional);
		assert_noop!(challenge(CHALLENGER, job, result_hash), Error::<Test>::ClaimMatchesResult);
		let other = sp_core::H256::repeat_byte(9);
		assert_noop!(challenge(POOR, job, other), Error::<Test>::InsufficientDeposit);
		assert_ok!(challenge(CHALLENGER, job, other));
		assert_noop!(challenge(USER, job, other), Error::<Test>::AlreadyChallenged);

		// A quorum's result is not one worker's word.
		let quorum = submit_quorum(3);
		run_to_block(System::block_number() + DELAY as u64);
		let findings: Vec<_> =
			members(quorum).iter().map(|seed| finding(*seed, quorum, 2, HONEST)).collect();
		commit_and_reveal(quorum, &findings);
		assert!(Results::<Test>::contains_key(quorum));
		assert_noop!(challenge(CHALLENGER, quorum, other), Error::<Test>::NotProvisional);

		// Once the window ends the result is final.
		let (late, _, _) = settle_single(2, HONEST);
		run_past_window();
		assert_noop!(challenge(CHALLENGER, late, other), Error::<Test>::NotProvisional);
	});
}

#[test]
fn a_provisional_result_in_the_last_block_of_its_window_can_still_be_challenged() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		let (job, _, _) = settle_single(0, GARBAGE);
		let until = System::block_number() + DISPUTE_WINDOW;
		run_to_block(until - 1);
		assert_ok!(Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, honest_hash()));
		// The window's end does not make a challenged result final: its referees do.
		run_to_block(until);
		assert!(matches!(
			Jobs::result_status(job),
			Some(ResultStatus::Provisional { challenged: true, .. })
		));
		referee(job, HONEST);
		assert!(matches!(Jobs::result_status(job), Some(ResultStatus::Overturned { .. })));
	});
}

#[test]
fn a_worker_unregistered_after_answering_is_still_slashed_when_its_result_is_overturned() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		fund_pool(10_000);
		let (job, cheat, _) = settle_single(0, GARBAGE);
		// The key leaves before anyone challenges: its operator's bond still answers for it.
		remove_worker(cheat);
		assert_ok!(Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, honest_hash()));
		referee(job, HONEST);
		assert_eq!(slashes(), vec![(worker(cheat), EXPOSURE, SlashReason::WrongResult)]);
		assert!(matches!(Jobs::result_status(job), Some(ResultStatus::Overturned { .. })));
	});
}

#[test]
fn a_slash_worth_more_than_the_referees_pays_the_winning_challenger_a_reward() {
	ExtBuilder.build_and_execute(|| {
		// A cheap model: the slash's bounty is worth more than three referees.
		ModelPrice::set(2);
		setup(5);
		let challenger_before = Balances::free_balance(CHALLENGER);
		let (job, cheat, _) = settle_single(0, GARBAGE);
		assert_ok!(Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), job, honest_hash()));
		let deposit = 3 * 2 + MIN_FEE;
		let pool_before = pool();
		let referees = referee(job, HONEST);
		let reward = REPORTER_BOUNTY * EXPOSURE - 3 * 2;
		System::assert_last_event(
			Event::ChallengeEnded {
				job,
				challenger: CHALLENGER,
				won: true,
				returned: deposit,
				reward,
			}
			.into(),
		);
		// The whole deposit back, the reward claimable; the referees paid from the bounty.
		assert_eq!(Balances::free_balance(CHALLENGER), challenger_before);
		assert_eq!(crate::Claimable::<Test>::get(CHALLENGER), Some(reward));
		for seed in &referees {
			assert_eq!(earned(*seed), 2);
		}
		assert_eq!(pool(), pool_before, "the pool passes the bounty on, no more");
		assert_eq!(slashes(), vec![(worker(cheat), EXPOSURE, SlashReason::WrongResult)]);
	});
}

#[test]
fn challenges_take_at_most_half_of_a_blocks_referee_draws() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		let jobs: Vec<u64> = (0..3).map(|_| settle_single(2, HONEST).0).collect();
		for job in &jobs {
			let claimed = sp_core::H256::repeat_byte(9);
			assert_ok!(Jobs::challenge(RuntimeOrigin::signed(CHALLENGER), *job, claimed));
		}
		// Half of a block's four places: the third challenge's referees are drawn a block
		// later, and the other half stays free for audits and escalations.
		let draw_at = System::block_number() + DELAY as u64;
		assert_eq!(crate::CheckQueue::<Test>::get(draw_at).to_vec(), jobs[..2].to_vec());
		assert_eq!(
			JobsMap::<Test>::get(jobs[2]).unwrap().state,
			crate::JobState::Escalated { draw_at: draw_at + 1 }
		);
	});
}
