//! Seats in a model's set: ranked by the stake the draw weighs, at most a few per operator, and
//! evictions that reach the draw only after the delay.

use super::{eligibility::fill_model_one, *};
use crate::{Error, Event, ModelWorkers};
use frame_support::assert_noop;
use veritensor_primitives::traits::WorkerStaking;

fn candidate_keys(seed: u8) -> Vec<veritensor_primitives::WorkerId> {
	Workers::candidates(&model(seed), MAX_SLASH)
		.into_iter()
		.map(|candidate| candidate.worker)
		.collect()
}

fn try_register(operator: AccountId, seed: u8, served: &[u8]) -> sp_runtime::DispatchResult {
	Workers::register(
		RuntimeOrigin::signed(operator),
		worker(seed),
		proof(seed, operator),
		models(served),
		1,
	)
}

fn seats() -> u8 {
	<<Test as crate::Config>::MaxWorkersPerModel as Get<u32>>::get() as u8
}

#[test]
fn one_operator_holds_at_most_its_share_of_a_models_seats() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 100_000);
		let cap = <<Test as crate::Config>::MaxWorkersPerModelPerOperator as Get<u32>>::get();
		for seed in 1..=cap as u8 {
			register(OPERATOR, seed, &[1], 1);
		}
		run_to_block(1 + DELAY);
		assert_noop!(try_register(OPERATOR, 20, &[1]), Error::<Test>::OperatorSeatsFull);
		assert_noop!(try_register(OPERATOR, 20, &[2, 1]), Error::<Test>::OperatorSeatsFull);
		// Other models still take the operator's workers, and so does model 1 once a seat is
		// given up.
		register(OPERATOR, 20, &[2], 1);
		// A serving worker holds its seat until it no longer serves the model; one that never
		// served it gives the seat up at once.
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		assert_noop!(try_register(OPERATOR, 21, &[1]), Error::<Test>::OperatorSeatsFull);
		run_to_block(System::block_number() + DELAY);
		register(OPERATOR, 21, &[1], 1);
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(21)));
		register(OPERATOR, 22, &[1], 1);
	});
}

#[test]
fn more_stake_takes_the_seat_of_the_lowest_and_the_draw_sees_it_after_the_delay() {
	ExtBuilder.build_and_execute(|| {
		fill_model_one();
		// Operator 11 (workers 13 to 16) has the lowest stake after this.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(11), 6_000));
		run_to_block(System::block_number() + DELAY);

		// A fresh bond weighs nothing until the delay has passed: no reaction to known
		// randomness, not even by outbidding.
		bond(REPORTER, 20_000);
		assert_noop!(try_register(REPORTER, 50, &[1]), Error::<Test>::ModelFull);
		run_to_block(System::block_number() + DELAY);
		let now = System::block_number();
		assert_ok!(Workers::note_assigned(&worker(16), MAX_SLASH));
		assert_ok!(try_register(REPORTER, 50, &[1]));

		// Among the equally lowest, the latest to register goes.
		System::assert_has_event(
			Event::Evicted {
				worker: worker(16),
				model: model(1),
				by: Some(worker(50)),
				from: now + DELAY,
			}
			.into(),
		);
		assert_eq!(record(16).open_assignments, 1, "the evicted worker keeps its assignment");
		Workers::note_released(
			&worker(16),
			MAX_SLASH,
			veritensor_primitives::traits::Outcome::Completed,
		);
		assert_eq!(record(16).stats.completed, 1);
		// Until the newcomer can be drawn, the evicted worker still is.
		run_to_block(now + DELAY - 1);
		let keys = candidate_keys(1);
		assert!(keys.contains(&worker(16)) && !keys.contains(&worker(50)));
		run_to_block(now + DELAY);
		let keys = candidate_keys(1);
		assert!(!keys.contains(&worker(16)) && keys.contains(&worker(50)));
		// Its settings stay as its operator left them: it still asks for model 1, without a seat.
		assert_eq!(record(16).settings.latest().models, models(&[1]));
	});
}

#[test]
fn an_eviction_moves_no_change_of_the_evicted_workers_own() {
	ExtBuilder.build_and_execute(|| {
		fill_model_one();
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(11), 6_000));
		bond(REPORTER, 20_000);
		run_to_block(System::block_number() + DELAY);
		// Worker 16 is to serve model 2 as well from block `joins`.
		let joins = System::block_number() + DELAY;
		assert_ok!(Workers::update(RuntimeOrigin::signed(11), worker(16), models(&[1, 2]), 1));
		run_to_block(System::block_number() + 2);
		let evicted_from = System::block_number() + DELAY;
		assert_ok!(try_register(REPORTER, 50, &[1]));

		// Its change to model 2 keeps its block; model 1 stays until the newcomer starts.
		let scheduled = record(16).settings.scheduled.expect("its change is still scheduled");
		assert_eq!((scheduled.0, scheduled.1.models.to_vec()), (joins, vec![model(1), model(2)]));
		run_to_block(joins);
		assert!(candidate_keys(2).contains(&worker(16)));
		assert!(candidate_keys(1).contains(&worker(16)), "drawn for model 1 until the delay");
		run_to_block(evicted_from);
		assert!(!candidate_keys(1).contains(&worker(16)));
		assert!(candidate_keys(2).contains(&worker(16)));
	});
}

#[test]
fn an_evicted_worker_comes_back_only_by_taking_a_seat_again() {
	ExtBuilder.build_and_execute(|| {
		fill_model_one();
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(11), 6_000));
		bond(REPORTER, 20_000);
		run_to_block(System::block_number() + DELAY);
		assert_ok!(try_register(REPORTER, 50, &[1]));
		let ask_again = || Workers::update(RuntimeOrigin::signed(11), worker(16), models(&[1]), 1);
		// In the block of the eviction no draw has seen it: asking again only needs a seat.
		assert_noop!(ask_again(), Error::<Test>::ModelFull);
		// Later, asking again before the eviction takes effect would stretch its last draws.
		run_to_block(System::block_number() + 1);
		assert_noop!(ask_again(), Error::<Test>::EvictionPending);
		run_to_block(System::block_number() + DELAY - 2);
		assert_noop!(ask_again(), Error::<Test>::EvictionPending);
		// In effect: its operator, still the lowest, finds no seat.
		run_to_block(System::block_number() + 1);
		assert_noop!(ask_again(), Error::<Test>::ModelFull);
		// With more stake than the lowest seated (10,000), it can.
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(11), 20_000));
		run_to_block(System::block_number() + DELAY);
		assert!(!candidate_keys(1).contains(&worker(16)), "its eviction is in effect");
		assert_ok!(Workers::update(RuntimeOrigin::signed(11), worker(16), models(&[1]), 1));
		// Its settings serve model 1 already, yet the new seat reaches the draw only after the
		// delay, like any other.
		run_to_block(System::block_number() + DELAY - 1);
		assert!(!candidate_keys(1).contains(&worker(16)));
		run_to_block(System::block_number() + 1);
		assert!(candidate_keys(1).contains(&worker(16)));
	});
}

#[test]
fn equal_stake_takes_no_seat() {
	ExtBuilder.build_and_execute(|| {
		fill_model_one();
		bond(REPORTER, 10_000);
		run_to_block(System::block_number() + DELAY);
		assert_noop!(try_register(REPORTER, 50, &[1]), Error::<Test>::ModelFull);
		// A seat elsewhere is unaffected.
		assert_ok!(try_register(REPORTER, 50, &[2]));
		// Nor can an update or a resume push in.
		assert_noop!(
			Workers::update(RuntimeOrigin::signed(REPORTER), worker(50), models(&[2, 1]), 1),
			Error::<Test>::ModelFull
		);
	});
}

#[test]
fn the_capture_of_a_model_is_undone_by_more_stake() {
	ExtBuilder.build_and_execute(|| {
		// The attack: operators at the minimum bond fill every seat of models 1 to 3 with
		// capacity-one workers.
		let cap = <<Test as crate::Config>::MaxWorkersPerModelPerOperator as Get<u32>>::get();
		let attackers: Vec<AccountId> =
			MORE_OPERATORS.take((seats() as u32 / cap) as usize).collect();
		let mut seed = 100u8;
		for operator in &attackers {
			bond(*operator, MIN_BOND);
			for _ in 0..cap {
				register(*operator, seed, &[1, 2, 3], 1);
				seed += 1;
			}
		}
		run_to_block(System::block_number() + DELAY);
		assert_eq!(candidate_keys(1).len(), seats() as usize);

		// Honest operators with more stake still get in, one seat at a time, up to their share.
		bond(OPERATOR, 2 * MIN_BOND);
		bond(OTHER_OPERATOR, 2 * MIN_BOND);
		run_to_block(System::block_number() + DELAY);
		register(OPERATOR, 1, &[1, 2, 3], 1);
		register(OPERATOR, 2, &[1], 1);
		register(OTHER_OPERATOR, 3, &[1, 2], 1);
		run_to_block(System::block_number() + DELAY);
		let keys = candidate_keys(1);
		assert_eq!(keys.len(), seats() as usize);
		assert!([1, 2, 3].iter().all(|seed| keys.contains(&worker(*seed))));
		assert!(candidate_keys(2).contains(&worker(3)) && candidate_keys(3).contains(&worker(1)));
		let evictions = System::events()
			.into_iter()
			.filter(|record| matches!(record.event, RuntimeEvent::Workers(Event::Evicted { .. })))
			.count();
		assert_eq!(evictions, 6, "one seat of each model per honest registration");
	});
}

#[test]
fn a_set_without_room_drops_the_eviction_nearest_its_end() {
	ExtBuilder.build_and_execute(|| {
		let seats = seats();
		// Four operators at 20,000 evict the sixteen seated workers at 10,000, eight a block: the
		// set then holds twice its seats, half of them evicted but still drawn.
		let newcomers: Vec<AccountId> = MORE_OPERATORS.skip(2).take(4).collect();
		for operator in &newcomers {
			bond(*operator, 20_000);
		}
		bond(REPORTER, 50_000);
		fill_model_one();
		let mut seed = 100u8;
		for (index, operator) in newcomers.iter().enumerate() {
			if index == 2 {
				run_to_block(System::block_number() + 1);
			}
			for _ in 0..4 {
				register(*operator, seed, &[1], 1);
				seed += 1;
			}
		}
		assert_eq!(ModelWorkers::<Test>::get(model(1)).len(), 2 * seats as usize);
		// The lowest and latest registered go first: workers 16 to 9 in the first block.
		let ends = |seed: u8| {
			ModelWorkers::<Test>::get(model(1))
				.iter()
				.find(|entry| entry.worker == worker(seed))
				.and_then(|entry| entry.evicted_from)
		};
		assert!(ends(9).unwrap() < ends(8).unwrap());

		// More stake evicts a newcomer: the set has no room, and the eviction nearest its end
		// goes early, not the one just made.
		assert_ok!(try_register(REPORTER, 50, &[1]));
		assert_eq!(ModelWorkers::<Test>::get(model(1)).len(), 2 * seats as usize);
		let in_set = |seed: u8| Workers::in_model_set(&model(1), &worker(seed));
		assert!(in_set(50) && in_set(115), "the evicted newcomer stays, drawn until the delay");
		// Of the evictions ending first (workers 9 to 16), the first in the set goes.
		assert!(!in_set(9) && in_set(10) && in_set(8));
	});
}

#[test]
fn a_worker_evicted_before_it_starts_is_drawn_from_its_start_until_the_delay() {
	ExtBuilder.build_and_execute(|| {
		// Fifteen seats taken at 10,000 each; worker 40 of operator 12 (3,000) takes the last.
		let operators = [OPERATOR, OTHER_OPERATOR, 10, 11];
		for operator in operators {
			bond(operator, 10_000);
		}
		bond(12, 3_000);
		bond(REPORTER, 20_000);
		for seed in 1..=15u8 {
			register(operators[(seed as usize - 1) / 4], seed, &[1], 1);
		}
		run_to_block(System::block_number() + DELAY);
		let starts = System::block_number() + DELAY;
		register(12, 40, &[1], 1);
		// Evicted before it starts: it is still drawn from its start until the newcomer's.
		run_to_block(System::block_number() + 2);
		let evicted_from = System::block_number() + DELAY;
		assert_ok!(try_register(REPORTER, 50, &[1]));
		System::assert_has_event(
			Event::Evicted {
				worker: worker(40),
				model: model(1),
				by: Some(worker(50)),
				from: evicted_from,
			}
			.into(),
		);
		run_to_block(starts - 1);
		assert!(!candidate_keys(1).contains(&worker(40)));
		run_to_block(starts);
		assert!(candidate_keys(1).contains(&worker(40)));
		run_to_block(evicted_from);
		let keys = candidate_keys(1);
		assert!(!keys.contains(&worker(40)) && keys.contains(&worker(50)));
	});
}

#[test]
fn putting_off_a_leave_keeps_no_more_workers_drawn_than_the_share() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 100_000);
		for seed in 1..=4u8 {
			register(OPERATOR, seed, &[1], 1);
		}
		run_to_block(System::block_number() + DELAY);
		// Worker 1 moves to model 2, and keeps moving before the move takes effect: it stays
		// drawn for model 1 meanwhile, so it keeps its seat there and counts against the
		// operator's share.
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[2]), 1));
		assert_noop!(try_register(OPERATOR, 5, &[1]), Error::<Test>::OperatorSeatsFull);
		run_to_block(System::block_number() + DELAY - 1);
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[3]), 1));
		assert!(candidate_keys(1).contains(&worker(1)));
		assert_noop!(try_register(OPERATOR, 5, &[1]), Error::<Test>::OperatorSeatsFull);
		// Once it has left, the share has room again.
		run_to_block(System::block_number() + DELAY);
		assert_ok!(try_register(OPERATOR, 5, &[1]));
	});
}
