//! Who the job market may draw, and when changes reach the draw.

use super::*;
use crate::Error;
use frame_support::assert_noop;
use veritensor_primitives::traits::{Candidate, WorkerStaking};

fn candidates(seed: u8) -> Vec<Candidate<AccountId, Balance>> {
	Workers::candidates(&model(seed), MAX_SLASH).to_vec()
}

fn candidate_keys(seed: u8) -> Vec<veritensor_primitives::WorkerId> {
	candidates(seed).into_iter().map(|candidate| candidate.worker).collect()
}

#[test]
fn a_new_worker_becomes_eligible_only_after_the_delay() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 3);
		for block in 1..1 + DELAY {
			run_to_block(block);
			assert!(candidates(1).is_empty(), "eligible early, at block {block}");
		}
		run_to_block(1 + DELAY);
		assert_eq!(
			candidates(1),
			vec![Candidate { worker: worker(1), operator: OPERATOR, stake: 2_000, free_slots: 3 }]
		);
		assert!(candidates(2).is_empty());
	});
}

#[test]
fn the_draw_weighs_the_stake_of_delay_blocks_ago() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 3);
		let now = System::block_number();
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(OPERATOR), 8_000));
		assert_eq!(candidates(1)[0].stake, 2_000);
		run_to_block(now + DELAY);
		assert_eq!(candidates(1)[0].stake, 10_000);
		// Unbonding lowers the weight only after the delay too.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 5_000));
		assert_eq!(candidates(1)[0].stake, 10_000);
		run_to_block(now + 2 * DELAY);
		assert_eq!(candidates(1)[0].stake, 5_000);
	});
}

#[test]
fn chilling_and_changing_models_reach_the_draw_after_the_delay() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 3);
		eligible_worker(OTHER_OPERATOR, 2_000, 2, 3);
		let now = System::block_number();
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		assert_ok!(Workers::update(
			RuntimeOrigin::signed(OTHER_OPERATOR),
			worker(2),
			models(&[2]),
			3
		));
		// Nobody can leave the draw, or join another, in reaction to known randomness.
		run_to_block(now + DELAY - 1);
		assert_eq!(candidate_keys(1), vec![worker(1), worker(2)]);
		assert!(candidates(2).is_empty());
		run_to_block(now + DELAY);
		assert!(candidates(1).is_empty());
		assert_eq!(candidate_keys(2), vec![worker(2)]);
	});
}

#[test]
fn a_full_worker_is_not_a_candidate() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		assert_ok!(Workers::note_assigned(&worker(1), MAX_SLASH));
		assert_eq!(candidates(1)[0].free_slots, 1);
		assert_ok!(Workers::note_assigned(&worker(1), MAX_SLASH));
		assert!(candidates(1).is_empty());
		assert_noop!(Workers::note_assigned(&worker(1), 1), Error::<Test>::NotEligible);
	});
}

#[test]
fn no_candidates_for_an_exposure_above_the_bound() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		assert_eq!(Workers::max_exposure(), MAX_SLASH);
		assert!(Workers::candidates(&model(1), MAX_SLASH + 1).is_empty());
		assert_noop!(
			Workers::note_assigned(&worker(1), MAX_SLASH + 1),
			Error::<Test>::ExposureTooHigh
		);
	});
}

#[test]
fn candidates_name_their_operators() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 3_000);
		register(OPERATOR, 1, &[1], 1);
		register(OPERATOR, 2, &[1], 1);
		bond(OTHER_OPERATOR, 5_000);
		register(OTHER_OPERATOR, 3, &[1, 2], 4);
		run_to_block(1 + DELAY);
		let operators: Vec<_> =
			candidates(1).into_iter().map(|c| (c.worker, c.operator, c.stake)).collect();
		assert_eq!(
			operators,
			vec![
				(worker(1), OPERATOR, 3_000),
				(worker(2), OPERATOR, 3_000),
				(worker(3), OTHER_OPERATOR, 5_000),
			]
		);
		assert_eq!(candidate_keys(2), vec![worker(3)]);
	});
}

/// Fills model 1's seats with workers of four operators staking 10,000 each, the most each may
/// hold, all eligible.
pub(super) fn fill_model_one() -> u8 {
	let per_operator = <<Test as crate::Config>::MaxWorkersPerModelPerOperator as Get<u32>>::get();
	let set_size = <<Test as crate::Config>::MaxWorkersPerModel as Get<u32>>::get() as u8;
	let operators = [OPERATOR, OTHER_OPERATOR, 10, 11];
	assert_eq!(set_size as u32, 4 * per_operator, "the mock fills the set with four operators");
	for operator in operators {
		bond(operator, 10_000);
	}
	for seed in 1..=set_size {
		register(operators[(seed as usize - 1) / per_operator as usize], seed, &[1], 1);
	}
	run_to_block(System::block_number() + DELAY);
	set_size
}

#[test]
fn a_model_set_is_bounded() {
	ExtBuilder.build_and_execute(|| {
		let set_size = fill_model_one();
		assert_eq!(candidates(1).len(), set_size as usize);
		bond(REPORTER, 10_000);
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(REPORTER),
				worker(50),
				proof(50, REPORTER),
				models(&[1]),
				1,
			),
			Error::<Test>::ModelFull
		);
		// Other models are unaffected.
		register(REPORTER, 50, &[2], 1);
	});
}

#[test]
fn a_full_set_makes_room_by_dropping_workers_that_left() {
	ExtBuilder.build_and_execute(|| {
		fill_model_one();
		// Worker 1 moves to model 2 and worker 2 chills: they keep their seats, and are drawn,
		// until their changes take effect.
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[2]), 1));
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(2)));
		bond(REPORTER, 10_000);
		let attempt = |seed: u8| {
			Workers::register(
				RuntimeOrigin::signed(REPORTER),
				worker(seed),
				proof(seed, REPORTER),
				models(&[1]),
				1,
			)
		};
		assert_noop!(attempt(50), Error::<Test>::ModelFull);
		let keys = candidate_keys(1);
		assert!(keys.contains(&worker(1)) && keys.contains(&worker(2)), "still drawn");

		run_to_block(System::block_number() + DELAY);
		let keys = candidate_keys(1);
		assert!(!keys.contains(&worker(1)) && !keys.contains(&worker(2)));
		assert_ok!(attempt(50));
		assert_ok!(attempt(51));
		// The seats are taken again, by stakes equal to everyone's: no more room.
		assert_noop!(attempt(52), Error::<Test>::ModelFull);
		run_to_block(System::block_number() + DELAY);
		let keys = candidate_keys(1);
		assert!(keys.contains(&worker(50)) && keys.contains(&worker(51)));

		// Resuming needs a seat again; every operator stakes as much as worker 2's, so there is
		// none to take.
		assert_noop!(
			Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(2)),
			Error::<Test>::ModelFull
		);
	});
}
