//! Registering, updating, chilling, resuming and unregistering workers.

use super::*;
use crate::{Error, Event, ServeSettings};
use frame_support::assert_noop;
use sp_core::Pair;
use sp_runtime::traits::Convert;
use veritensor_primitives::{
	possession_payload,
	traits::{SlashAmount, SlashReason, WorkerStaking},
};

#[test]
fn register_records_the_worker_and_schedules_its_settings() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1, 2], 4);

		let record = record(1);
		assert_eq!(record.operator, OPERATOR);
		assert_eq!(record.settings.current, ServeSettings::idle());
		let (from, settings) = record.settings.scheduled.clone().expect("scheduled");
		assert_eq!(from, 1 + DELAY);
		assert_eq!(settings.models, models(&[1, 2]));
		assert_eq!(settings.capacity, 4);
		assert!(!settings.chilled);
		assert_eq!(ledger(OPERATOR).workers.to_vec(), vec![worker(1)]);
		assert!(Workers::in_model_set(&model(1), &worker(1)));
		assert!(Workers::in_model_set(&model(2), &worker(1)));

		let account = KeyAccount::convert(worker(1));
		assert_eq!(Workers::worker_account(&worker(1)), Some(account));
		assert_eq!(Workers::worker_account(&worker(2)), None);
		System::assert_last_event(
			Event::Registered { worker: worker(1), operator: OPERATOR, account, from: 1 + DELAY }
				.into(),
		);
	});
}

#[test]
fn a_stolen_key_is_refused() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		bond(OTHER_OPERATOR, 2_000);
		// A proof made out to another operator.
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(OTHER_OPERATOR),
				worker(1),
				proof(1, OPERATOR),
				models(&[1]),
				1,
			),
			Error::<Test>::BadPossessionProof
		);
		// A proof by another key.
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(OPERATOR),
				worker(1),
				proof(2, OPERATOR),
				models(&[1]),
				1,
			),
			Error::<Test>::BadPossessionProof
		);
		// A proof for another chain.
		let other_chain = sp_core::H256::repeat_byte(7);
		let foreign = worker_pair(1).sign(&possession_payload(&OPERATOR, &other_chain)).into();
		assert_noop!(
			Workers::register(RuntimeOrigin::signed(OPERATOR), worker(1), foreign, models(&[1]), 1),
			Error::<Test>::BadPossessionProof
		);
		// The rightful operator registers it; nobody can take it over afterwards.
		register(OPERATOR, 1, &[1], 1);
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(OTHER_OPERATOR),
				worker(1),
				proof(1, OTHER_OPERATOR),
				models(&[1]),
				1,
			),
			Error::<Test>::AlreadyRegistered
		);
	});
}

#[test]
fn register_refuses_bad_settings() {
	ExtBuilder.build_and_execute(|| {
		let attempt = |served: &[u8], capacity| {
			Workers::register(
				RuntimeOrigin::signed(OPERATOR),
				worker(1),
				proof(1, OPERATOR),
				models(served),
				capacity,
			)
		};
		assert_noop!(attempt(&[1], 1), Error::<Test>::NotBonded);
		bond(OPERATOR, 2_000);
		assert_noop!(attempt(&[], 1), Error::<Test>::NoModels);
		assert_noop!(attempt(&[1, 2, 1], 1), Error::<Test>::DuplicateModel);
		assert_noop!(attempt(&[1, 9], 1), Error::<Test>::ModelNotListed);
		assert_noop!(attempt(&[1], 0), Error::<Test>::ZeroCapacity);
		assert_noop!(attempt(&[1], 65), Error::<Test>::CapacityTooHigh);
		// 21 x 100 exceeds the 2,000 bonded.
		assert_noop!(attempt(&[1], 21), Error::<Test>::BondBelowCommitments);
		assert_ok!(attempt(&[1], 20));
	});
}

#[test]
fn the_bond_covers_all_workers_together() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 12);
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(OPERATOR),
				worker(2),
				proof(2, OPERATOR),
				models(&[1]),
				9,
			),
			Error::<Test>::BondBelowCommitments
		);
		register(OPERATOR, 2, &[1], 8);
		assert_noop!(
			Workers::update(RuntimeOrigin::signed(OPERATOR), worker(2), models(&[1]), 9),
			Error::<Test>::BondBelowCommitments
		);
	});
}

#[test]
fn an_operator_has_a_bounded_number_of_workers() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 100_000);
		let most = <<Test as crate::Config>::MaxWorkersPerOperator as Get<u32>>::get() as u8;
		// Spread over the three models, within the seats one operator may hold in each.
		for seed in 1..=most {
			register(OPERATOR, seed, &[seed % 3 + 1], 1);
		}
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(OPERATOR),
				worker(most + 1),
				proof(most + 1, OPERATOR),
				models(&[1]),
				1,
			),
			Error::<Test>::TooManyWorkers
		);
	});
}

#[test]
fn update_takes_effect_after_the_delay() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		let now = System::block_number();
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[2]), 5));
		System::assert_last_event(
			Event::Updated { worker: worker(1), models: 1, capacity: 5, from: now + DELAY }.into(),
		);
		let record = record(1);
		assert_eq!(record.settings.at(now).models, models(&[1]));
		assert_eq!(record.settings.at(now).capacity, 2);
		assert_eq!(record.settings.at(now + DELAY).models, models(&[2]));
		assert_eq!(record.settings.at(now + DELAY).capacity, 5);
		// Until then the worker sits in both models' sets.
		assert!(Workers::in_model_set(&model(1), &worker(1)));
		assert!(Workers::in_model_set(&model(2), &worker(1)));

		// A later change replaces the scheduled one and restarts the delay.
		run_to_block(now + 2);
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[3]), 1));
		let record = self::record(1);
		assert_eq!(record.settings.at(now + DELAY).models, models(&[1]));
		assert_eq!(record.settings.at(now + 2 + DELAY).models, models(&[3]));
		assert!(!Workers::in_model_set(&model(2), &worker(1)));
		assert!(Workers::in_model_set(&model(3), &worker(1)));

		// Once in effect, the next write drops the model it no longer serves.
		run_to_block(now + 2 + DELAY);
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[3]), 2));
		assert!(!Workers::in_model_set(&model(1), &worker(1)));
		assert!(Workers::in_model_set(&model(3), &worker(1)));
	});
}

#[test]
fn only_the_operator_changes_a_worker() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		bond(OTHER_OPERATOR, 2_000);
		let other = RuntimeOrigin::signed(OTHER_OPERATOR);
		assert_noop!(
			Workers::update(other.clone(), worker(1), models(&[1]), 1),
			Error::<Test>::NotOperator
		);
		assert_noop!(Workers::chill(other.clone(), worker(1)), Error::<Test>::NotOperator);
		assert_noop!(Workers::resume(other.clone(), worker(1)), Error::<Test>::NotOperator);
		assert_noop!(Workers::unregister(other, worker(1)), Error::<Test>::NotOperator);
		let mine = RuntimeOrigin::signed(OPERATOR);
		assert_noop!(
			Workers::update(mine.clone(), worker(9), models(&[1]), 1),
			Error::<Test>::UnknownWorker
		);
		assert_noop!(Workers::chill(mine.clone(), worker(9)), Error::<Test>::UnknownWorker);
		assert_noop!(Workers::unregister(mine, worker(9)), Error::<Test>::UnknownWorker);
	});
}

#[test]
fn update_refuses_models_that_are_not_listed() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		delist(model(2));
		assert_noop!(
			Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[1, 2]), 2),
			Error::<Test>::ModelNotListed
		);
	});
}

#[test]
fn chill_and_resume_are_delayed() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		let now = System::block_number();
		assert_noop!(
			Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(1)),
			Error::<Test>::NotChilled
		);
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		System::assert_last_event(Event::Chilled { worker: worker(1), from: now + DELAY }.into());
		assert_noop!(
			Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)),
			Error::<Test>::AlreadyChilled
		);
		assert!(!record(1).settings.at(now + DELAY - 1).chilled);
		assert!(record(1).settings.at(now + DELAY).chilled);

		run_to_block(now + DELAY);
		assert_ok!(Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(1)));
		System::assert_last_event(
			Event::Resumed { worker: worker(1), from: now + 2 * DELAY }.into(),
		);
		assert!(record(1).settings.at(now + 2 * DELAY - 1).chilled);
		assert!(!record(1).settings.at(now + 2 * DELAY).chilled);
	});
}

#[test]
fn unregister_needs_a_chill_in_effect_and_no_assignments() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 2);
		let origin = RuntimeOrigin::signed(OPERATOR);
		assert_noop!(
			Workers::unregister(origin.clone(), worker(1)),
			Error::<Test>::ChillNotInEffect
		);
		assert_ok!(Workers::chill(origin.clone(), worker(1)));
		assert_noop!(
			Workers::unregister(origin.clone(), worker(1)),
			Error::<Test>::ChillNotInEffect
		);

		// An assignment taken before the chill took effect must finish first.
		assert_ok!(Workers::note_assigned(&worker(1), 50));
		run_to_block(System::block_number() + DELAY);
		assert_noop!(
			Workers::unregister(origin.clone(), worker(1)),
			Error::<Test>::OpenAssignments
		);
		Workers::note_released(&worker(1), 50, veritensor_primitives::traits::Outcome::Completed);

		assert_ok!(Workers::unregister(origin, worker(1)));
		System::assert_last_event(
			Event::Unregistered { worker: worker(1), operator: OPERATOR }.into(),
		);
		assert!(WorkersMap::<Test>::get(worker(1)).is_none());
		assert!(ledger(OPERATOR).workers.is_empty());
		assert!(!Workers::in_model_set(&model(1), &worker(1)));
		// The key can be registered again, by anyone who holds it.
		bond(OTHER_OPERATOR, 2_000);
		register(OTHER_OPERATOR, 1, &[1], 1);
	});
}

#[test]
fn a_registration_not_yet_in_effect_can_be_undone_at_once() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 2);
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		assert_ok!(Workers::unregister(RuntimeOrigin::signed(OPERATOR), worker(1)));
		// With the worker gone, the whole bond can leave.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 2_000));
	});
}

#[test]
fn nobody_unbonds_below_the_open_exposure() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 2_000, 1, 10);
		assert_ok!(Workers::note_assigned(&worker(1), 100));
		assert_ok!(Workers::note_assigned(&worker(1), 80));
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		run_to_block(System::block_number() + DELAY);
		// Chilled, the capacity needs no cover any more, but the 180 of open exposure does.
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(OPERATOR), 2_000),
			Error::<Test>::BondBelowCommitments
		);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 1_000));
		Workers::note_released(&worker(1), 100, veritensor_primitives::traits::Outcome::Completed);
		Workers::note_released(&worker(1), 80, veritensor_primitives::traits::Outcome::Completed);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 1_000));
		assert_eq!(ledger(OPERATOR).active, 0);
		assert_eq!(held(OPERATOR), 2_000);
	});
}

#[test]
fn an_operator_slashed_below_the_minimum_bond_adds_no_worker() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, MIN_BOND + MAX_SLASH);
		register(OPERATOR, 1, &[1], 1);
		run_to_block(1 + DELAY);
		// A slash takes the bond below the minimum: every worker is chilled...
		assert_ok!(Workers::slash(
			&worker(1),
			SlashAmount::Fixed(2 * MAX_SLASH),
			SlashReason::NoShow,
			None
		));
		assert!(ledger(OPERATOR).active < MIN_BOND);
		// ...and no new worker can take a seat in a model's set until the operator bonds more.
		assert_noop!(
			Workers::register(
				RuntimeOrigin::signed(OPERATOR),
				worker(2),
				proof(2, OPERATOR),
				models(&[1]),
				1
			),
			Error::<Test>::BondBelowMinimum
		);
		assert!(!Workers::in_model_set(&model(1), &worker(2)));
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(OPERATOR), 2 * MAX_SLASH));
		register(OPERATOR, 2, &[1], 1);
	});
}

#[test]
fn earnings_go_to_the_operator_or_the_payee_it_sets() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Workers::set_payee(RuntimeOrigin::signed(OPERATOR), 77),
			Error::<Test>::NotBonded
		);
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 1);
		assert_eq!(Workers::payee(&worker(1)), Some(OPERATOR));
		assert_eq!(Workers::payee(&worker(2)), None);

		assert_ok!(Workers::set_payee(RuntimeOrigin::signed(OPERATOR), 77));
		System::assert_last_event(Event::PayeeSet { operator: OPERATOR, payee: 77 }.into());
		assert_eq!(Workers::payee(&worker(1)), Some(77));

		// Setting the operator itself clears the choice.
		assert_ok!(Workers::set_payee(RuntimeOrigin::signed(OPERATOR), OPERATOR));
		assert!(!crate::Payees::<Test>::contains_key(OPERATOR));
		assert_eq!(Workers::payee(&worker(1)), Some(OPERATOR));
	});
}
