//! The market's rules against cheap harm: results that must be checkable, cancels that cost
//! what submissions do, slashes sized to the job, results that pay for their storage and are
//! pruned as fast as they come.

use super::*;
use crate::{Claimable, Error, Event, Payload, Results};
use codec::Encode;
use frame_support::{assert_ok, traits::Get};
use sp_core::H256;
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	traits::SlashReason,
	IoSchema, ModelHash,
};

/// A model like digits whose one output is `elements` 32-bit integers.
fn model_with_outputs(seed: u8, elements: u32) -> ModelHash {
	let model = ModelHash::repeat_byte(seed);
	let mut schema = schema();
	schema.outputs = vec![TensorSpec {
		name: b"scores".to_vec().try_into().unwrap(),
		elem: ElementType::I32,
		shape: vec![elements].try_into().unwrap(),
		frac_bits: 0,
	}]
	.try_into()
	.unwrap();
	list(model, schema);
	model
}

fn submit_for(who: AccountId, model: ModelHash) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(who),
		model,
		image(1),
		VerificationTerms::quorum(1),
		1_000,
		DEADLINE
	));
	id
}

/// An output at `uri` with an arbitrary hash, the receipt signed over that hash.
fn remote_answer(seed: u8, job: u64) -> crate::Submission<Test> {
	let output =
		Payload::Remote { hash: H256::repeat_byte(0xab), uri: b"x".to_vec().try_into().unwrap() };
	let signature = sign(seed, job, &output);
	crate::Submission { job, answer: crate::Answer::Output { output, signature } }
}

#[test]
fn a_remote_output_where_the_outputs_fit_inline_is_refused_and_earns_nothing() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(1 + DELAY as u64);

		// A made-up hash with a valid receipt over it: nothing was computed.
		let call = answers_call(1, vec![remote_answer(1, job)]);
		assert_eq!(in_pool(&call), Err(refused(Error::<Test>::OutputMustBeInline)));
		// Forced into a block, it is skipped and the job stays open.
		assert_ok!(land(call).unwrap_or(Ok(().into())));
		assert!(crate::Jobs::<Test>::contains_key(job));
		assert_eq!(Claimable::<Test>::get(100), None);

		// Answered inline, it settles.
		assert_ok!(answer(1, vec![output_answer(1, job, 7)]));
		run_past_window();
		assert_eq!(Claimable::<Test>::get(100), Some(PRICE));
	});
}

#[test]
fn outputs_too_large_to_travel_inline_may_be_remote() {
	ExtBuilder.build_and_execute(|| {
		// 2,048 32-bit scores: 8 KiB, above the mock's 4 KiB inline limit.
		let model = model_with_outputs(5, 2_048);
		add_worker(1, 100, 5_000, 2);
		serve(1, model);
		let job = submit_for(USER, model);
		run_to_block(1 + DELAY as u64);
		assert_ok!(answer(1, vec![remote_answer(1, job)]));
		assert_eq!(Results::<Test>::get(job).unwrap().output_hash, H256::repeat_byte(0xab));
	});
}

#[test]
fn submitting_and_cancelling_cannot_block_other_models_draws() {
	ExtBuilder.build_and_execute(|| {
		// The mock's draw takes two distinct models a block.
		let (first, second, victim) =
			(model_with_outputs(5, 1), model_with_outputs(6, 1), model_with_outputs(7, 1));
		add_worker(1, 100, 5_000, 4);
		for model in [first, second, victim] {
			serve(1, model);
		}
		let before = Balances::free_balance(OTHER_USER);
		let griefing = [submit_for(OTHER_USER, first), submit_for(OTHER_USER, second)];
		for job in griefing {
			assert_ok!(Jobs::cancel(RuntimeOrigin::signed(OTHER_USER), job));
		}
		// The slots are free again: the victim's model gets into this block's draw.
		assert!(crate::AssignmentModels::<Test>::get(1 + DELAY as u64).is_empty());
		let job = submit_for(USER, victim);
		// And each cancel cost the attacker the minimum fee.
		assert_eq!(Balances::free_balance(OTHER_USER), before - 2 * MIN_FEE);

		// A model's slot stays while it has another job in the draw.
		let kept = submit_for(OTHER_USER, first);
		let cancelled = submit_for(OTHER_USER, first);
		assert_ok!(Jobs::cancel(RuntimeOrigin::signed(OTHER_USER), cancelled));
		assert_eq!(
			crate::AssignmentModels::<Test>::get(1 + DELAY as u64).into_inner(),
			vec![(victim, 1), (first, 1)]
		);
		// A third model does not fit this draw: it goes to the next one, which has room.
		let spilled = submit_for(USER, second);
		assert!(matches!(
			crate::Jobs::<Test>::get(spilled).unwrap().state,
			crate::JobState::Queued { assign_at } if assign_at == 2 + DELAY as u64
		));
		run_to_block(1 + DELAY as u64);
		for job in [job, kept] {
			assert!(matches!(
				crate::Jobs::<Test>::get(job).unwrap().state,
				crate::JobState::Assigned { .. }
			));
		}
		run_to_block(2 + DELAY as u64);
		assert!(matches!(
			crate::Jobs::<Test>::get(spilled).unwrap().state,
			crate::JobState::Assigned { .. }
		));
	});
}

#[test]
fn a_no_show_is_slashed_in_proportion_to_the_job_between_the_floor_and_the_exposure() {
	ExtBuilder.build_and_execute(|| {
		NoShowSlashMultiple::set(3);
		add_worker(1, 100, 5_000, 8);
		let mut expect = Vec::new();
		// Per-worker prices: below the floor's third, in between, and above the exposure's.
		for (price, slash) in [(2, NO_SHOW_SLASH), (20, 60), (50, EXPOSURE)] {
			ModelPrice::set(price);
			let job = submit(USER, 1, 1_000);
			assert_eq!(crate::Jobs::<Test>::get(job).unwrap().price.no_show_slash, slash);
			expect.push((worker(1), slash, SlashReason::NoShow));
		}
		// The slash is a term of the job: a later change of the parameters leaves it alone.
		NoShowSlashMultiple::set(1);
		run_to_block(2 + DEADLINE);
		assert_eq!(slashes(), expect);
	});
}

#[test]
fn a_job_pays_for_storing_its_largest_result() {
	ExtBuilder.build_and_execute(|| {
		ResultBytePrice::set(2);
		let bytes = Jobs::result_bytes(&schema());
		// The record (model, worker, hash, signature, flag, block, variant: 170 bytes), the
		// tensor count and one tensor of one 64-bit label (element type, shape, fraction bits,
		// data: 16 bytes).
		assert_eq!(bytes, 32 + 32 + 32 + 64 + 1 + 8 + 1 + 1 + 16);
		let (price, cost) = Jobs::quote(&digits(), &VerificationTerms::quorum(1)).unwrap();
		assert_eq!(price.storage, 2 * bytes as Balance);
		assert_eq!(cost, COST + price.storage);

		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 1_000);
		run_to_block(1 + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, job, 7)]));
		// Exactly what the stored result takes.
		assert_eq!(Results::<Test>::get(job).unwrap().encoded_size(), bytes as usize);
		run_past_window();
		assert_eq!(Claimable::<Test>::get(TREASURY), Some(COST - PRICE - ROYALTY + price.storage));
		assert_eq!(Balances::free_balance(USER), ENDOWMENT - cost);

		// A larger schema costs more to keep.
		let large = model_with_outputs(5, 1_000);
		let (large_price, _) = Jobs::quote(&large, &VerificationTerms::quorum(1)).unwrap();
		assert!(large_price.storage > 2 * 4_000);
		// Outputs that cannot travel inline are stored as a hash and a URI.
		let remote = model_with_outputs(6, 2_048);
		assert_eq!(Jobs::result_bytes(&remote_schema(remote)), 170 + 32 + 2 + 128);
	});
}

fn remote_schema(model: ModelHash) -> IoSchema {
	<RegistryDouble as veritensor_primitives::traits::ModelRegistry<_, _>>::schema(&model).unwrap()
}

#[test]
fn results_are_pruned_on_time_while_an_older_job_is_still_open() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 64);
		// A job nobody answers, open until its late deadline.
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(USER),
			digits(),
			image(9),
			VerificationTerms::quorum(1),
			1_000,
			100
		));
		// A full block of jobs every block, each answered as soon as it is drawn.
		let per_block: u32 = <<Test as crate::Config>::MaxJobsPerBlock as Get<u32>>::get() - 1;
		let mut settled_at = std::collections::BTreeMap::new();
		for block in 1..=(RETENTION + 10) {
			run_to_block(block);
			if block > 1 {
				for _ in 0..per_block {
					submit(USER, 1, 200);
				}
			}
			let due: Vec<u64> = crate::Jobs::<Test>::iter()
				.filter(|(_, job)| matches!(job.state, crate::JobState::Assigned { .. }))
				.filter(|(id, _)| *id != 0)
				.map(|(id, _)| id)
				.collect();
			for chunk in due.chunks(4) {
				let answers = chunk.iter().map(|job| output_answer(1, *job, 1)).collect();
				assert_ok!(answer(1, answers));
				for job in chunk {
					settled_at.insert(*job, block);
				}
			}
		}
		assert!(crate::Jobs::<Test>::contains_key(0), "the first job is still open");
		let now = System::block_number();
		for (job, at) in &settled_at {
			assert_eq!(Results::<Test>::contains_key(job), at + RETENTION > now, "job {job}");
		}
		let queued = Jobs::prune_queue_entries().unwrap();
		assert_eq!(queued.len(), Results::<Test>::iter().count());
	});
}

#[test]
fn settled_events_carry_the_hash_and_the_output_stays_readable() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 5_000, 2);
		let job = submit(USER, 3, 200);
		run_to_block(1 + DELAY as u64);
		assert_ok!(answer(1, vec![output_answer(1, job, 7)]));
		let result = Results::<Test>::get(job).unwrap();
		assert_eq!(result.output, label(7));
		System::assert_has_event(
			Event::Settled {
				job,
				worker: worker(1),
				output_hash: result.output_hash,
				single_worker: true,
				cost: COST,
				refunded: 200 - COST,
				provisional_until: Some(1 + DELAY as u64 + DISPUTE_WINDOW),
			}
			.into(),
		);
	});
}
