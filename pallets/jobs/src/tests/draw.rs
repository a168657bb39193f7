//! The draw: stake weighting, capacity, randomness, bounded queues.

use super::*;
use crate::{Error, JobState, Jobs as JobsMap};
use frame_support::assert_noop;

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

#[test]
fn one_block_assigns_a_bounded_number_of_jobs() {
	ExtBuilder.build_and_execute(|| {
		add_worker(1, 100, 1_000, 64);
		for fill in 0..4 {
			submit(USER, fill, 200);
		}
		assert_noop!(
			Jobs::submit(
				RuntimeOrigin::signed(USER),
				digits(),
				image(9),
				VerificationTerms::quorum(1),
				200,
				DEADLINE
			),
			Error::<Test>::AssignmentQueueFull
		);
		// The next block has room again.
		run_to_block(2);
		submit(USER, 9, 200);
	});
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
