//! Refusing work has a cost: a worker whose refusal rate on a model stands out against its
//! peers' is chilled at once; refusals that everyone shares chill nobody.

use super::*;
use crate::{Event, WorkerTallies};
use veritensor_primitives::traits::{Outcome, WorkerStaking};

/// Gives `seed` an assignment of model 1 and ends it with an answer or a refusal.
fn answer(seed: u8, refused: bool) {
	assert_ok!(Workers::note_assigned(&worker(seed), MAX_SLASH));
	let outcome = if refused { Outcome::Failed } else { Outcome::Completed };
	Workers::note_released(&worker(seed), MAX_SLASH, outcome);
	Workers::note_answer(&worker(seed), &model(1), refused);
}

fn chilled_now(seed: u8) -> bool {
	record(seed).settings.at(System::block_number()).chilled
}

fn chilled_for_refusals() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Workers(event @ Event::ChilledForRefusals { .. }) => Some(event),
			_ => None,
		})
		.collect()
}

/// Workers 1 and 2 of two operators, and 3 of a third, serving model 1.
fn three_workers() {
	eligible_worker(OPERATOR, 2_000, 1, 4);
	eligible_worker(OTHER_OPERATOR, 2_000, 2, 4);
	eligible_worker(REPORTER, 2_000, 3, 4);
}

#[test]
fn a_worker_refusing_everything_its_peers_answer_is_chilled() {
	ExtBuilder.build_and_execute(|| {
		three_workers();
		for _ in 0..10 {
			answer(2, false);
			answer(3, false);
		}
		for round in 1..=20 {
			answer(1, true);
			assert_eq!(
				chilled_now(1),
				round == 20,
				"judged only with 20 answers, at round {round}"
			);
		}
		System::assert_last_event(
			Event::ChilledForRefusals {
				worker: worker(1),
				model: model(1),
				refused: 20,
				answered: 20,
				peers_refused: 0,
				peers_answered: 20,
			}
			.into(),
		);
		// At once: the draw no longer sees it; its peers are untouched.
		let keys: Vec<_> =
			Workers::candidates(&model(1), MAX_SLASH).into_iter().map(|c| c.worker).collect();
		assert_eq!(keys, vec![worker(2), worker(3)]);
		assert!(!chilled_now(2) && !chilled_now(3));
		assert!(WorkerTallies::<Test>::get(model(1), worker(1)).is_none(), "a fresh sample");
		// Its refusals do not stay behind as its peers' once it resumes.
		let all = crate::ModelTallies::<Test>::get(model(1));
		assert_eq!((all.answered, all.refused), (20, 0));
	});
}

#[test]
fn a_model_down_for_everyone_chills_nobody() {
	ExtBuilder.build_and_execute(|| {
		three_workers();
		for _ in 0..40 {
			for seed in 1..=3 {
				answer(seed, true);
			}
		}
		assert!(chilled_for_refusals().is_empty());
		assert!((1..=3).all(|seed| !chilled_now(seed)));
	});
}

#[test]
fn the_tolerance_separates_bad_luck_from_refusing() {
	ExtBuilder.build_and_execute(|| {
		three_workers();
		// Worker 3 refuses one job in four, worker 1 one in two, worker 2 everything. Against
		// its peers, worker 1 stays below them (50% against 62.5%); worker 2 exceeds its peers'
		// 37.5% by more than the 50 points tolerated.
		for round in 0..40 {
			answer(3, round % 4 == 0);
			answer(1, round % 2 == 0);
			if !chilled_now(2) {
				answer(2, true);
			}
		}
		assert!(!chilled_now(1), "below its peers");
		assert!(chilled_now(2), "far above its peers");
		assert_eq!(chilled_for_refusals().len(), 1);

		// A new window: worker 3 answers everything, worker 1 refuses two jobs in five, 40
		// points above its peer: tolerated.
		run_to_block(REFUSAL_WINDOW);
		for round in 0..60 {
			answer(3, false);
			answer(1, round % 5 < 2);
		}
		assert!(!chilled_now(1), "within the tolerance");
		assert_eq!(chilled_for_refusals().len(), 1);

		// Another: two in three, 67 points above, is not.
		run_to_block(2 * REFUSAL_WINDOW);
		for round in 0..60 {
			answer(3, false);
			if !chilled_now(1) {
				answer(1, round % 3 != 0);
			}
		}
		assert!(chilled_now(1), "above the tolerance");
	});
}

#[test]
fn refusals_of_an_earlier_window_are_forgotten() {
	ExtBuilder.build_and_execute(|| {
		three_workers();
		for _ in 0..10 {
			answer(2, false);
			answer(3, false);
		}
		for _ in 0..12 {
			answer(1, true);
		}
		run_to_block(REFUSAL_WINDOW);
		for _ in 0..10 {
			answer(2, false);
			answer(3, false);
		}
		for _ in 0..12 {
			answer(1, true);
		}
		assert!(!chilled_now(1), "twelve refusals in each window: too few to judge");
		for _ in 0..8 {
			answer(1, true);
		}
		assert!(chilled_now(1));
	});
}

#[test]
fn a_worker_alone_on_a_model_is_never_judged() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 4);
		for _ in 0..40 {
			answer(1, true);
		}
		assert!(!chilled_now(1), "no peers to compare with");
		assert_eq!(record(1).stats.failed, 40);
	});
}
