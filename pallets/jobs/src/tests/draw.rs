//! The draw: stake weighting, capacity, randomness, bounded queues.

use super::*;
use crate::{Error, JobState, Jobs as JobsMap};
use frame_support::{assert_noop, assert_ok, dispatch::DispatchResultWithPostInfo};

fn assigned_worker(job: u64) -> Option<veritensor_primitives::WorkerId> {
	match JobsMap::<Test>::get(job)?.state {
		JobState::Assigned { workers, .. } => Some(workers[0].clone()),
		JobState::Queued { .. } | JobState::Disputed { .. } | JobState::Escalated { .. } => None,
	}
}

#[test]
fn the_draw_follows_stake() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000, 64);
		add_worker(2, 200, 3_000, 64);
		let mut heavy = 0;
		let mut drawn = 0;
		for round in 0..40u64 {
			// Every block's VRF output differs, as on a real chain.
			set_vrf(Some(H256::from_low_u64_be(round + 1)));
			let jobs: Vec<u64> = (0..4).map(|fill| submit(USER, fill, 200)).collect();
			run_to_block(System::block_number() + DELAY as u64);
			for job in jobs {
				let worker = assigned_worker(job).expect("assigned");
				drawn += 1;
				if worker == worker_key(2) {
					heavy += 1;
				}
				let _ = Jobs::cancel(RuntimeOrigin::signed(USER), job);
				// Assigned jobs cannot be cancelled; answer "cannot execute" to close them.
				let seed = if worker == worker_key(1) { 1 } else { 2 };
				frame_support::assert_ok!(answer(
					seed,
					vec![cannot(job, crate::CannotExecuteReason::ExecutionFailed)]
				));
			}
		}
		// Three quarters of the stake: expect about 120 of 160; a fair coin would give 80.
		assert_eq!(drawn, 160);
		assert!((100..=140).contains(&heavy), "the heavier operator was drawn {heavy} times");
	});
}

#[test]
fn an_operator_is_drawn_by_its_stake_however_many_workers_it_registers() {
	ExtBuilder.build_and_execute(|| {
		// Equal stakes; operator 100 runs one worker, operator 200 four. Weighing each worker
		// by its operator's full stake gave the second four draws in five.
		add_worker(1, 100, 1_000, 64);
		for seed in 2..=5 {
			add_worker(seed, 200, 1_000, 64);
		}
		let mut by_worker = [0u32; 6];
		for round in 0..250u64 {
			set_vrf(Some(H256::from_low_u64_be(round + 1)));
			let jobs: Vec<u64> = (0..4).map(|fill| submit(USER, fill, 200)).collect();
			run_to_block(System::block_number() + DELAY as u64);
			for job in jobs {
				let drawn = assigned_worker(job).expect("assigned");
				let seed = (1..=5u8).find(|seed| worker(*seed) == drawn).expect("a known worker");
				by_worker[seed as usize] += 1;
				frame_support::assert_ok!(answer(
					seed,
					vec![cannot(job, crate::CannotExecuteReason::ExecutionFailed)]
				));
			}
		}
		// 1,000 draws at one half each: the standard deviation is about 16 draws; four of them
		// either way are allowed. The four workers share their operator's half evenly
		// (125 each expected, deviation about 10; five allowed).
		let single = by_worker[1];
		assert_eq!(by_worker.iter().sum::<u32>(), 1_000);
		assert!((436..=564).contains(&single), "the single worker was drawn {single} times");
		for (seed, drawn) in by_worker.iter().enumerate().skip(2) {
			assert!((75..=175).contains(drawn), "worker {seed} was drawn {drawn} times");
		}
	});
}

fn worker_key(seed: u8) -> veritensor_primitives::WorkerId {
	worker(seed)
}

#[test]
fn a_full_worker_is_not_drawn_again_in_the_same_block() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000_000, 1);
		add_worker(2, 200, 1, 1);
		let first = submit(USER, 1, 200);
		let second = submit(USER, 2, 200);
		run_to_block(1 + DELAY as u64);
		let workers = [assigned_worker(first).unwrap(), assigned_worker(second).unwrap()];
		assert!(workers.contains(&worker(1)) && workers.contains(&worker(2)));
		assert_eq!((worker_open(1), worker_open(2)), (1, 1));
	});
}

#[test]
fn missing_randomness_still_assigns() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000, 2);
		set_vrf(None);
		let job = submit(USER, 1, 200);
		run_to_block(1 + DELAY as u64);
		assert_eq!(assigned_worker(job), Some(worker(1)));
	});
}

/// The block a queued job's workers are drawn at.
fn queued_at(job: u64) -> u64 {
	match JobsMap::<Test>::get(job).expect("open").state {
		JobState::Queued { assign_at } => assign_at,
		state => panic!("job {job} is not queued: {state:?}"),
	}
}

fn submit_with_deadline(fill: u8, deadline: u64) -> DispatchResultWithPostInfo {
	Jobs::submit(
		RuntimeOrigin::signed(USER),
		digits(),
		image(fill),
		VerificationTerms::quorum(1),
		200,
		deadline,
	)
}

#[test]
fn a_full_draw_sends_jobs_to_the_next_draws_as_far_as_their_deadline_allows() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000, 64);
		let usual = 1 + DELAY as u64;
		// The mock's draw takes four jobs.
		let first: Vec<u64> = (0..4).map(|fill| submit(USER, fill, 200)).collect();
		assert!(first.iter().all(|job| queued_at(*job) == usual));

		// A job with the least deadline has no room for a later draw: refused before anything
		// is held or queued.
		assert_noop!(submit_with_deadline(4, MIN_DEADLINE), Error::<Test>::AssignmentQueueFull);
		// One block of room: drawn one block later, and still given its whole deadline.
		let id = crate::NextJobId::<Test>::get();
		assert_ok!(submit_with_deadline(4, MIN_DEADLINE + 1));
		assert_eq!(queued_at(id), usual + 1);
		assert_eq!(JobsMap::<Test>::get(id).unwrap().deadline, 1 + MIN_DEADLINE + 1);
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Jobs(crate::Event::Submitted { job, assign_at, .. })
				if job == id && assign_at == usual + 1
		)));

		// The rest fill the next two draws; past those the submission fails. (Deadlines apart,
		// four a block as well, so that no deadline's queue fills first.)
		let later: Vec<u64> = (5..12u8)
			.map(|fill| {
				let id = crate::NextJobId::<Test>::get();
				assert_ok!(submit_with_deadline(fill, DEADLINE + 1 + u64::from(fill) / 9));
				id
			})
			.collect();
		let places: Vec<u64> = later.iter().map(|job| queued_at(*job)).collect();
		assert_eq!(
			places,
			[usual + 1, usual + 1, usual + 1, usual + 2, usual + 2, usual + 2, usual + 2]
		);
		assert_noop!(submit_with_deadline(12, DEADLINE + 3), Error::<Test>::AssignmentQueueFull);
		assert_eq!(crate::MAX_LATER_DRAWS, 2);

		// Each draw takes its own jobs.
		for (block, jobs) in
			[(usual, first), (usual + 1, vec![id]), (usual + 2, later[3..].to_vec())]
		{
			run_to_block(block);
			assert!(jobs.iter().all(|job| assigned_worker(*job) == Some(worker(1))));
		}
		// The next block's submissions start from their own usual draw again.
		assert!(crate::AssignmentQueue::<Test>::get(usual + 2).is_empty());
		let next = submit(USER, 13, 200);
		assert_eq!(queued_at(next), System::block_number() + DELAY as u64);
	});
}

#[test]
fn a_later_draw_is_allowed_only_as_far_as_the_deadline_exceeds_its_kinds_least() {
	ExtBuilder.build_and_execute(|| {
		let allowed = |deadline: u64, commits: bool| Jobs::later_draws_allowed(deadline, commits);
		assert_eq!(allowed(MIN_DEADLINE, false), 0);
		assert_eq!(allowed(MIN_DEADLINE + 1, false), 1);
		assert_eq!(allowed(DEADLINE, false), 2);
		// A quorum's or an audit's least deadline is longer.
		assert_eq!(allowed(DEADLINE, true), 0);
		assert_eq!(allowed(MIN_QUORUM_DEADLINE, true), 0);
		assert_eq!(allowed(MIN_QUORUM_DEADLINE + 1, true), 1);
		// Never more than `MAX_LATER_DRAWS`, nor past the workers' eligibility delay (both two here).
		assert_eq!(allowed(MIN_QUORUM_DEADLINE + 50, true), 2);
	});
}

#[test]
fn a_burst_past_every_allowed_draw_is_refused_and_the_next_block_has_room() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000, 64);
		// Four jobs a deadline, so that no deadline's queue fills first.
		for fill in 0..12u8 {
			assert_ok!(submit_with_deadline(fill, DEADLINE + u64::from(fill / 4)));
		}
		assert_noop!(submit_with_deadline(12, DEADLINE + 3), Error::<Test>::AssignmentQueueFull);
		// The next block's usual draw and the one after are two of those, full; the third has
		// room.
		run_to_block(2);
		let job = crate::NextJobId::<Test>::get();
		assert_ok!(submit_with_deadline(12, DEADLINE + 3));
		assert_eq!(queued_at(job), 2 + DELAY as u64 + 2);
	});
}

#[test]
fn a_full_expiry_block_moves_a_deadline_later_and_the_job_keeps_every_block_of_it() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000, 64);
		// New jobs take three of a block's four expiries in the mock (a quarter is kept for
		// checks): a fourth with the same deadline was refused.
		let on_time: Vec<u64> = (0..3).map(|fill| submit(USER, fill, 200)).collect();
		let asked = 1 + DEADLINE;
		let late = crate::NextJobId::<Test>::get();
		let refused_before = submit_with_deadline(3, DEADLINE);
		assert_ok!(refused_before);
		let job = JobsMap::<Test>::get(late).unwrap();
		assert_eq!(job.deadline, asked + 1);
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Jobs(crate::Event::Submitted { job, deadline, .. })
				if job == late && deadline == asked + 1
		)));
		// It paid for the full block it passed over, and no more (its draw had room).
		let weight =
			|passed| <() as crate::WeightInfo>::submit(Jobs::payload_bytes(&image(0)), 0, passed);
		let paid = refused_before.unwrap().actual_weight.expect("submit returns its weight");
		assert_eq!(paid, weight(1));
		assert!(weight(1).ref_time() > weight(0).ref_time());

		// The on-time jobs end at the asked deadline; the late one is answered in the block
		// after it and settles.
		run_to_block(asked + 1);
		assert!(on_time.iter().all(|job| JobsMap::<Test>::get(job).is_none()));
		assert_ok!(answer(1, vec![output_answer(1, late, 3)]));
		assert!(System::events().iter().any(|record| matches!(
			record.event,
			RuntimeEvent::Jobs(crate::Event::Settled { job, .. }) if job == late
		)));
	});
}

#[test]
fn a_later_draw_mixes_every_vrf_output_since_the_submission() {
	// Only the VRF output of the block after the submission differs between the runs. A job
	// drawn two blocks late was drawn from the two outputs before its draw alone, so whoever
	// could fill its usual draws chose among draws whose seeds it might know.
	let drawn: std::collections::BTreeSet<_> = (0..16u64)
		.map(|variant| {
			let mut drawn = None;
			ExtBuilder.build_and_execute(|| {
				add_worker(1, 100, 1_000, 64);
				add_worker(2, 200, 1_000, 64);
				// Two draws' worth of jobs: the ninth goes two draws late.
				for fill in 0..8u8 {
					assert_ok!(submit_with_deadline(fill, DEADLINE + 1 + u64::from(fill) / 4));
				}
				let late = crate::NextJobId::<Test>::get();
				assert_ok!(submit_with_deadline(8, DEADLINE + 3));
				let draw_at = 1 + DELAY as u64 + 2;
				assert_eq!(queued_at(late), draw_at);
				run_to_block(2);
				set_vrf(Some(H256::from_low_u64_be(1_000 + variant)));
				run_to_block(3);
				set_vrf(Some(H256::repeat_byte(7)));
				run_to_block(draw_at);
				drawn = assigned_worker(late);
			});
			drawn.expect("the late job was drawn")
		})
		.collect();
	assert_eq!(drawn.len(), 2, "the late job's worker never changed with the earlier output");
}

#[test]
fn the_quote_is_what_a_job_costs() {
	ExtBuilder.build_and_execute(|| {
		let (price, cost) = Jobs::quote(&digits(), &VerificationTerms::quorum(1)).expect("listed");
		assert_eq!(cost, COST);
		assert_eq!(price.per_worker + price.royalty + price.protocol, COST);
		assert!(Jobs::quote(&digits(), &VerificationTerms::quorum(2)).is_none());
		assert!(Jobs::quote(&ModelHash::repeat_byte(9), &VerificationTerms::single()).is_none());
	});
}

#[test]
fn an_unpayable_claim_keeps_the_earnings() {
	ExtBuilder.build_and_execute(|| {
		crate::Claimable::<Test>::insert(77, 3);
		<Balances as frame_support::traits::fungible::Mutate<AccountId>>::mint_into(
			&Jobs::pot(),
			3,
		)
		.unwrap();
		// 3 is below the existential deposit of a new account.
		assert_noop!(Jobs::claim(RuntimeOrigin::signed(USER), 77), Error::<Test>::ClaimFailed);
		assert_eq!(crate::Claimable::<Test>::get(77), Some(3));
	});
}

use sp_core::H256;
use veritensor_primitives::ModelHash;
