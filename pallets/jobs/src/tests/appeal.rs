//! Appeals of a quorum's slashes: who may appeal, what the referees decide, and who pays.

use super::{audit::*, quorum::*, *};
use crate::{
	Appeals, Decisions, Error, Event, Inputs, Jobs as JobsMap, Parties, Provisionals,
	RefereeOutcome, ResultStatus, Results,
};
use frame_support::{assert_noop, assert_ok, traits::fungible::Mutate};
use veritensor_primitives::{output_hash, quorum::Verdict, traits::SlashReason};

/// Three referees' prices and the minimum fee, as a challenge.
const DEPOSIT: Balance = 3 * PRICE + MIN_FEE;

/// What one slash's bounty brings into the audit pool.
fn bounty() -> Balance {
	REPORTER_BOUNTY * EXPOSURE
}

/// Runs a quorum of three classifier jobs in which the members at `wrong` (by draw order)
/// answer `GARBAGE` (class 0) and the others the honest scores; returns the job and the
/// members' seeds. Every operator is funded to cover a deposit.
pub(super) fn decide_quorum_with(garbage: &[usize]) -> (u64, Vec<u8>) {
	for seed in 1..=7 {
		Balances::mint_into(&operator(seed), 10_000).unwrap();
	}
	let job = submit_quorum(3);
	run_to_block(1 + DELAY as u64);
	let seeds = members(job);
	let findings: Vec<_> = seeds
		.iter()
		.enumerate()
		.map(|(index, seed)| {
			let (label, scores) = if garbage.contains(&index) { (0, GARBAGE) } else { (2, HONEST) };
			finding(*seed, job, label, scores)
		})
		.collect();
	commit_and_reveal(job, &findings);
	(job, seeds)
}

pub(super) fn held(seed: u8) -> Balance {
	Balances::balance_on_hold(&HoldReason::ChallengeDeposit.into(), &operator(seed))
}

#[test]
fn a_minority_appeal_the_referees_uphold_clears_it_slashes_the_majority_and_refunds_the_user() {
	ExtBuilder.build_and_execute(|| {
		setup(7);
		let before = Balances::free_balance(USER);
		// Two members collude on a garbage answer: the honest one is outvoted and found wrong.
		let (job, seeds) = decide_quorum_with(&[0, 1]);
		let (cheats, honest) = ([seeds[0], seeds[1]], seeds[2]);
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Agreed, Verdict::Wrong]);
		let dispute_end = Decisions::<Test>::get(job).unwrap().dispute_end;
		assert_eq!(Balances::free_balance(USER), before - cost(3) + PRICE);
		let appellant_before = Balances::free_balance(operator(honest));

		assert_ok!(Jobs::appeal(RuntimeOrigin::signed(operator(honest)), job, worker(honest)));
		let draw_at = System::block_number() + DELAY as u64;
		System::assert_last_event(
			Event::Appealed {
				job,
				worker: worker(honest),
				operator: operator(honest),
				deposit: DEPOSIT,
				draw_at,
			}
			.into(),
		);
		assert_eq!(held(honest), DEPOSIT);
		assert!(matches!(
			Jobs::result_status(job),
			Some(ResultStatus::Provisional { challenged: true, .. })
		));

		let referees = referee(job, HONEST);
		for seed in seeds.iter() {
			assert!(!referees.contains(seed), "no member of the quorum judges it");
		}
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: false },
				slashed: vec![(worker(cheats[0]), EXPOSURE), (worker(cheats[1]), EXPOSURE)],
			}
			.into(),
		);
		// Two slashes' bounties pay the referees first; the deposit makes up the rest.
		let made_up = 3 * PRICE - 2 * bounty();
		System::assert_last_event(
			Event::AppealEnded {
				job,
				worker: worker(honest),
				operator: operator(honest),
				won: true,
				returned: DEPOSIT - made_up,
				reward: 0,
			}
			.into(),
		);
		// The user paid nothing in the end and holds the referees' (the honest) answer.
		assert_eq!(Balances::free_balance(USER), before);
		let result = Results::<Test>::get(job).unwrap();
		assert_eq!(result.worker, worker(referees[0]));
		assert_eq!(result.output_hash, output_hash(&classified(2, HONEST)));
		assert_eq!(
			Jobs::result_status(job),
			Some(ResultStatus::Overturned { worker: worker(cheats[0]) })
		);
		assert_eq!(verdicts(job), vec![Verdict::Wrong, Verdict::Wrong, Verdict::Differed]);
		assert_eq!(held(honest), 0);
		assert_eq!(Balances::free_balance(operator(honest)), appellant_before - made_up);

		// The honest member's slash is cancelled for good; the majority earns nothing, ever.
		run_to_block(dispute_end.max(System::block_number()) + 1);
		let expected = vec![
			(worker(cheats[0]), EXPOSURE, SlashReason::WrongResult),
			(worker(cheats[1]), EXPOSURE, SlashReason::WrongResult),
		];
		assert_eq!(slashes(), expected);
		assert_eq!(worker_open(honest), 0);
		assert_eq!((earned(cheats[0]), earned(cheats[1]), earned(honest)), (0, 0, 0));
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
		assert!(JobsMap::<Test>::get(job).is_none() && !Inputs::<Test>::contains_key(job));
		assert_eq!(Parties::<Test>::iter_prefix(job).count(), 0);
		assert_eq!(open_jobs(classifier()), 0);
	});
}

#[test]
fn an_appeal_the_referees_reject_slashes_the_appellant_and_pays_the_majority() {
	ExtBuilder.build_and_execute(|| {
		setup(7);
		let (job, seeds) = decide_quorum_with(&[2]);
		let cheat = seeds[2];
		let dispute_end = Decisions::<Test>::get(job).unwrap().dispute_end;
		let cheat_before = Balances::free_balance(operator(cheat));
		// Appealed in the window's last block: the window ends while the referees work, and
		// the slash waits for them.
		run_to_block(dispute_end - 1);
		assert_ok!(Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job, worker(cheat)));
		run_to_block(dispute_end);
		assert!(slashes().is_empty(), "the appealed slash waits for the referees");
		assert_eq!((earned(seeds[0]), earned(seeds[1])), (0, 0), "earnings wait too");
		let pool_before = pool();

		let referees = referee(job, HONEST);
		assert_eq!(slashes(), vec![(worker(cheat), EXPOSURE, SlashReason::WrongResult)]);
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: true },
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
		// The loser pays the resolution: its slash's bounty and its deposit pay the referees,
		// the rest of the deposit goes to the audit pool.
		assert_eq!(Balances::free_balance(operator(cheat)), cheat_before - DEPOSIT);
		assert_eq!(pool(), pool_before + DEPOSIT + bounty() - 3 * PRICE);
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
		// The quorum's result stands and is final: the majority is paid.
		assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(cheat)), (PRICE, PRICE, 0));
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
		assert_eq!(Results::<Test>::get(job).unwrap().worker, worker(seeds[0]));
		assert_eq!(worker_open(cheat), 0);
		// Nothing more happens to anyone.
		run_to_block(System::block_number() + DISPUTE_WINDOW);
		assert_eq!(slashes().len(), 1);
		assert!(Provisionals::<Test>::get(job).is_none());
	});
}

#[test]
fn an_appeal_no_referee_quorum_can_judge_slashes_nobody_and_the_result_stands() {
	ExtBuilder.build_and_execute(|| {
		// Three operators only: none is left to referee.
		setup(3);
		let (job, seeds) = decide_quorum_with(&[1]);
		let cheat = seeds[1];
		let cheat_before = Balances::free_balance(operator(cheat));
		assert_ok!(Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job, worker(cheat)));
		let draw_at = System::block_number() + DELAY as u64;
		run_to_block(draw_at);
		System::assert_has_event(
			Event::Refereed { job, outcome: RefereeOutcome::NoReferees, slashed: vec![] }.into(),
		);
		System::assert_last_event(
			Event::AppealEnded {
				job,
				worker: worker(cheat),
				operator: operator(cheat),
				won: false,
				returned: DEPOSIT - MIN_FEE,
				reward: 0,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(operator(cheat)), cheat_before - MIN_FEE);
		assert_eq!((earned(seeds[0]), earned(seeds[2])), (PRICE, PRICE));
		assert_eq!(Jobs::result_status(job), Some(ResultStatus::Final));
		assert_eq!(worker_open(cheat), 0);
		// Nor does the window's end slash it.
		run_to_block(System::block_number() + DISPUTE_WINDOW);
		assert!(slashes().is_empty());
	});
}

#[test]
fn only_a_wrong_members_operator_may_appeal_once_inside_the_window() {
	ExtBuilder.build_and_execute(|| {
		setup(7);
		let (job, seeds) = decide_quorum_with(&[0]);
		let (cheat, agreeing) = (seeds[0], seeds[1]);
		let appeal =
			|who: AccountId, seed: u8| Jobs::appeal(RuntimeOrigin::signed(who), job, worker(seed));
		// A member the quorum agreed with has no slash to appeal; nor has a job never decided.
		assert_noop!(appeal(operator(agreeing), agreeing), Error::<Test>::NotAppealable);
		assert_noop!(
			Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job + 1, worker(cheat)),
			Error::<Test>::NotAppealable
		);
		// Only its own operator.
		assert_noop!(appeal(USER, cheat), Error::<Test>::NotWorkersOperator);
		// A quorum's result is not challenged by others.
		assert_noop!(
			Jobs::challenge(RuntimeOrigin::signed(OTHER_USER), job, sp_core::H256::repeat_byte(1)),
			Error::<Test>::QuorumResultNotChallengeable
		);
		// The deposit must be there.
		let spendable = Balances::free_balance(operator(cheat)) - DEPOSIT + 1;
		Balances::burn_from(
			&operator(cheat),
			spendable,
			frame_support::traits::tokens::Preservation::Expendable,
			frame_support::traits::tokens::Precision::Exact,
			frame_support::traits::tokens::Fortitude::Force,
		)
		.unwrap();
		assert_noop!(appeal(operator(cheat), cheat), Error::<Test>::InsufficientDeposit);
		Balances::mint_into(&operator(cheat), 10_000).unwrap();

		assert_ok!(appeal(operator(cheat), cheat));
		assert_eq!(Appeals::<Test>::get(job), Some(worker(cheat)));
		assert_noop!(appeal(operator(cheat), cheat), Error::<Test>::AlreadyAppealed);
	});
}

#[test]
fn an_appeal_after_the_window_is_refused_and_the_slash_applied() {
	ExtBuilder.build_and_execute(|| {
		setup(7);
		let (job, seeds) = decide_quorum_with(&[0]);
		let cheat = seeds[0];
		let dispute_end = Decisions::<Test>::get(job).unwrap().dispute_end;
		run_to_block(dispute_end);
		assert_eq!(slashes(), vec![(worker(cheat), EXPOSURE, SlashReason::WrongResult)]);
		assert_noop!(
			Jobs::appeal(RuntimeOrigin::signed(operator(cheat)), job, worker(cheat)),
			Error::<Test>::AppealWindowClosed
		);
		// The findings kept for an appeal are gone with the window.
		assert_eq!(Parties::<Test>::iter_prefix(job).count(), 0);
		assert!(!Inputs::<Test>::contains_key(job));
	});
}

#[test]
fn a_majority_member_whose_key_left_is_still_slashed_when_an_appeal_overturns_it() {
	ExtBuilder.build_and_execute(|| {
		setup(7);
		let (job, seeds) = decide_quorum_with(&[0, 1]);
		let (cheats, honest) = ([seeds[0], seeds[1]], seeds[2]);
		// Paid at the decision, its assignment over: the key may leave at once.
		remove_worker(cheats[0]);
		assert_ok!(Jobs::appeal(RuntimeOrigin::signed(operator(honest)), job, worker(honest)));
		referee(job, HONEST);
		// Its operator's bond answers for it, as recorded when the quorum decided.
		assert_eq!(
			slashes(),
			vec![
				(worker(cheats[0]), EXPOSURE, SlashReason::WrongResult),
				(worker(cheats[1]), EXPOSURE, SlashReason::WrongResult),
			]
		);
		assert!(matches!(Jobs::result_status(job), Some(ResultStatus::Overturned { .. })));
	});
}

#[test]
fn no_operator_of_an_appealed_quorum_referees_it_even_through_another_key() {
	ExtBuilder.build_and_execute(|| {
		// Five operators: the quorum's three and two spare, one referee short.
		setup(5);
		let (job, seeds) = decide_quorum_with(&[0, 1]);
		let (cheats, honest) = ([seeds[0], seeds[1]], seeds[2]);
		// A majority member (not the canonical one) lets its key leave, and its operator
		// registers another one: the only way to make up three referees.
		remove_worker(cheats[1]);
		add_worker(8, operator(cheats[1]), 1_000, 4);
		serve(8, classifier());
		assert_ok!(Jobs::appeal(RuntimeOrigin::signed(operator(honest)), job, worker(honest)));
		run_to_block(System::block_number() + DELAY as u64);
		System::assert_has_event(
			Event::Refereed { job, outcome: RefereeOutcome::NoReferees, slashed: vec![] }.into(),
		);
	});
}
