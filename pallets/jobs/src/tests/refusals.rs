//! The remaining refusals: malformed inputs and outputs, answers for queued jobs, receipts for
//! another chain, full expiry queues.

use super::*;
use crate::{Answer, Error, InlineTensors, Payload, Submission};
use frame_support::{assert_noop, assert_ok};
use sp_core::{Pair, H256};
use sp_runtime::transaction_validity::InvalidTransaction;
use veritensor_primitives::{tensor::ElementType, Receipt, Tensor};

fn tensor(
	elem: ElementType,
	shape: &[u32],
	frac_bits: u8,
	data: Vec<u8>,
) -> Tensor<ConstU32Inline> {
	Tensor {
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
		data: data.try_into().unwrap(),
	}
}
type ConstU32Inline = frame_support::traits::ConstU32<4096>;

fn inline(tensors: Vec<Tensor<ConstU32Inline>>) -> Payload<Test> {
	Payload::Inline(InlineTensors::<Test>::truncate_from(tensors))
}

#[test]
fn malformed_inputs_are_refused_with_their_reason() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let attempt = |input| {
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				digits(),
				input,
				VerificationTerms::quorum(1),
				200,
				DEADLINE,
			)
		};
		let pixels = || tensor(ElementType::U8, &[1, 64], 0, vec![0; 64]);
		assert_noop!(attempt(inline(vec![])), Error::<Test>::InputCountMismatch);
		assert_noop!(attempt(inline(vec![pixels(), pixels()])), Error::<Test>::InputCountMismatch);
		assert_noop!(
			attempt(inline(vec![tensor(ElementType::U8, &[64, 1], 0, vec![0; 64])])),
			Error::<Test>::InputShapeMismatch
		);
		assert_noop!(
			attempt(inline(vec![tensor(ElementType::U8, &[1, 64], 3, vec![0; 64])])),
			Error::<Test>::InputFracBitsMismatch
		);
		assert_noop!(
			attempt(inline(vec![tensor(ElementType::U8, &[1, 64], 0, vec![0; 63])])),
			Error::<Test>::InputMalformed
		);
		// A remote input with its hash and URI is taken as it is.
		let remote = Payload::Remote {
			hash: H256::repeat_byte(3),
			uri: b"https://inputs.example/1".to_vec().try_into().unwrap(),
		};
		assert_ok!(attempt(remote));
	});
}

#[test]
fn a_deadline_is_refused_only_when_every_block_it_could_move_to_is_full() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 64);
		// Someone else's jobs take all that new jobs may of the expiries of the block after the
		// asked deadline and of every block it could move to but the last: three of the mock's
		// four (a quarter is kept for checks).
		let asked = 1 + DEADLINE;
		let slide = crate::audit::CHECK_SLIDE as u64;
		let fill = |expiry: u64, base: u64, count: u64| {
			crate::ExpiryQueue::<Test>::mutate(expiry, |queue| {
				for filler in base..base + count {
					queue.try_push(filler).expect("room in the mock's queue");
				}
			})
		};
		for offset in 0..slide {
			fill(asked + 1 + offset, 1_000 + 4 * offset, 3);
		}
		let submit_asking = |fill: u8| {
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				digits(),
				image(fill),
				VerificationTerms::quorum(1),
				200,
				DEADLINE,
			)
		};
		let id = crate::NextJobId::<Test>::get();
		assert_ok!(submit_asking(1));
		assert_eq!(crate::Jobs::<Test>::get(id).unwrap().deadline, asked + slide);

		// With that last block's share taken as well, nothing is held or queued.
		fill(asked + 1 + slide, 2_000, 2);
		let held = escrow_held(USER);
		assert_noop!(submit_asking(2), Error::<Test>::ExpiryQueueFull);
		assert_eq!(escrow_held(USER), held);
		// A check's deadline still finds room in the first block.
		assert_eq!(Jobs::queue_expiry(3_000, asked), Some(asked));
		crate::ExpiryQueue::<Test>::mutate(asked + 1, |queue| queue.retain(|job| *job != 3_000));
		// Another deadline is taken.
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			digits(),
			image(2),
			VerificationTerms::quorum(1),
			200,
			DEADLINE - 1
		));
	});
}

#[test]
fn answers_for_queued_jobs_and_foreign_receipts_are_refused() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		let failed = |job| vec![cannot(job, crate::CannotExecuteReason::ExecutionFailed)];
		// Nothing assigned to the key yet: refused before any other check.
		assert_eq!(in_pool(&answers_call(1, failed(job))), Err(InvalidTransaction::Stale.into()));
		run_to_block(1 + DELAY as u64);
		let other = submit(USER, 4, 200);
		assert_eq!(
			in_pool(&answers_call(1, failed(other))),
			Err(refused(Error::<Test>::NotAssigned))
		);
		// A job that never existed is junk, not a race.
		assert_eq!(in_pool(&answers_call(1, failed(99))), Err(refused(Error::<Test>::UnknownJob)));

		// A receipt made for another chain (another genesis hash).
		let output = label(4);
		let Payload::Inline(tensors) = &output else { unreachable!() };
		let record = crate::Jobs::<Test>::get(job).unwrap();
		let foreign = Receipt {
			genesis_hash: H256::repeat_byte(0xee),
			job_id: job,
			model: record.model,
			input_hash: record.input_hash,
			output_hash: veritensor_primitives::output_hash(tensors),
			worker: worker(1),
		};
		let signature = worker_pair(1).sign(&foreign.signing_payload()).into();
		let answer =
			Submission { job, answer: Answer::Output { output: output.clone(), signature } };
		assert_eq!(
			in_pool(&answers_call(1, vec![answer])),
			Err(refused(Error::<Test>::BadReceipt))
		);
		// An output with the wrong number of tensors.
		let two = inline(vec![
			tensor(ElementType::I64, &[1], 0, vec![0; 8]),
			tensor(ElementType::I64, &[1], 0, vec![0; 8]),
		]);
		let signature = sign(1, job, &output);
		let answer = Submission { job, answer: Answer::Output { output: two, signature } };
		assert_eq!(
			in_pool(&answers_call(1, vec![answer])),
			Err(refused(Error::<Test>::OutputCountMismatch))
		);
	});
}

#[test]
fn only_answers_to_inline_inputs_count_towards_refusal_rates() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 8);
		let inline_refused = submit(USER, 1, 200);
		let inline_answered = submit(USER, 2, 200);
		// A remote input's server could fail one worker alone: its answers are not compared.
		let remote = crate::NextJobId::<Test>::get();
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			digits(),
			Payload::Remote {
				hash: H256::repeat_byte(3),
				uri: b"https://inputs.example/1".to_vec().try_into().unwrap(),
			},
			VerificationTerms::quorum(1),
			200,
			DEADLINE,
		));
		assert!(crate::RemoteInputs::<Test>::contains_key(remote));
		assert!(!crate::RemoteInputs::<Test>::contains_key(inline_refused));
		run_to_block(1 + DELAY as u64);
		let failed = crate::CannotExecuteReason::InputUnavailable;
		assert_ok!(answer(1, vec![cannot(inline_refused, failed), cannot(remote, failed)]));
		let output = label(4);
		assert_ok!(answer(
			1,
			vec![crate::Submission {
				job: inline_answered,
				answer: crate::Answer::Output {
					output: output.clone(),
					signature: sign(1, inline_answered, &output),
				},
			}]
		));
		assert_eq!(counted_answers(), vec![(worker(1), true), (worker(1), false)]);
		assert!(!crate::RemoteInputs::<Test>::contains_key(remote), "closed with its job");
	});
}
