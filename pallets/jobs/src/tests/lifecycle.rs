//! A job from submission to settlement, refund or expiry.

use super::*;
use crate::{
	CannotExecuteReason, Claimable, Error, Event, JobState, Jobs as JobsMap, Refund, Results,
	WorkerJobs,
};
use frame_support::{assert_noop, assert_ok};
use sp_core::H256;
use veritensor_primitives::traits::{Outcome, SlashReason};
use veritensor_primitives::ModelHash;

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

		assert_ok!(answer(1, vec![output_answer(1, job, 7)]));
		// The submitter paid the cost and got the rest back; the result is provisional, its
		// earnings held in the pot and its input kept, until the dispute window ends.
		assert_eq!(escrow_held(USER), 0);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT - COST);
		let until = 1 + DELAY as u64 + DISPUTE_WINDOW;
		assert_eq!(
			Jobs::result_status(job),
			Some(crate::ResultStatus::Provisional { until, challenged: false })
		);
		assert_eq!(Claimable::<Test>::get(100), None);
		assert!(crate::Inputs::<Test>::contains_key(job));
		assert_eq!(open_jobs(digits()), 1, "the model is held with the input");
		run_to_block(until - 1);
		assert_eq!(Claimable::<Test>::get(100), None);
		run_to_block(until);
		System::assert_has_event(Event::Finalized { job, worker: worker(1) }.into());
		assert_eq!(Jobs::result_status(job), Some(crate::ResultStatus::Final));
		assert!(!crate::Inputs::<Test>::contains_key(job));
		// Earnings are claimable, the worker's by its operator (the worker key's account gets
		// nothing).
		assert_eq!(Claimable::<Test>::get(100), Some(PRICE));
		assert_eq!(Claimable::<Test>::get(account_of(&worker(1))), None);
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
			try_submit(digits(), image(1), VerificationTerms::quorum(1), 200, DEADLINE),
			Error::<Test>::NotEnoughWorkers
		);
		add_worker(1, 100, 5_000, 2);
		assert_noop!(
			try_submit(
				ModelHash::repeat_byte(9),
				image(1),
				VerificationTerms::quorum(1),
				200,
				DEADLINE
			),
			Error::<Test>::ModelNotUsable
		);
		assert_noop!(
			try_submit(digits(), image(1), VerificationTerms::quorum(0), 200, DEADLINE),
			Error::<Test>::UnsupportedK
		);
		for k in [2, 4, 6, 7] {
			assert_noop!(
				try_submit(digits(), image(1), VerificationTerms::quorum(k), 9_999, 50),
				Error::<Test>::UnsupportedK
			);
		}
		assert_noop!(
			try_submit(digits(), label(1), VerificationTerms::quorum(1), 200, DEADLINE),
			Error::<Test>::InputTypeMismatch
		);
		assert_noop!(
			try_submit(digits(), image(1), VerificationTerms::quorum(1), COST - 1, DEADLINE),
			Error::<Test>::FeeTooLow
		);
		assert_noop!(
			try_submit(digits(), image(1), VerificationTerms::quorum(1), 200, 4),
			Error::<Test>::DeadlineTooSoon
		);
		assert_noop!(
			try_submit(digits(), image(1), VerificationTerms::quorum(1), 200, 101),
			Error::<Test>::DeadlineTooLate
		);
		let no_uri = crate::Payload::Remote { hash: H256::repeat_byte(1), uri: Default::default() };
		assert_noop!(
			try_submit(digits(), no_uri, VerificationTerms::quorum(1), 200, DEADLINE),
			Error::<Test>::EmptyUri
		);
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(POOR),
				digits(),
				image(1),
				VerificationTerms::quorum(1),
				200,
				DEADLINE
			),
			Error::<Test>::InsufficientBalance
		);
		delist(digits());
		assert_noop!(
			try_submit(digits(), image(1), VerificationTerms::quorum(1), 200, DEADLINE),
			Error::<Test>::ModelNotUsable
		);
	});
}

#[test]
fn cancel_in_the_submission_block_keeps_the_minimum_fee() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		assert_noop!(
			Jobs::cancel(RuntimeOrigin::signed(OTHER_USER), job),
			Error::<Test>::NotSubmitter
		);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(USER), job));
		System::assert_last_event(
			Event::Refunded {
				job,
				submitter: USER,
				amount: 200 - MIN_FEE,
				kept: MIN_FEE,
				reason: Refund::Cancelled,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT - MIN_FEE);
		assert_eq!(Claimable::<Test>::get(TREASURY), Some(MIN_FEE));
		assert_eq!(open_jobs(digits()), 0);
		run_to_block(20);
		assert_eq!(worker_open(1), 0);
		assert_noop!(Jobs::cancel(RuntimeOrigin::signed(USER), 99), Error::<Test>::UnknownJob);
	});
}

#[test]
fn a_job_cannot_be_cancelled_once_its_draw_s_randomness_is_being_revealed() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		// The next block's VRF output is part of the draw's seed: too late, though the job is
		// still queued.
		run_to_block(2);
		assert!(matches!(JobsMap::<Test>::get(job).unwrap().state, JobState::Queued { .. }));
		assert_noop!(Jobs::cancel(RuntimeOrigin::signed(USER), job), Error::<Test>::CancelTooLate);
		run_to_block(1 + DELAY as u64);
		assert_noop!(Jobs::cancel(RuntimeOrigin::signed(USER), job), Error::<Test>::CancelTooLate);
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
			Event::Refunded { job, submitter: USER, amount: 200, kept: 0, reason: Refund::Expired }
				.into(),
		);
	});
}

#[test]
fn cannot_execute_refunds_all_but_the_minimum_fee_without_a_slash() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		assert_ok!(answer(1, vec![cannot(job, CannotExecuteReason::ModelUnsupported)]));
		// A job made to fail (an input server that refuses) still paid for its place.
		System::assert_last_event(
			Event::Refunded {
				job,
				submitter: USER,
				amount: 200 - MIN_FEE,
				kept: MIN_FEE,
				reason: Refund::CannotExecute(CannotExecuteReason::ModelUnsupported),
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT - MIN_FEE);
		assert_eq!(Claimable::<Test>::get(TREASURY), Some(MIN_FEE));
		assert!(slashes().is_empty());
		// A refusal earns the worker nothing.
		assert!(crate::Claimable::<Test>::get(account_of(&worker(1))).is_none());
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
			Event::Refunded {
				job,
				submitter: USER,
				amount: 200,
				kept: 0,
				reason: Refund::NoWorkers,
			}
			.into(),
		);
		assert_eq!(Balances::free_balance(USER), ENDOWMENT);
	});
}

#[test]
fn results_are_pruned_after_the_retention_period() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(4);
		assert_ok!(answer(1, vec![output_answer(1, job, 7)]));
		run_to_block(4 + RETENTION - 1);
		assert!(Results::<Test>::get(job).is_some());
		run_to_block(4 + RETENTION);
		assert!(Results::<Test>::get(job).is_none());
	});
}

#[test]
fn the_block_author_earns_its_share_of_the_protocol_fee_and_nothing_of_what_cancellations_keep() {
	ExtBuilder.build_and_execute(|| {
		const AUTHOR: AccountId = 77;
		BlockAuthor::set(Some(AUTHOR));
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		let price = JobsMap::<Test>::get(job).unwrap().price;
		assert!(price.protocol > 0);
		run_to_block(1 + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, job, 7)]));
		run_to_block(1 + DELAY as u64 + DISPUTE_WINDOW);
		assert_eq!(Jobs::result_status(job), Some(crate::ResultStatus::Final));
		let share = AuthorShare::get().mul_floor(price.protocol);
		assert!(share > 0);
		assert_eq!(Claimable::<Test>::get(AUTHOR), Some(share));
		assert_eq!(
			Claimable::<Test>::get(TREASURY),
			Some(price.protocol + price.storage - share),
			"the treasury gets the rest, and the storage charge whole"
		);

		// A cancellation's kept fee is the treasury's alone.
		let cancelled = submit(USER, 3, 200);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(USER), cancelled));
		assert_eq!(Claimable::<Test>::get(AUTHOR), Some(share));
		assert_eq!(
			Claimable::<Test>::get(TREASURY),
			Some(price.protocol + price.storage - share + MIN_FEE)
		);
	});
}

#[test]
fn a_settled_jobs_deadline_weighs_one_read_and_an_expiring_job_a_full_expiry() {
	use crate::weights::WeightInfo;
	use frame_support::{
		traits::{Get, Hooks},
		weights::RuntimeDbWeight,
	};
	let db = <<Test as frame_system::Config>::DbWeight as Get<RuntimeDbWeight>>::get();
	let hooks_at = |block: u64| {
		run_to_block(block - 1);
		System::set_block_number(block);
		<Jobs as Hooks<u64>>::on_initialize(block)
	};
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 4);
		let settled = [submit(USER, 3, 200), submit(USER, 4, 200)];
		let unanswered = submit(OTHER_USER, 5, 200);
		run_to_block(1 + DELAY as u64);
		let expiry = JobsMap::<Test>::get(unanswered).unwrap().deadline + 1;
		assert_ok!(answer(1, settled.iter().map(|job| output_answer(1, *job, 7)).collect()));
		assert!(settled.iter().all(|job| !JobsMap::<Test>::contains_key(job)));

		// All three share a deadline; only the unanswered one expires there, and only it is
		// weighed as an expiry (slashes and refund). Each settled one costs the read that
		// finds it gone, so a flood of settled jobs does not fill its deadline block with
		// mandatory weight.
		assert_eq!(crate::ExpiryQueue::<Test>::get(expiry).len(), 3);
		let weight = hooks_at(expiry);
		let expected = <() as WeightInfo>::on_initialize_base()
			.saturating_add(<() as WeightInfo>::expire_jobs(1))
			.saturating_add(db.reads(2));
		assert_eq!(weight, expected);
		assert!(db.reads(2).ref_time() > 0);
		assert!(!JobsMap::<Test>::contains_key(unanswered));
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Jobs(Event::Refunded { job, reason: Refund::Expired, .. }) if job == unanswered
		)));

		// A deadline block whose jobs all settled owes their reads and taking its entry.
		let later = submit(USER, 6, 200);
		run_to_block(System::block_number() + DELAY as u64);
		let expiry = JobsMap::<Test>::get(later).unwrap().deadline + 1;
		assert_ok!(answer(1, vec![output_answer(1, later, 7)]));
		let weight = hooks_at(expiry);
		assert_eq!(
			weight,
			<() as WeightInfo>::on_initialize_base().saturating_add(db.reads_writes(1, 1))
		);
	});
}
