//! A job from submission to settlement, refund or expiry.

use super::*;
use crate::{
	Answer, CannotExecuteReason, Claimable, Error, Event, JobState, Jobs as JobsMap, Refund,
	Results, Submission, WorkerJobs,
};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use veritensor_primitives::traits::{Outcome, SlashReason};

fn answers(items: Vec<Submission<Test>>) -> BoundedVec<Submission<Test>, ConstU32Four> {
	BoundedVec::truncate_from(items)
}
type ConstU32Four = frame_support::traits::ConstU32<4>;

fn output_answer(seed: u8, job: u64, value: i64) -> Submission<Test> {
	let output = label(value);
	let signature = sign(seed, job, &output);
	Submission { job, worker: worker(seed), answer: Answer::Output { output, signature } }
}

#[test]
fn a_job_is_submitted_assigned_answered_and_settled() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		assert_eq!(escrow_held(USER), 200);
		assert_eq!(open_jobs(digits()), 1);
		assert!(matches!(
			JobsMap::<Test>::get(job).unwrap().state,
			JobState::Queued { assign_at: 4 }
		));

		run_to_block(1 + DELAY as u64);
		System::assert_has_event(
			Event::Assigned { job, workers: vec![worker(1)], deadline: 1 + DEADLINE }.into(),
		);
		assert_eq!(worker_open(1), 1);
		assert_eq!(Jobs::open_assignments(&worker(1)), vec![job]);

		let account = account_of(&worker(1));
		assert_ok!(Jobs::submit_results(
			RuntimeOrigin::signed(account),
			answers(vec![output_answer(1, job, 7)])
		));
		// The submitter paid the cost and got the rest back; earnings are claimable.
		assert_eq!(escrow_held(USER), 0);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT - COST);
		assert_eq!(Claimable::<Test>::get(account), Some(PRICE));
		assert_eq!(Claimable::<Test>::get(OWNER), Some(ROYALTY));
		assert_eq!(Claimable::<Test>::get(TREASURY), Some(COST - PRICE - ROYALTY));
		assert_eq!(open_jobs(digits()), 0);
		assert_eq!(worker_open(1), 0);
		assert_eq!(outcomes(), vec![(worker(1), Outcome::Completed)]);
		assert!(JobsMap::<Test>::get(job).is_none());
		let result = Results::<Test>::get(job).expect("stored");
		assert_eq!(result.output, label(7));
		assert!(result.single_worker);
		assert!(WorkerJobs::<Test>::get(worker(1), job).is_none());

		// Earnings are paid out on claim.
		assert_ok!(Jobs::claim(RuntimeOrigin::signed(OWNER), OWNER));
		assert_eq!(Balances::free_balance(OWNER), ROYALTY);
		assert_noop!(
			Jobs::claim(RuntimeOrigin::signed(OWNER), OWNER),
			Error::<Test>::NothingToClaim
		);
	});
}

#[test]
fn submit_refuses_bad_jobs() {
	ExtBuilder.build_and_execute(|| {
		let try_submit = |model, input, k, max_fee, deadline| {
			Jobs::submit(RuntimeOrigin::signed(USER), model, input, k, max_fee, deadline)
		};
		assert_noop!(
			try_submit(digits(), image(1), 1, 200, DEADLINE),
			Error::<Test>::NotEnoughWorkers
		);
		add_worker(1, 100, 5_000, 2);
		assert_noop!(
			try_submit(ModelHash::repeat_byte(9), image(1), 1, 200, DEADLINE),
			Error::<Test>::ModelNotUsable
		);
		assert_noop!(try_submit(digits(), image(1), 0, 200, DEADLINE), Error::<Test>::UnsupportedK);
		assert_noop!(try_submit(digits(), image(1), 3, 999, DEADLINE), Error::<Test>::UnsupportedK);
		assert_noop!(
			try_submit(digits(), label(1), 1, 200, DEADLINE),
			Error::<Test>::InputTypeMismatch
		);
		assert_noop!(
			try_submit(digits(), image(1), 1, COST - 1, DEADLINE),
			Error::<Test>::FeeTooLow
		);
		assert_noop!(try_submit(digits(), image(1), 1, 200, 4), Error::<Test>::DeadlineTooSoon);
		assert_noop!(try_submit(digits(), image(1), 1, 200, 101), Error::<Test>::DeadlineTooLate);
		let no_uri = crate::Payload::Remote { hash: H256::repeat_byte(1), uri: Default::default() };
		assert_noop!(try_submit(digits(), no_uri, 1, 200, DEADLINE), Error::<Test>::EmptyUri);
		assert_noop!(
			Jobs::submit(RuntimeOrigin::signed(POOR), digits(), image(1), 1, 200, DEADLINE),
			Error::<Test>::InsufficientBalance
		);
		delist(digits());
		assert_noop!(
			try_submit(digits(), image(1), 1, 200, DEADLINE),
			Error::<Test>::ModelNotUsable
		);
	});
}

#[test]
fn cancel_refunds_a_queued_job_in_full() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		assert_noop!(
			Jobs::cancel(RuntimeOrigin::signed(OTHER_USER), job),
			Error::<Test>::NotSubmitter
		);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(USER), job));
		System::assert_last_event(
			Event::Refunded { job, submitter: USER, amount: 200, reason: Refund::Cancelled }.into(),
		);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
		assert_eq!(open_jobs(digits()), 0);
		run_to_block(20);
		assert_eq!(worker_open(1), 0);

		let job = submit(USER, 3, 200);
		run_to_block(20 + DELAY as u64);
		assert_noop!(
			Jobs::cancel(RuntimeOrigin::signed(USER), job),
			Error::<Test>::AlreadyAssigned
		);
		assert_noop!(Jobs::cancel(RuntimeOrigin::signed(USER), 99), Error::<Test>::UnknownJob);
	});
}

#[test]
fn a_no_show_is_slashed_and_the_user_refunded() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(1 + DEADLINE);
		assert!(JobsMap::<Test>::get(job).is_some());
		run_to_block(2 + DEADLINE);
		assert_eq!(slashes(), vec![(worker(1), NO_SHOW_SLASH, SlashReason::NoShow)]);
		assert_eq!(outcomes(), vec![(worker(1), Outcome::Missed)]);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
		assert_eq!(escrow_held(USER), 0);
		System::assert_last_event(
			Event::Refunded { job, submitter: USER, amount: 200, reason: Refund::Expired }.into(),
		);
	});
}

#[test]
fn cannot_execute_refunds_without_a_slash() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		let answer = Submission {
			job,
			worker: worker(1),
			answer: Answer::CannotExecute { reason: CannotExecuteReason::ModelUnsupported },
		};
		assert_ok!(Jobs::submit_results(
			RuntimeOrigin::signed(account_of(&worker(1))),
			answers(vec![answer])
		));
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
		assert!(slashes().is_empty());
		assert_eq!(outcomes(), vec![(worker(1), Outcome::Failed)]);
	});
}

#[test]
fn without_workers_at_the_draw_the_job_is_refunded() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 1);
		let job = submit(USER, 3, 200);
		remove_worker(1);
		run_to_block(4);
		System::assert_last_event(
			Event::Refunded { job, submitter: USER, amount: 200, reason: Refund::NoWorkers }.into(),
		);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
	});
}

#[test]
fn hostile_answers_are_refused() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		add_worker(2, 200, 5_000, 2);
		let first = submit(USER, 3, 200);
		let second = submit(USER, 4, 200);
		run_to_block(4);
		let assigned = |job| match JobsMap::<Test>::get(job).unwrap().state {
			JobState::Assigned { workers, .. } => workers[0].clone(),
			_ => panic!("assigned"),
		};
		let seed_of = |key: &WorkerId| if *key == worker(1) { 1u8 } else { 2u8 };
		let s1 = seed_of(&assigned(first));
		let origin = |seed: u8| RuntimeOrigin::signed(account_of(&worker(seed)));
		let other = if s1 == 1 { 2 } else { 1 };

		// From an account that is not the worker key's.
		assert_noop!(
			Jobs::submit_results(
				RuntimeOrigin::signed(USER),
				answers(vec![output_answer(s1, first, 1)])
			),
			Error::<Test>::NotWorkerAccount
		);
		// From a worker not assigned to the job.
		assert_noop!(
			Jobs::submit_results(origin(other), answers(vec![output_answer(other, first, 1)])),
			Error::<Test>::NotAssignedWorker
		);
		// A receipt signed for another job.
		let mut forged = output_answer(s1, first, 1);
		if let Answer::Output { signature, .. } = &mut forged.answer {
			*signature = sign(s1, second, &label(1));
		}
		assert_noop!(
			Jobs::submit_results(origin(s1), answers(vec![forged])),
			Error::<Test>::BadReceipt
		);
		// A receipt over another output.
		let mut swapped = output_answer(s1, first, 1);
		if let Answer::Output { output, .. } = &mut swapped.answer {
			*output = label(2);
		}
		assert_noop!(
			Jobs::submit_results(origin(s1), answers(vec![swapped])),
			Error::<Test>::BadReceipt
		);
		// The wrong output shape.
		let mut wrong = output_answer(s1, first, 1);
		if let Answer::Output { output, .. } = &mut wrong.answer {
			*output = image(1);
		}
		assert_noop!(
			Jobs::submit_results(origin(s1), answers(vec![wrong])),
			Error::<Test>::OutputMismatch
		);
		// One job twice in a call, and nothing at all.
		assert_noop!(
			Jobs::submit_results(
				origin(s1),
				answers(vec![output_answer(s1, first, 1), output_answer(s1, first, 1)])
			),
			Error::<Test>::DuplicateAnswer
		);
		assert_noop!(Jobs::submit_results(origin(s1), answers(vec![])), Error::<Test>::NoAnswers);

		// The honest answer settles; submitting it again finds the job closed.
		let honest = output_answer(s1, first, 1);
		assert_ok!(Jobs::submit_results(origin(s1), answers(vec![honest.clone()])));
		assert_noop!(
			Jobs::submit_results(origin(s1), answers(vec![honest])),
			Error::<Test>::UnknownJob
		);
	});
}

#[test]
fn results_are_pruned_after_the_retention_period() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		assert_ok!(Jobs::submit_results(
			RuntimeOrigin::signed(account_of(&worker(1))),
			answers(vec![output_answer(1, job, 7)])
		));
		run_to_block(4 + RETENTION - 1);
		assert!(Results::<Test>::get(job).is_some());
		run_to_block(4 + RETENTION);
		assert!(Results::<Test>::get(job).is_none());
	});
}

use sp_core::H256;
use veritensor_primitives::{ModelHash, WorkerId};
