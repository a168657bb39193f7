//! What `pallet-session` is given at each boundary, and when.

use super::*;
use crate::{CurrentSession, SessionLength};
use frame_support::{assert_ok, traits::Get};
use sp_runtime::BuildStorage;

#[test]
fn an_added_validator_authors_from_the_session_after_next() {
	ExtBuilder.build_and_execute(|| {
		let mut sessions = SessionQueue::at_genesis();
		assert_eq!(sessions.rotate(), 1);
		ready(CANDIDATE);
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), CANDIDATE));
		assert_eq!(last_event(), Event::ValidatorAdded { who: CANDIDATE, active_from: 3 });
		assert_eq!(sessions.rotate(), 2);
		assert!(!sessions.active.contains(&CANDIDATE));
		assert_eq!(last_event(), Event::SessionPlanned { session: 3, validators: 3 });
		assert_eq!(sessions.rotate(), 3);
		assert!(sessions.active.contains(&CANDIDATE));
	});
}

#[test]
fn a_removed_validator_stops_at_the_session_after_next() {
	ExtBuilder.build_and_execute(|| {
		let mut sessions = SessionQueue::at_genesis();
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), GENESIS[0]));
		assert_eq!(sessions.rotate(), 1);
		assert!(sessions.active.contains(&GENESIS[0]));
		assert_eq!(sessions.rotate(), UNTIL_ACTIVE);
		assert_eq!(sessions.active, vec![GENESIS[1]]);
	});
}

#[test]
fn an_unchanged_set_is_not_planned_again() {
	ExtBuilder.build_and_execute(|| {
		assert_eq!(rotate_session(), None);
		assert_ok!(Validators::leave(RuntimeOrigin::signed(GENESIS[0])));
		assert_eq!(rotate_session(), Some(vec![GENESIS[1]]));
		assert_eq!(rotate_session(), None);
		assert_eq!(CurrentSession::<Test>::get(), 3);
	});
}

#[test]
fn a_validator_without_keys_is_not_planned() {
	ExtBuilder.build_and_execute(|| {
		ready(CANDIDATE);
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), CANDIDATE));
		purge_keys(GENESIS[0]);
		assert_eq!(rotate_session(), Some(vec![GENESIS[1], CANDIDATE]));
	});
}

#[test]
fn when_no_planned_validator_has_keys_the_current_set_stays_and_is_planned_again() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Validators::leave(RuntimeOrigin::signed(GENESIS[0])));
		purge_keys(GENESIS[1]);
		assert_eq!(rotate_session(), None);
		set_keys(GENESIS[1]);
		assert_eq!(rotate_session(), Some(vec![GENESIS[1]]));
	});
}

#[test]
fn the_genesis_set_is_the_first_sessions_set() {
	ExtBuilder.build_and_execute(|| {
		assert_eq!(SessionQueue::at_genesis().active, GENESIS.to_vec());
		assert_eq!(held(GENESIS[0]), MINIMUM_BOND);
	});
}

#[test]
fn the_session_length_is_the_default_unless_genesis_names_one() {
	ExtBuilder.build_and_execute(|| {
		// Stored, so that a later default cannot change this chain's epoch length.
		assert!(SessionLength::<Test>::exists());
		assert_eq!(
			SessionLength::<Test>::get(),
			<<Test as crate::Config>::DefaultSessionLength as Get<u64>>::get()
		);
	});
	let mut storage = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> { balances: vec![(1, ENDOWMENT)], ..Default::default() }
		.assimilate_storage(&mut storage)
		.unwrap();
	crate::GenesisConfig::<Test> { validators: vec![(1, MINIMUM_BOND)], session_length: 25 }
		.assimilate_storage(&mut storage)
		.unwrap();
	sp_io::TestExternalities::new(storage).execute_with(|| {
		assert_eq!(SessionLength::<Test>::get(), 25);
		Validators::do_try_state().unwrap();
	});
}
