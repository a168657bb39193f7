//! Assignments the job market notes, and the counters users read.

use super::*;
use crate::{Error, WorkerStats};
use frame_support::assert_noop;
use veritensor_primitives::traits::{Outcome, WorkerStaking};

#[test]
fn assignments_track_exposure_and_outcomes() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 4);
		for exposure in [100, 60, 30, 10] {
			assert_ok!(Workers::note_assigned(&worker(1), exposure));
		}
		assert_eq!(record(1).open_assignments, 4);
		assert_eq!(record(1).exposure, 200);

		Workers::note_released(&worker(1), 100, Outcome::Completed);
		Workers::note_released(&worker(1), 60, Outcome::Failed);
		Workers::note_released(&worker(1), 30, Outcome::Missed);
		assert_eq!(record(1).exposure, 10);
		Workers::note_released(&worker(1), 10, Outcome::Voided);
		let record = record(1);
		assert_eq!(record.open_assignments, 0);
		assert_eq!(record.exposure, 0);
		assert_eq!(
			record.stats,
			WorkerStats { completed: 1, failed: 1, missed: 1, slashed: 0, slashed_amount: 0 }
		);
		let info = Workers::worker_info(&worker(1)).expect("registered");
		assert!(info.eligible);
		assert_eq!(info.stats.completed, 1);
	});
}

#[test]
fn only_eligible_workers_take_assignments() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(Workers::note_assigned(&worker(1), 10), Error::<Test>::UnknownWorker);
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 2);
		// Not in effect yet.
		assert_noop!(Workers::note_assigned(&worker(1), 10), Error::<Test>::NotEligible);
		run_to_block(1 + DELAY);
		assert_ok!(Workers::note_assigned(&worker(1), 10));
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		run_to_block(1 + 2 * DELAY);
		assert_noop!(Workers::note_assigned(&worker(1), 10), Error::<Test>::NotEligible);
		assert!(!Workers::worker_info(&worker(1)).expect("registered").eligible);
		Workers::note_released(&worker(1), 10, Outcome::Completed);
	});
}

// `defensive!` panics only where debug assertions are on.
#[cfg(debug_assertions)]
#[test]
#[should_panic(expected = "released an assignment the worker did not hold")]
fn a_release_without_an_assignment_is_a_defensive_failure() {
	ExtBuilder.build().execute_with(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		Workers::note_released(&worker(1), 10, Outcome::Completed);
	});
}
