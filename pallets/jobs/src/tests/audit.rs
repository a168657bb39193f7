//! Audited jobs and referee quorums: the blind audit, its rate, escalation to referees, and
//! what each side earns or loses.

use super::{quorum::*, *};
use crate::{
	AuditStage, Audits, CannotExecuteReason, Error, Event, JobState, Jobs as JobsMap, Quorums,
	RefereeCause, RefereeOutcome, Refund, Results, Reveals,
};
use codec::Encode;
use frame_support::{assert_noop, assert_ok, traits::fungible::Mutate};
use sp_runtime::Perbill;
use veritensor_primitives::{quorum::Verdict, traits::SlashReason};

const AUDITED: VerificationTerms = VerificationTerms::audited();

/// Submits an audited classifier job; returns its id.
pub(super) fn submit_audited() -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(USER),
		classifier(),
		image(7),
		AUDITED,
		FEE,
		QUORUM_DEADLINE,
	));
	id
}

/// Sets `job`'s audit rate: every audit drawn, or none.
fn force_audit(job: u64, audited: bool) {
	Audits::<Test>::mutate(job, |audit| {
		audit.as_mut().expect("an audited job").rate =
			if audited { Perbill::one() } else { Perbill::zero() };
	});
}

pub(super) fn pool() -> Balance {
	Balances::free_balance(Jobs::audit_pool())
}

pub(super) fn fund_pool(amount: Balance) {
	Balances::mint_into(&Jobs::audit_pool(), amount).unwrap();
}

fn quote() -> Balance {
	Jobs::quote(&classifier(), &AUDITED).unwrap().1
}

/// A garbage answer: class 0 claimed with scores far from the honest ones.
pub(super) const GARBAGE: [i32; 4] = [65_536, 0, 0, 0];

/// Honest float noise: beyond agreement (4 raw units), within the slash rule (64).
pub(super) const NOISY: [i32; 4] = [1_030, 2_000, 60_030, 2_536];

/// Runs `job` until its worker committed to a finding of `label` and `scores` and its audit
/// was decided; returns the worker's seed and its finding.
pub(super) fn commit_and_decide(
	job: u64,
	label: i64,
	scores: [i32; 4],
) -> (u8, crate::Finding<Test>) {
	run_to_block(1 + DELAY as u64);
	let seeds = members(job);
	assert_eq!(seeds.len(), 1, "one worker until the audit is decided");
	let original = seeds[0];
	let committed = finding(original, job, label, scores);
	commit(original, job, &committed);
	let at = System::block_number() + DELAY as u64;
	assert_eq!(Audits::<Test>::get(job).unwrap().stage, AuditStage::Deciding { at });
	run_to_block(at);
	(original, committed)
}

/// Runs audited `job` with its worker's finding of `worker` (label, scores) and its auditor's
/// of `auditor`, both committed and revealed; returns the two seeds and their findings.
pub(super) fn audit_and_reveal(
	job: u64,
	worker: (i64, [i32; 4]),
	auditor: (i64, [i32; 4]),
) -> (u8, u8, crate::Finding<Test>, crate::Finding<Test>) {
	let (original, theirs) = commit_and_decide(job, worker.0, worker.1);
	let checker = members(job)[1];
	let checked = finding(checker, job, auditor.0, auditor.1);
	commit(checker, job, &checked);
	reveal(original, job, &theirs);
	reveal(checker, job, &checked);
	(original, checker, theirs, checked)
}

/// Draws `job`'s referees and has each commit to and reveal `scores` (class 2); returns their
/// seeds.
pub(super) fn referee(job: u64, scores: [i32; 4]) -> Vec<u8> {
	run_to_block(draw_at(job));
	let referees = members(job);
	assert_eq!(referees.len(), 3);
	let findings: Vec<_> = referees.iter().map(|seed| finding(*seed, job, 2, scores)).collect();
	commit_and_reveal(job, &findings);
	referees
}

/// The block escalated `job`'s referees are drawn in.
pub(super) fn draw_at(job: u64) -> u64 {
	match JobsMap::<Test>::get(job).unwrap().state {
		JobState::Escalated { draw_at } => draw_at,
		state => panic!("not escalated: {state:?}"),
	}
}

/// The output of a finding.
fn output_of(finding: &crate::Finding<Test>) -> crate::Payload<Test> {
	let crate::Finding::Output { output, .. } = finding else { unreachable!("an output") };
	output.clone()
}

#[test]
fn an_unaudited_job_settles_on_its_workers_word_and_pays_the_premium_into_the_pool() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		let before = Balances::free_balance(USER);
		let job = submit_audited();
		let (rate, premium) = Jobs::audit_premium(PRICE);
		assert_eq!(Jobs::audit_rate(&classifier()), Some(rate));
		assert_eq!(Audits::<Test>::get(job).unwrap().premium, premium);
		assert_eq!(quote(), cost(1) + premium, "one worker's price and the premium ({rate:?})");
		force_audit(job, false);

		run_to_block(1 + DELAY as u64);
		let original = members(job)[0];
		let honest = finding(original, job, 2, HONEST);
		commit(original, job, &honest);
		// Nothing can be revealed until the audit is decided.
		assert!(!Quorums::<Test>::get(job).unwrap().reveals_open);
		assert!(in_pool(&reveal_call(original, job, &honest)).is_err());
		let at = System::block_number() + DELAY as u64;
		run_to_block(at - 1);
		assert!(!Quorums::<Test>::get(job).unwrap().reveals_open);
		run_to_block(at);
		System::assert_has_event(Event::AuditDecided { job, audited: false, auditor: None }.into());
		assert_eq!(members(job), vec![original], "no auditor");

		let pool_before = pool();
		reveal(original, job, &honest);
		let result = Results::<Test>::get(job).expect("settled at the reveal");
		assert_eq!(result.worker, worker(original));
		assert!(result.single_worker);
		assert_eq!(earned(original), 0, "held while the result is provisional");
		run_past_window();
		assert_eq!(Jobs::result_status(job), Some(crate::ResultStatus::Final));
		assert_eq!(earned(original), PRICE);
		assert_eq!(pool(), pool_before + premium);
		assert_eq!(Balances::free_balance(USER), before - quote());
		assert!(Audits::<Test>::get(job).is_none());
		assert!(slashes().is_empty());
	});
}

#[test]
fn an_auditor_commits_blind_and_a_consistent_audit_pays_both_workers() {
	ExtBuilder.build_and_execute(|| {
		AuditRateFloor::set(Perbill::one());
		setup(5);
		let before = Balances::free_balance(USER);
		let job = submit_audited();
		assert_eq!(Audits::<Test>::get(job).unwrap().rate, Perbill::one());
		let (original, honest) = commit_and_decide(job, 2, HONEST);
		let seeds = members(job);
		assert_eq!(seeds.len(), 2);
		let auditor = seeds[1];
		assert_ne!(operator(auditor), operator(original), "of another operator");
		System::assert_has_event(
			Event::AuditDecided { job, audited: true, auditor: Some(worker(auditor)) }.into(),
		);

		// The worker's output stays behind its commitment until the auditor has committed: no
		// reveal is taken, in the pool or in a block.
		let refused = Err(sp_runtime::transaction_validity::InvalidTransaction::Custom(
			Error::<Test>::RevealsNotOpen.encode()[0],
		)
		.into());
		assert_eq!(in_pool(&reveal_call(original, job, &honest)), refused);
		assert!(land(reveal_call(original, job, &honest)).is_err());
		assert_eq!(Reveals::<Test>::iter_prefix(job).count(), 0);
		let noisy = finding(auditor, job, 2, NOISY);
		commit(auditor, job, &noisy);
		assert!(Quorums::<Test>::get(job).unwrap().reveals_open);

		let pool_before = pool();
		reveal(original, job, &honest);
		reveal(auditor, job, &noisy);
		// Within the slash rule: honest float noise does not escalate.
		System::assert_has_event(
			Event::AuditEnded { job, auditor: worker(auditor), checked: true }.into(),
		);
		let result = Results::<Test>::get(job).expect("settled");
		assert_eq!(result.worker, worker(original));
		assert_eq!(earned(auditor), PRICE, "the auditor is paid from the pool");
		assert_eq!(earned(original), 0, "held while the result is provisional");
		run_past_window();
		assert_eq!(earned(original), PRICE);
		assert_eq!(pool(), pool_before + PRICE - PRICE, "the premium in, the auditor out");
		assert_eq!(Balances::free_balance(USER), before - quote());
		assert!(slashes().is_empty());
		assert_eq!((worker_open(original), worker_open(auditor)), (0, 0));
	});
}

#[test]
fn a_cheating_worker_caught_by_an_audit_is_slashed_and_the_user_gets_the_referees_answer_free() {
	ExtBuilder.build_and_execute(|| {
		AuditRateFloor::set(Perbill::one());
		setup(6);
		fund_pool(10_000);
		let before = Balances::free_balance(USER);
		let job = submit_audited();
		let (original, auditor, _, honest) = audit_and_reveal(job, (0, GARBAGE), (2, HONEST));

		let draw_at = System::block_number() + DELAY as u64;
		System::assert_has_event(
			Event::Escalated {
				job,
				cause: RefereeCause::AuditContradicted,
				parties: vec![worker(original), worker(auditor)],
				draw_at,
			}
			.into(),
		);
		assert!(Results::<Test>::get(job).is_none(), "nothing settles on the contradicted word");
		// Both parties' exposure stays covered until the referees decide.
		assert_eq!((worker_open(original), worker_open(auditor)), (1, 1));

		let pool_before = pool();
		let expected = output_of(&honest);
		let referees = referee(job, HONEST);
		for seed in &referees {
			assert!(![original, auditor].contains(seed), "referees took no part in the job");
		}
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: false },
				slashed: vec![(worker(original), EXPOSURE)],
			}
			.into(),
		);
		assert_eq!(slashes(), vec![(worker(original), EXPOSURE, SlashReason::WrongResult)]);
		// The user gets the referees' answer and pays nothing.
		let result = Results::<Test>::get(job).expect("the canonical answer is stored");
		assert_eq!(result.worker, worker(referees[0]));
		assert_eq!(result.output, expected);
		assert_eq!(Balances::free_balance(USER), before);
		assert_eq!(escrow_held(USER), 0);
		// The cheater earns nothing; the auditor and the referees are paid from the pool, which
		// got the slash's bounty.
		assert_eq!(earned(original), 0);
		assert_eq!(earned(auditor), PRICE);
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
		assert_eq!(pool(), pool_before + REPORTER_BOUNTY * EXPOSURE - 4 * PRICE);
		for seed in [original, auditor].iter().chain(&referees) {
			assert_eq!(worker_open(*seed), 0);
		}
	});
}

#[test]
fn a_lying_auditor_is_slashed_and_the_honest_worker_settles() {
	ExtBuilder.build_and_execute(|| {
		AuditRateFloor::set(Perbill::one());
		setup(6);
		fund_pool(10_000);
		let before = Balances::free_balance(USER);
		let job = submit_audited();
		let (original, auditor, _, _) = audit_and_reveal(job, (2, HONEST), (0, GARBAGE));
		let referees = referee(job, NOISY);
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: true },
				slashed: vec![(worker(auditor), EXPOSURE)],
			}
			.into(),
		);
		assert_eq!(slashes(), vec![(worker(auditor), EXPOSURE, SlashReason::WrongResult)]);
		let result = Results::<Test>::get(job).expect("settled");
		assert_eq!(result.worker, worker(original), "the worker's own output stands");
		assert_eq!(earned(original), PRICE);
		assert_eq!(earned(auditor), 0);
		assert_eq!(Balances::free_balance(USER), before - quote());
	});
}

#[test]
fn an_auditor_that_never_commits_is_a_no_show_and_the_worker_settles_unchecked() {
	ExtBuilder.build_and_execute(|| {
		AuditRateFloor::set(Perbill::one());
		setup(5);
		let job = submit_audited();
		let (original, honest) = commit_and_decide(job, 2, HONEST);
		let auditor = members(job)[1];
		// Replaced once by another operator's worker, which does not commit either.
		run_to_block(Quorums::<Test>::get(job).unwrap().commit_end);
		let replacement = members(job)[1];
		assert!(![original, auditor].contains(&replacement));
		run_to_block(Quorums::<Test>::get(job).unwrap().commit_end);
		assert_eq!(
			slashes(),
			vec![
				(worker(auditor), NO_SHOW_SLASH, SlashReason::NoShow),
				(worker(replacement), NO_SHOW_SLASH, SlashReason::NoShow)
			]
		);
		assert!(Quorums::<Test>::get(job).unwrap().reveals_open);
		reveal(original, job, &honest);
		System::assert_has_event(
			Event::AuditEnded { job, auditor: worker(replacement), checked: false }.into(),
		);
		assert_eq!(Results::<Test>::get(job).unwrap().worker, worker(original));
		run_past_window();
		assert_eq!(earned(original), PRICE);
		assert_eq!((earned(auditor), earned(replacement)), (0, 0));
	});
}

#[test]
fn a_split_quorum_is_decided_by_referees_and_pays_the_members_they_agree_with_and_them() {
	ExtBuilder.build_and_execute(|| {
		setup(6);
		fund_pool(10_000);
		let before = Balances::free_balance(USER);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		// Pairwise 30 raw units apart: beyond agreement, within the slash rule.
		let scores = |third: i32| [0, 0, third, 0];
		let findings: Vec<_> = seeds
			.iter()
			.zip([60_000, 60_030, 60_060])
			.map(|(seed, third)| finding(*seed, job, 2, scores(third)))
			.collect();
		commit_and_reveal(job, &findings);
		assert_eq!(verdicts(job), vec![Verdict::Differed; 3]);
		let draw_at = System::block_number() + DELAY as u64;
		System::assert_has_event(
			Event::Escalated {
				job,
				cause: RefereeCause::QuorumSplit,
				parties: seeds.iter().map(|seed| worker(*seed)).collect(),
				draw_at,
			}
			.into(),
		);
		let referees = referee(job, scores(60_001));
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: true },
				slashed: vec![],
			}
			.into(),
		);
		assert!(slashes().is_empty(), "honest float noise is never slashed");
		assert_eq!(Results::<Test>::get(job).unwrap().worker, worker(seeds[0]));
		assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(seeds[2])), (PRICE, 0, 0));
		// The job pays its three shares: the member the referees agree with, and two referees;
		// the third referee is paid from the pool.
		assert_eq!(Balances::free_balance(USER), before - cost(3));
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
	});
}

#[test]
fn a_split_quorum_without_spare_operators_is_refunded_less_the_minimum_fee() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let before = Balances::free_balance(USER);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let findings: Vec<_> = seeds
			.iter()
			.zip([60_000, 60_030, 60_060])
			.map(|(seed, third)| finding(*seed, job, 2, [0, 0, third, 0]))
			.collect();
		commit_and_reveal(job, &findings);
		run_to_block(System::block_number() + DELAY as u64);
		System::assert_has_event(
			Event::Refereed { job, outcome: RefereeOutcome::NoReferees, slashed: vec![] }.into(),
		);
		System::assert_has_event(
			Event::Refunded {
				job,
				submitter: USER,
				amount: FEE - MIN_FEE,
				kept: MIN_FEE,
				reason: Refund::Unresolved,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(USER), before - MIN_FEE);
		assert!(slashes().is_empty());
		for seed in seeds {
			assert_eq!((earned(seed), worker_open(seed)), (0, 0));
		}
	});
}

#[test]
fn audited_terms_are_checked() {
	ExtBuilder.build_and_execute(|| {
		setup(4);
		// An audit needs five operators: the worker, the auditor and three referees.
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				classifier(),
				image(7),
				AUDITED,
				FEE,
				QUORUM_DEADLINE
			),
			Error::<Test>::NotEnoughWorkers
		);
		add_worker(5, operator(5), 1_000, 4);
		serve(5, classifier());
		let three = VerificationTerms { replicas: 3, audited: true };
		assert_eq!(Jobs::quote(&classifier(), &three), None);
		assert_noop!(
			Jobs::submit(RuntimeOrigin::signed(USER), classifier(), image(7), three, FEE, 30),
			Error::<Test>::UnsupportedK
		);
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				classifier(),
				image(7),
				AUDITED,
				FEE,
				MIN_QUORUM_DEADLINE - 1
			),
			Error::<Test>::DeadlineTooSoon
		);
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				classifier(),
				image(7),
				AUDITED,
				quote() - 1,
				QUORUM_DEADLINE
			),
			Error::<Test>::FeeTooLow
		);
	});
}

/// A worker that skips the work and answers anything keeps its price when not audited and
/// loses the slash when audited: with the runtime's own rate, that loses in expectation, for
/// every price, slash and floor.
#[test]
fn cheating_loses_in_expectation_at_the_runtimes_audit_rate() {
	let prices = [1u128, 7, 100, 1_000, 1_000_000, 10u128.pow(12), 10u128.pow(18)];
	let slashes = [1u128, 3, 100, 10_000, 10u128.pow(8), 10u128.pow(14), 10u128.pow(20)];
	let floors = [0, 1, 10, 50, 100].map(Perbill::from_percent);
	let parts = 1_000_000_000u128;
	for price in prices {
		for slash in slashes {
			for floor in floors {
				let rate = veritensor_primitives::audit_rate(price, slash, floor);
				assert!(rate >= floor);
				let caught = rate.deconstruct() as u128;
				// Scaled by a billion: (1 − p)·price − p·slash < 0.
				let gain = (parts - caught) * price;
				let loss = caught * slash;
				assert!(gain < loss, "price {price}, slash {slash}, floor {floor:?}: p = {rate:?}");
			}
		}
	}
	// The pallet quotes the same rate, with the slash its audits take (an assignment's exposure).
	ExtBuilder.build_and_execute(|| {
		for price in [1, 50, PRICE, 10_000] {
			for floor in floors {
				AuditRateFloor::set(floor);
				let rate = Jobs::audit_premium(price).0;
				assert_eq!(rate, veritensor_primitives::audit_rate(price, EXPOSURE, floor));
				let caught = rate.deconstruct() as u128;
				assert!((parts - caught) * price < caught * EXPOSURE);
			}
		}
	});
}

/// A submitter whose quorum all abstain (an input it served to nobody, say) must not get the
/// referees' answer for nothing: the job pays its quorum's price to the referees.
#[test]
fn a_quorum_split_by_abstentions_pays_the_referees_for_their_answer() {
	ExtBuilder.build_and_execute(|| {
		setup(6);
		let before = Balances::free_balance(USER);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let unavailable =
			crate::Finding::CannotExecute { reason: CannotExecuteReason::InputUnavailable };
		commit_and_reveal(job, &vec![unavailable; 3]);
		assert_eq!(verdicts(job), vec![Verdict::Abstained; 3]);
		let pool_before = pool();
		let referees = referee(job, HONEST);
		System::assert_has_event(
			Event::Refereed {
				job,
				outcome: RefereeOutcome::Decided { canonical: worker(referees[0]), upheld: false },
				slashed: vec![],
			}
			.into(),
		);
		assert_eq!(Results::<Test>::get(job).unwrap().worker, worker(referees[0]));
		assert_eq!(Balances::free_balance(USER), before - cost(3), "the quorum's price");
		for seed in &referees {
			assert_eq!(earned(*seed), PRICE);
		}
		assert_eq!(pool(), pool_before, "the pool paid nothing");
		for seed in seeds {
			assert_eq!((earned(seed), worker_open(seed)), (0, 0));
		}
	});
}
