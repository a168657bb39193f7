//! Workers' answers in the transaction pool and in blocks: who may answer, what the pool
//! admits, and how a block applies a batch answer by answer.

use super::*;
use crate::{
	weights::WeightInfo, CannotExecuteReason, Error, Event, JobState, Jobs as JobsMap, Refund,
	Results,
};
use codec::Encode;
use frame_support::{assert_noop, assert_ok, dispatch::Pays};
use sp_core::Pair;
use sp_runtime::transaction_validity::{InvalidTransaction, TransactionSource};

/// The worker drawn for `job`, as its seed among `seeds`.
fn drawn(job: u64, seeds: &[u8]) -> u8 {
	let JobState::Assigned { workers, .. } = JobsMap::<Test>::get(job).unwrap().state else {
		panic!("assigned")
	};
	*seeds.iter().find(|seed| worker(**seed) == workers[0]).unwrap()
}

#[test]
fn valid_answers_get_the_answer_priority_one_tag_per_job_and_live_until_the_deadline() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 4);
		let early = submit_with_deadline(3, 8);
		let late = submit(USER, 4, 200);
		run_to_block(1 + DELAY as u64);
		let call = answers_call(1, vec![output_answer(1, late, 1), output_answer(1, early, 2)]);
		let (valid, refund) = in_pool(&call).expect("valid");
		assert_eq!(valid.priority, ANSWER_PRIORITY);
		assert_eq!(refund, frame_support::weights::Weight::zero());
		assert!(valid.propagate);
		assert!(valid.requires.is_empty());
		let tag = |job: u64| ("VeritensorJobAnswer", (worker(1), job, 0u8)).encode();
		assert_eq!(valid.provides, vec![tag(late), tag(early)]);
		// The earlier deadline, 1 + 8, is the last block it may land in; now is block 4.
		assert_eq!(valid.longevity, (1 + 8) - 4 + 1);
		// In the operational class. It declares a fee, which only a signed sender would pay (and
		// then fail): a general transaction has no payer.
		let info = frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call);
		assert_eq!(info.class, frame_support::dispatch::DispatchClass::Operational);
		assert_eq!(info.pays_fee, Pays::Yes);
	});
}

#[test]
fn answers_from_other_keys_for_closed_jobs_or_answered_twice_are_invalid_in_the_pool() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		add_worker(2, 200, 5_000, 2);
		let first = submit(USER, 3, 200);
		let second = submit(USER, 4, 200);
		run_to_block(4);
		let s1 = drawn(first, &[1, 2]);
		let other = if s1 == 1 { 2 } else { 1 };

		// A key not assigned to the job, even one with other assignments of its own.
		let foreign = answers_call(other, vec![output_answer(other, first, 1)]);
		let expected = if drawn(second, &[1, 2]) == other {
			refused(Error::<Test>::NotAssignedWorker)
		} else {
			InvalidTransaction::Stale.into()
		};
		assert_eq!(in_pool(&foreign), Err(expected));
		// A key that is no worker at all.
		assert_eq!(
			in_pool(&answers_call(9, vec![output_answer(9, first, 1)])),
			Err(InvalidTransaction::Stale.into())
		);
		// The assigned worker's answers, signed as a batch by another key.
		let crate::Call::submit_results { worker: named, answers, .. } =
			answers_call(s1, vec![output_answer(s1, first, 1)])
		else {
			unreachable!()
		};
		let payload = crate::answers::answers_payload::<Test>(&named, &answers);
		let forged = crate::Call::submit_results {
			worker: named,
			answers,
			signature: worker_pair(other).sign(&payload).into(),
		};
		assert_eq!(in_pool(&forged), Err(InvalidTransaction::BadProof.into()));
		// Forged, swapped and malformed outputs.
		let mut forged_receipt = output_answer(s1, first, 1);
		if let crate::Answer::Output { signature, .. } = &mut forged_receipt.answer {
			*signature = sign(s1, second, &label(1));
		}
		assert_eq!(
			in_pool(&answers_call(s1, vec![forged_receipt])),
			Err(refused(Error::<Test>::BadReceipt))
		);
		let mut wrong = output_answer(s1, first, 1);
		if let crate::Answer::Output { output, .. } = &mut wrong.answer {
			*output = image(1);
		}
		assert_eq!(
			in_pool(&answers_call(s1, vec![wrong])),
			Err(refused(Error::<Test>::OutputMismatch))
		);
		// One job twice in a batch, and an empty batch.
		let twice = vec![output_answer(s1, first, 1), output_answer(s1, first, 2)];
		assert_eq!(in_pool(&answers_call(s1, twice)), Err(refused(Error::<Test>::DuplicateAnswer)));
		assert_eq!(in_pool(&answers_call(s1, vec![])), Err(refused(Error::<Test>::NoAnswers)));

		// Two different answers to one job claim the same tag: the pool keeps one of them.
		let one = in_pool(&answers_call(s1, vec![output_answer(s1, first, 1)])).unwrap().0;
		let two = in_pool(&answers_call(s1, vec![output_answer(s1, first, 2)])).unwrap().0;
		assert_eq!(one.provides, two.provides);

		// The honest answer lands; any answer to the job is then stale.
		let late = answers_call(s1, vec![output_answer(s1, first, 2)]);
		assert_ok!(answer(s1, vec![output_answer(s1, first, 1)]));
		assert_eq!(in_pool(&late), Err(InvalidTransaction::Stale.into()));
		// Only through the authorization: a signed call is refused.
		assert_noop!(
			Jobs::submit_results(
				RuntimeOrigin::signed(account_of(&worker(s1))),
				worker(s1),
				Default::default(),
				worker_pair(s1).sign(b"anything").into()
			),
			sp_runtime::DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_batch_with_an_expired_and_a_valid_answer_settles_the_valid_one_and_reports_the_other() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 4);
		let soon = submit_with_deadline(3, MIN_DEADLINE);
		let later = submit(USER, 4, 200);
		run_to_block(1 + DELAY as u64);
		// Both answered in time, but the batch waits until after the first deadline: the job
		// expires in that block's hooks, before the batch is applied.
		let call = answers_call(1, vec![output_answer(1, soon, 1), output_answer(1, later, 2)]);
		assert!(in_pool(&call).is_ok());
		run_to_block(1 + MIN_DEADLINE + 1);
		System::assert_has_event(
			Event::Refunded {
				job: soon,
				submitter: USER,
				amount: 200,
				kept: 0,
				reason: Refund::Expired,
			}
			.into(),
		);
		// The pool refuses a batch with a stale answer; a block keeps the good ones.
		assert_eq!(in_pool(&call), Err(InvalidTransaction::Stale.into()));
		let post = land(call).expect("one answer is still good").expect("dispatched");
		System::assert_has_event(
			Event::AnswerSkipped {
				job: soon,
				worker: worker(1),
				reason: Error::<Test>::UnknownJob.into(),
			}
			.into(),
		);
		assert!(Results::<Test>::get(later).is_some());
		assert!(Results::<Test>::get(soon).is_none());
		// Charged for the accepted answer only.
		assert_eq!(post.actual_weight, Some(<() as WeightInfo>::submit_results(1, 8)));
	});
}

#[test]
fn an_answer_after_the_deadline_is_stale_and_a_batch_of_stale_answers_never_lands() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 4);
		let job = submit(USER, 3, 200);
		run_to_block(1 + DELAY as u64);
		let call = answers_call(1, vec![cannot(job, CannotExecuteReason::BadInput)]);
		// At the deadline block itself (not yet expired by the hooks): too late to land later.
		System::set_block_number(1 + DEADLINE + 1);
		assert_eq!(in_pool(&call), Err(InvalidTransaction::Stale.into()));
		assert_eq!(
			frame_support::traits::Authorize::authorize(&call, TransactionSource::InBlock),
			Some(Err(InvalidTransaction::Stale.into()))
		);
		System::set_block_number(1 + DEADLINE);
		assert!(in_pool(&call).is_ok());
	});
}

#[test]
fn an_answer_that_fails_to_apply_is_skipped_without_a_trace_and_the_rest_stand() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 4);
		let broke = submit(USER, 3, 200);
		let paid = submit(OTHER_USER, 4, 200);
		run_to_block(1 + DELAY as u64);
		// The submitter's escrow is gone (released behind the pallet's back): settling fails.
		use frame_support::traits::{fungible::MutateHold, tokens::Precision};
		let reason = RuntimeHoldReason::Jobs(crate::HoldReason::JobEscrow);
		Balances::release(&reason, &USER, 200, Precision::Exact).unwrap();
		let call = answers_call(1, vec![output_answer(1, broke, 1), output_answer(1, paid, 2)]);
		land(call).unwrap().unwrap();
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Jobs(Event::AnswerSkipped { job, .. }) if job == broke
		)));
		// Nothing of the failed answer stayed: the job is open and still assigned.
		assert!(JobsMap::<Test>::get(broke).is_some());
		assert!(crate::WorkerJobs::<Test>::get(worker(1), broke).is_some());
		assert!(Results::<Test>::get(paid).is_some());
		// Put the escrow back so that the invariants hold again.
		Balances::hold(&reason, &USER, 200).unwrap();
	});
}

fn submit_with_deadline(fill: u8, deadline: u64) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(USER),
		digits(),
		image(fill),
		VerificationTerms::quorum(1),
		200,
		deadline
	));
	id
}
