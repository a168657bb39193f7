//! Quorum jobs: commit, reveal, the comparison per output tensor, payments, deferred slashes
//! and disputes.

use super::*;
use crate::{
	Answer, CannotExecuteReason, Decisions, Error, Event, Finding, JobState, Jobs as JobsMap,
	Payload, Quorums, Refund, Submission,
};
use frame_support::{assert_noop, assert_ok};
use sp_core::H256;
use veritensor_primitives::{
	hashing::commitment,
	quorum::Verdict,
	tensor::{ElementType, TensorSpec},
	traits::{Outcome, SlashReason},
	ComparisonRule, IoSchema, ModelHash, OutputRule, Tensor,
};

/// Operator of worker `seed`: each worker its own operator.
pub(super) fn operator(seed: u8) -> AccountId {
	100 + seed as AccountId
}

/// A classifier: a label and four class scores (fixed point, 16 fraction bits) out.
pub(super) fn classifier() -> ModelHash {
	ModelHash::repeat_byte(0xc1)
}

pub(super) fn classifier_schema() -> IoSchema {
	let spec = |name: &str, elem, shape: &[u32], frac_bits| TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
	};
	IoSchema {
		inputs: vec![spec("input", ElementType::U8, &[1, 64], 0)].try_into().unwrap(),
		outputs: vec![
			spec("label", ElementType::I64, &[1], 0),
			spec("scores", ElementType::F32, &[1, 4], 16),
		]
		.try_into()
		.unwrap(),
	}
}

/// Lists the classifier (label the argmax of the scores; scores agree within 4 raw units and are
/// wrong beyond 64) and adds `workers` workers of distinct operators serving it.
pub(super) fn setup(workers: u8) {
	list(classifier(), classifier_schema());
	set_rule(
		classifier(),
		ComparisonRule::PerOutput(
			vec![OutputRule::ArgMaxOf(1), OutputRule::Tolerance { agree: 4, slash: 64 }]
				.try_into()
				.unwrap(),
		),
	);
	for seed in 1..=workers {
		add_worker(seed, operator(seed), 1_000, 4);
		serve(seed, classifier());
	}
}

pub(super) const QUORUM_DEADLINE: u64 = 20;
pub(super) const FEE: Balance = 10_000;

/// Submits a classifier job of `k` workers; returns its id.
pub(super) fn submit_quorum(k: u32) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(USER),
		classifier(),
		image(7),
		VerificationTerms::quorum(k),
		FEE,
		QUORUM_DEADLINE,
	));
	id
}

/// The seeds of `job`'s members, in draw order.
pub(super) fn members(job: u64) -> Vec<u8> {
	let JobState::Assigned { workers, .. } = JobsMap::<Test>::get(job).unwrap().state else {
		panic!("job {job} is not assigned");
	};
	workers.iter().map(|key| (1..=9).find(|seed| worker(*seed) == *key).unwrap()).collect()
}

pub(super) fn tensor(
	elem: ElementType,
	shape: &[u32],
	frac_bits: u8,
	bytes: Vec<u8>,
) -> Tensor<_Bytes> {
	Tensor {
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
		data: bytes.try_into().unwrap(),
	}
}

pub(super) type _Bytes = <Test as crate::Config>::MaxInlineTensorBytes;

/// The classifier's output `label` and `scores`.
pub(super) fn classified(label: i64, scores: [i32; 4]) -> crate::InlineTensors<Test> {
	vec![
		tensor(ElementType::I64, &[1], 0, label.to_le_bytes().to_vec()),
		tensor(
			ElementType::F32,
			&[1, 4],
			16,
			scores.iter().flat_map(|score| score.to_le_bytes()).collect(),
		),
	]
	.try_into()
	.unwrap()
}

/// Worker `seed`'s finding for `job`: `label` and `scores`, its receipt signed.
pub(super) fn finding(seed: u8, job: u64, label: i64, scores: [i32; 4]) -> Finding<Test> {
	let output = Payload::Inline(classified(label, scores));
	let signature = sign(seed, job, &output);
	Finding::Output { output, signature }
}

/// An honest finding: class 2 wins.
pub(super) const HONEST: [i32; 4] = [1_000, 2_000, 60_000, 2_536];

pub(super) fn salt(seed: u8) -> [u8; 32] {
	[seed.wrapping_mul(31); 32]
}

pub(super) fn commitment_of(seed: u8, job: u64, finding: &Finding<Test>) -> H256 {
	commitment(&System::block_hash(0), job, &worker(seed), finding, &salt(seed))
}

pub(super) fn commit_call(seed: u8, job: u64, finding: &Finding<Test>) -> crate::Call<Test> {
	let commitment = commitment_of(seed, job, finding);
	answers_call(seed, vec![Submission { job, answer: Answer::Commit { commitment } }])
}

pub(super) fn reveal_call(seed: u8, job: u64, finding: &Finding<Test>) -> crate::Call<Test> {
	let answer = Answer::Reveal { finding: finding.clone(), salt: salt(seed) };
	answers_call(seed, vec![Submission { job, answer }])
}

pub(super) fn commit(seed: u8, job: u64, finding: &Finding<Test>) {
	let call = commit_call(seed, job, finding);
	in_pool(&call).expect("the pool takes the commitment");
	assert_ok!(land(call).expect("the block takes it"));
}

pub(super) fn reveal(seed: u8, job: u64, finding: &Finding<Test>) {
	let call = reveal_call(seed, job, finding);
	in_pool(&call).expect("the pool takes the reveal");
	assert_ok!(land(call).expect("the block takes it"));
}

/// Every member of `job` commits to its finding in `findings` (by member), then reveals it.
pub(super) fn commit_and_reveal(job: u64, findings: &[Finding<Test>]) {
	let seeds = members(job);
	for (seed, finding) in seeds.iter().zip(findings) {
		commit(*seed, job, finding);
	}
	for (seed, finding) in seeds.iter().zip(findings) {
		reveal(*seed, job, finding);
	}
}

pub(super) fn verdicts(job: u64) -> Vec<Verdict> {
	Decisions::<Test>::get(job).expect("decided").verdicts.iter().map(|(_, v)| *v).collect()
}

pub(super) fn earned(seed: u8) -> Balance {
	crate::Claimable::<Test>::get(operator(seed)).unwrap_or(0)
}

pub(super) fn quorum_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Jobs(event) => Some(event),
			_ => None,
		})
		.collect()
}

/// The cost of a classifier job of `k` workers, as quoted.
pub(super) fn cost(k: u32) -> Balance {
	Jobs::quote(&classifier(), &VerificationTerms::quorum(k)).unwrap().1
}

#[test]
fn an_honest_quorum_of_three_is_paid_and_settles_at_its_last_reveal() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		// k times the price, the royalty, the fee and the result's storage.
		let quote = cost(3);
		assert_eq!(
			Jobs::quote(&classifier(), &VerificationTerms::quorum(3)).unwrap().0.per_worker,
			PRICE
		);
		assert!(quote > 3 * PRICE + ROYALTY);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		assert_eq!(seeds.len(), 3);
		let findings: Vec<_> = seeds.iter().map(|s| finding(*s, job, 2, HONEST)).collect();
		// Slightly different float noise: within agreement.
		let noisy = finding(seeds[1], job, 2, [1_001, 2_000, 59_997, 2_536]);
		commit(seeds[0], job, &findings[0]);
		commit(seeds[1], job, &noisy);
		assert!(!Quorums::<Test>::get(job).unwrap().reveals_open);
		commit(seeds[2], job, &findings[2]);
		assert!(Quorums::<Test>::get(job).unwrap().reveals_open);
		System::assert_has_event(Event::RevealsOpened { job, committed: 3 }.into());
		reveal(seeds[0], job, &findings[0]);
		reveal(seeds[1], job, &noisy);
		let before = Balances::free_balance(USER);
		reveal(seeds[2], job, &findings[2]);

		assert!(JobsMap::<Test>::get(job).is_none(), "settled at the last reveal");
		let result = crate::Results::<Test>::get(job).unwrap();
		assert_eq!(result.worker, worker(seeds[0]));
		assert!(!result.single_worker);
		assert_eq!(verdicts(job), vec![Verdict::Agreed; 3]);
		for seed in &seeds {
			assert_eq!(earned(*seed), PRICE);
		}
		assert_eq!(Balances::free_balance(USER), before + FEE - quote);
		assert_eq!(escrow_held(USER), 0);
		assert!(slashes().is_empty());
		// Nothing to apply when the dispute window ends.
		run_to_block(System::block_number() + DISPUTE_WINDOW + 1);
		assert!(slashes().is_empty());
	});
}

#[test]
fn an_honest_quorum_of_five_is_paid() {
	ExtBuilder.build_and_execute(|| {
		setup(5);
		let job = submit_quorum(5);
		run_to_block(1 + DELAY as u64);
		let findings: Vec<_> = members(job).iter().map(|s| finding(*s, job, 2, HONEST)).collect();
		commit_and_reveal(job, &findings);
		assert_eq!(verdicts(job), vec![Verdict::Agreed; 5]);
		for seed in 1..=5 {
			assert_eq!(earned(seed), PRICE);
		}
		assert_eq!(escrow_held(USER), 0);
	});
}

#[test]
fn one_wrong_member_of_three_is_slashed_after_the_window_and_the_other_two_settle() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		// Class 0 claimed, with scores far from the honest ones (a garbage answer).
		let wrong = finding(seeds[0], job, 0, [65_536, 0, 0, 0]);
		let findings =
			vec![wrong, finding(seeds[1], job, 2, HONEST), finding(seeds[2], job, 2, HONEST)];
		let before = Balances::free_balance(USER);
		commit_and_reveal(job, &findings);

		assert_eq!(verdicts(job), vec![Verdict::Wrong, Verdict::Agreed, Verdict::Agreed]);
		let result = crate::Results::<Test>::get(job).unwrap();
		assert_eq!(result.worker, worker(seeds[1]), "the canonical answer is the honest one");
		// The result stays open to the wrong member's appeal until the window ends: the
		// agreeing members' earnings are held until then.
		assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(seeds[2])), (0, 0, 0));
		assert!(matches!(
			Jobs::result_status(job),
			Some(crate::ResultStatus::Provisional { challenged: false, .. })
		));
		// The wrong member's share goes back to the submitter.
		assert_eq!(Balances::free_balance(USER), before + FEE - (cost(3) - PRICE));
		// Not slashed yet: its exposure stays covered until the dispute window ends.
		assert!(slashes().is_empty());
		assert_eq!(worker_open(seeds[0]), 1);
		assert_eq!((worker_open(seeds[1]), worker_open(seeds[2])), (0, 0));
		let dispute_end = Decisions::<Test>::get(job).unwrap().dispute_end;
		run_to_block(dispute_end - 1);
		assert!(slashes().is_empty());
		run_to_block(dispute_end);
		assert_eq!(slashes(), vec![(worker(seeds[0]), EXPOSURE, SlashReason::WrongResult)]);
		assert_eq!(worker_open(seeds[0]), 0);
		assert!(outcomes().contains(&(worker(seeds[0]), Outcome::Missed)));
		System::assert_has_event(
			Event::QuorumSlashesApplied { job, slashed: vec![(worker(seeds[0]), EXPOSURE)] }.into(),
		);
		// Slashes go to the treasury through worker staking: the agreeing members earn their
		// price, nothing more.
		assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(seeds[2])), (0, PRICE, PRICE));
		assert_eq!(Jobs::result_status(job), Some(crate::ResultStatus::Final));
	});
}

#[test]
fn a_wrong_label_with_correct_scores_is_slashed() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		// The honest scores with another label: provably wrong, whatever the others say.
		let lying = finding(seeds[2], job, 3, HONEST);
		let findings =
			vec![finding(seeds[0], job, 2, HONEST), finding(seeds[1], job, 2, HONEST), lying];
		commit_and_reveal(job, &findings);
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Agreed, Verdict::Wrong]);
		run_to_block(System::block_number() + DISPUTE_WINDOW);
		assert_eq!(slashes(), vec![(worker(seeds[2]), EXPOSURE, SlashReason::WrongResult)]);
	});
}

#[test]
fn an_honest_near_tie_label_flip_is_neither_paid_nor_slashed() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let tie = [1_000, 30_000, 30_001, 0];
		let flipped = [1_000, 30_001, 30_000, 0];
		let findings = vec![
			finding(seeds[0], job, 2, tie),
			finding(seeds[1], job, 1, flipped),
			finding(seeds[2], job, 2, tie),
		];
		commit_and_reveal(job, &findings);
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Differed, Verdict::Agreed]);
		assert_eq!(earned(seeds[1]), 0);
		run_to_block(System::block_number() + DISPUTE_WINDOW + 1);
		assert!(slashes().is_empty());
		assert_eq!(worker_open(seeds[1]), 0);
	});
}

#[test]
fn a_commitment_never_revealed_is_slashed_and_the_others_settle_at_the_deadline() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let findings: Vec<_> = seeds.iter().map(|s| finding(*s, job, 2, HONEST)).collect();
		for (seed, finding) in seeds.iter().zip(&findings) {
			commit(*seed, job, finding);
		}
		reveal(seeds[0], job, &findings[0]);
		reveal(seeds[1], job, &findings[1]);
		assert!(JobsMap::<Test>::get(job).is_some(), "waits for the last reveal");
		let deadline = JobsMap::<Test>::get(job).unwrap().deadline;
		run_to_block(deadline + 1);
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Agreed, Verdict::Unrevealed]);
		assert!(crate::Results::<Test>::contains_key(job));
		assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(seeds[2])), (PRICE, PRICE, 0));
		run_to_block(deadline + 1 + DISPUTE_WINDOW);
		assert_eq!(slashes(), vec![(worker(seeds[2]), EXPOSURE, SlashReason::CommitWithoutReveal)]);
	});
}

#[test]
fn abstentions_are_neither_paid_nor_slashed_and_count_as_refusals() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let abstain = Finding::CannotExecute { reason: CannotExecuteReason::ModelUnavailable };
		let findings =
			vec![finding(seeds[0], job, 2, HONEST), abstain, finding(seeds[2], job, 2, HONEST)];
		commit_and_reveal(job, &findings);
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Abstained, Verdict::Agreed]);
		assert_eq!((earned(seeds[0]), earned(seeds[1]), earned(seeds[2])), (PRICE, 0, PRICE));
		assert!(counted_answers().contains(&(worker(seeds[1]), true)));
		assert!(outcomes().contains(&(worker(seeds[1]), Outcome::Failed)));
		run_to_block(System::block_number() + DISPUTE_WINDOW + 1);
		assert!(slashes().is_empty());
	});
}

#[test]
fn a_cannot_execute_majority_refunds_the_job_and_slashes_no_output() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		// Pinned to one engine: an input it refuses is a fact of the job, and votes.
		pin(classifier(), veritensor_primitives::Engine::Interpreter, "1");
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let bad = Finding::CannotExecute { reason: CannotExecuteReason::BadInput };
		let findings = vec![bad.clone(), finding(seeds[1], job, 2, HONEST), bad];
		commit_and_reveal(job, &findings);
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Differed, Verdict::Agreed]);
		System::assert_has_event(
			Event::Refunded {
				job,
				submitter: USER,
				amount: FEE - MIN_FEE,
				kept: MIN_FEE,
				reason: Refund::CannotExecute(CannotExecuteReason::BadInput),
			}
			.into(),
		);
		run_to_block(System::block_number() + DISPUTE_WINDOW + 1);
		assert!(slashes().is_empty());
		assert!(seeds.iter().all(|seed| earned(*seed) == 0));
	});
}

#[test]
fn reveals_are_refused_before_they_open_or_when_they_do_not_match() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let findings: Vec<_> = seeds.iter().map(|s| finding(*s, job, 2, HONEST)).collect();
		// A quorum job takes no direct answer; a single-worker job no commitment.
		let Finding::Output { output, signature } = findings[0].clone() else { unreachable!() };
		let direct = answers_call(
			seeds[0],
			vec![Submission { job, answer: Answer::Output { output, signature } }],
		);
		assert_eq!(in_pool(&direct), Err(refused(Error::<Test>::MustCommit)));

		commit(seeds[0], job, &findings[0]);
		// Committed twice.
		assert!(in_pool(&commit_call(seeds[0], job, &findings[0])).is_err());
		// Reveals are not open while a member may still commit: nobody can copy.
		assert_eq!(
			in_pool(&reveal_call(seeds[0], job, &findings[0])),
			Err(refused(Error::<Test>::RevealsNotOpen))
		);
		commit(seeds[1], job, &findings[1]);
		commit(seeds[2], job, &findings[2]);
		// Another finding than the one committed to, or another salt.
		let other = finding(seeds[0], job, 1, [0, 65_536, 0, 0]);
		assert_eq!(
			in_pool(&reveal_call(seeds[0], job, &other)),
			Err(refused(Error::<Test>::RevealMismatch))
		);
		let wrong_salt = answers_call(
			seeds[0],
			vec![Submission {
				job,
				answer: Answer::Reveal { finding: findings[0].clone(), salt: [0; 32] },
			}],
		);
		assert_eq!(in_pool(&wrong_salt), Err(refused(Error::<Test>::RevealMismatch)));
		// Another member's commitment cannot be revealed as one's own.
		assert_eq!(
			in_pool(&reveal_call(seeds[1], job, &findings[0])),
			Err(refused(Error::<Test>::RevealMismatch))
		);
		reveal(seeds[0], job, &findings[0]);
		// Once revealed, again: stale.
		assert!(in_pool(&reveal_call(seeds[0], job, &findings[0])).is_err());

		// A single-worker job takes no commitment.
		add_worker(9, 900, 1_000, 4);
		let single = submit(USER, 3, 200);
		run_to_block(System::block_number() + DELAY as u64);
		let seed = members(single)[0];
		let call = commit_call(seed, single, &findings[0]);
		assert_eq!(in_pool(&call), Err(refused(Error::<Test>::NotQuorumJob)));
	});
}

#[test]
fn a_no_show_is_slashed_and_replaced_once_by_another_operator() {
	ExtBuilder.build_and_execute(|| {
		setup(4);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let spare = (1..=4).find(|seed| !seeds.contains(seed)).unwrap();
		// Receipt signatures are randomised: a member keeps the finding it committed to.
		let (first, third) = (finding(seeds[0], job, 2, HONEST), finding(seeds[2], job, 2, HONEST));
		commit(seeds[0], job, &first);
		commit(seeds[2], job, &third);
		let commit_end = Quorums::<Test>::get(job).unwrap().commit_end;
		run_to_block(commit_end);
		assert_eq!(slashes(), vec![(worker(seeds[1]), NO_SHOW_SLASH, SlashReason::NoShow)]);
		assert_eq!(members(job), vec![seeds[0], spare, seeds[2]]);
		let quorum = Quorums::<Test>::get(job).unwrap();
		assert!(quorum.replaced && !quorum.reveals_open);
		assert_eq!(quorum.commit_end, commit_end + COMMIT_WINDOW as u64);
		// The replaced no-show can no longer answer: it has nothing assigned.
		let late = commit_call(seeds[1], job, &finding(seeds[1], job, 2, HONEST));
		assert_eq!(
			in_pool(&late),
			Err(sp_runtime::transaction_validity::InvalidTransaction::Stale.into())
		);

		let fresh = finding(spare, job, 2, HONEST);
		commit(spare, job, &fresh);
		assert!(Quorums::<Test>::get(job).unwrap().reveals_open);
		reveal(seeds[0], job, &first);
		reveal(spare, job, &fresh);
		reveal(seeds[2], job, &third);
		assert_eq!(verdicts(job), vec![Verdict::Agreed; 3]);
		assert_eq!((earned(seeds[0]), earned(spare), earned(seeds[2])), (PRICE, PRICE, PRICE));
		assert_eq!(earned(seeds[1]), 0);
	});
}

#[test]
fn without_a_spare_operator_reveals_open_with_the_members_that_committed() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let findings: Vec<_> = seeds.iter().map(|s| finding(*s, job, 2, HONEST)).collect();
		commit(seeds[0], job, &findings[0]);
		commit(seeds[1], job, &findings[1]);
		run_to_block(Quorums::<Test>::get(job).unwrap().commit_end);
		System::assert_has_event(Event::RevealsOpened { job, committed: 2 }.into());
		reveal(seeds[0], job, &findings[0]);
		reveal(seeds[1], job, &findings[1]);
		// Two of three agree: a strict majority.
		assert_eq!(verdicts(job), vec![Verdict::Agreed, Verdict::Agreed, Verdict::NoShow]);
		assert!(crate::Results::<Test>::contains_key(job));
		assert_eq!(slashes(), vec![(worker(seeds[2]), NO_SHOW_SLASH, SlashReason::NoShow)]);
	});
}

#[test]
fn a_quorum_nobody_commits_to_is_refunded_in_full_and_every_member_slashed_once() {
	ExtBuilder.build_and_execute(|| {
		setup(3);
		let job = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let seeds = members(job);
		let before = Balances::free_balance(USER);
		run_to_block(Quorums::<Test>::get(job).unwrap().commit_end);
		assert!(JobsMap::<Test>::get(job).is_none());
		assert_eq!(Balances::free_balance(USER), before + FEE);
		let slashed = slashes();
		assert_eq!(slashed.len(), 3);
		for seed in &seeds {
			assert!(slashed.contains(&(worker(*seed), NO_SHOW_SLASH, SlashReason::NoShow)));
		}
		assert!(seeds.iter().all(|seed| worker_open(*seed) == 0));
	});
}

#[test]
fn quorum_submissions_are_checked() {
	ExtBuilder.build_and_execute(|| {
		setup(2);
		// Two operators cannot make a quorum of three.
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				classifier(),
				image(1),
				VerificationTerms::quorum(3),
				FEE,
				QUORUM_DEADLINE
			),
			Error::<Test>::NotEnoughWorkers
		);
		add_worker(3, operator(3), 1_000, 4);
		serve(3, classifier());
		run_to_block(2);
		// A quorum needs time for its draw, two commit windows and the reveals.
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				classifier(),
				image(1),
				VerificationTerms::quorum(3),
				FEE,
				MIN_QUORUM_DEADLINE - 1
			),
			Error::<Test>::DeadlineTooSoon
		);
		// Outputs that do not travel inline cannot be compared on chain.
		let large = ModelHash::repeat_byte(0xd2);
		let mut schema = classifier_schema();
		schema.outputs[1].shape = vec![1, 4096].try_into().unwrap();
		list(large, schema);
		assert_eq!(Jobs::quote(&large, &VerificationTerms::quorum(3)), None);
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				large,
				image(1),
				VerificationTerms::quorum(3),
				FEE,
				QUORUM_DEADLINE
			),
			Error::<Test>::QuorumNeedsInlineOutputs
		);
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			classifier(),
			image(1),
			VerificationTerms::quorum(3),
			FEE,
			MIN_QUORUM_DEADLINE
		));
		assert!(quorum_events().iter().any(|event| matches!(event, Event::Submitted { k: 3, .. })));
	});
}

#[test]
fn a_replaced_members_late_answer_is_skipped_in_a_block_and_the_rest_of_its_batch_stands() {
	ExtBuilder.build_and_execute(|| {
		setup(4);
		let first = submit_quorum(3);
		let second = submit_quorum(3);
		run_to_block(1 + DELAY as u64);
		let (a, b) = (members(first), members(second));
		// Three of four workers in each: at least two in both.
		let late = *a.iter().find(|seed| b.contains(seed)).unwrap();
		for seed in a.iter().filter(|seed| **seed != late) {
			commit(*seed, first, &finding(*seed, first, 2, HONEST));
		}
		let findings: Vec<_> = b.iter().map(|s| finding(*s, second, 2, HONEST)).collect();
		for (seed, finding) in b.iter().zip(&findings) {
			commit(*seed, second, finding);
		}
		run_to_block(Quorums::<Test>::get(first).unwrap().commit_end);
		assert!(!members(first).contains(&late), "replaced");
		// Its commitment to the first job (too late) and its reveal of the second in one batch:
		// the block skips the first and takes the second.
		let place = b.iter().position(|seed| *seed == late).unwrap();
		let commitment = commitment_of(late, first, &finding(late, first, 2, HONEST));
		let call = answers_call(
			late,
			vec![
				Submission { job: first, answer: Answer::Commit { commitment } },
				Submission {
					job: second,
					answer: Answer::Reveal { finding: findings[place].clone(), salt: salt(late) },
				},
			],
		);
		assert_ok!(land(call).expect("the block takes the batch"));
		assert!(System::events().iter().any(|record| matches!(
			&record.event,
			RuntimeEvent::Jobs(Event::AnswerSkipped { job, .. }) if *job == first
		)));
		System::assert_has_event(Event::Revealed { job: second, worker: worker(late) }.into());
	});
}
