//! Who may add, remove and leave, and the set's bounds.

use super::*;
use crate::{Error, Validators as Set};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Mutate, Get},
};
use sp_runtime::DispatchError;

#[test]
fn governance_adds_a_bonded_candidate_with_keys() {
	ExtBuilder.build_and_execute(|| {
		ready(CANDIDATE);
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), CANDIDATE));
		assert_eq!(Set::<Test>::get().into_inner(), vec![GENESIS[0], GENESIS[1], CANDIDATE]);
		assert_eq!(
			last_event(),
			Event::ValidatorAdded { who: CANDIDATE, active_from: UNTIL_ACTIVE }
		);
	});
}

#[test]
fn nobody_adds_itself_or_removes_others_without_governance() {
	ExtBuilder.build_and_execute(|| {
		ready(CANDIDATE);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::signed(CANDIDATE), CANDIDATE),
			DispatchError::BadOrigin
		);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::signed(GENESIS[0]), GENESIS[1]),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn a_candidate_needs_a_bond_and_keys() {
	ExtBuilder.build_and_execute(|| {
		set_keys(CANDIDATE);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), CANDIDATE),
			Error::<Test>::NotBonded
		);
		assert_ok!(Validators::bond(RuntimeOrigin::signed(OTHER_CANDIDATE), MINIMUM_BOND));
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), OTHER_CANDIDATE),
			Error::<Test>::NoSessionKeys
		);
	});
}

#[test]
fn a_candidate_that_withdrew_before_the_motion_closed_is_not_added() {
	ExtBuilder.build_and_execute(|| {
		ready(CANDIDATE);
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(CANDIDATE)));
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), CANDIDATE),
			Error::<Test>::NotBonded
		);
	});
}

#[test]
fn a_validator_is_added_once() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), GENESIS[0]),
			Error::<Test>::AlreadyValidator
		);
	});
}

#[test]
fn the_set_is_bounded() {
	ExtBuilder.build_and_execute(|| {
		let max = <<Test as crate::Config>::MaxValidators as Get<u32>>::get() as AccountId;
		for who in 100..100 + max - GENESIS.len() as AccountId {
			<Balances as Mutate<AccountId>>::set_balance(&who, ENDOWMENT);
			ready(who);
			assert_ok!(Validators::add_validator(RuntimeOrigin::root(), who));
		}
		ready(CANDIDATE);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), CANDIDATE),
			Error::<Test>::TooManyValidators
		);
	});
}

#[test]
fn governance_removes_a_validator_and_its_bond_is_scheduled_for_release() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), GENESIS[1]));
		assert_eq!(Set::<Test>::get().into_inner(), vec![GENESIS[0]]);
		let bonding = <<Test as crate::Config>::BondingDuration as Get<u32>>::get();
		assert_eq!(
			last_event(),
			Event::ValidatorRemoved {
				who: GENESIS[1],
				inactive_from: UNTIL_ACTIVE,
				bond_release: bonding
			}
		);
		assert_eq!(held(GENESIS[1]), MINIMUM_BOND);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), GENESIS[1]),
			Error::<Test>::NotValidator
		);
	});
}

#[test]
fn a_validator_leaves_on_its_own() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Validators::leave(RuntimeOrigin::signed(GENESIS[0])));
		assert_eq!(Set::<Test>::get().into_inner(), vec![GENESIS[1]]);
		assert!(matches!(last_event(), Event::ValidatorLeft { who, .. } if who == GENESIS[0]));
		assert_noop!(
			Validators::leave(RuntimeOrigin::signed(CANDIDATE)),
			Error::<Test>::NotValidator
		);
	});
}

#[test]
fn nobody_leaves_if_only_validators_without_keys_would_stay() {
	ExtBuilder.build_and_execute(|| {
		// Genesis[1] purged its keys: it is never planned, so it cannot be the one that stays.
		purge_keys(GENESIS[1]);
		assert_noop!(
			Validators::leave(RuntimeOrigin::signed(GENESIS[0])),
			Error::<Test>::LastValidator
		);
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), GENESIS[0]),
			Error::<Test>::LastValidator
		);
		// The keyless one may go.
		assert_ok!(Validators::leave(RuntimeOrigin::signed(GENESIS[1])));
	});
}

#[test]
fn the_last_validator_can_neither_be_removed_nor_leave() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Validators::leave(RuntimeOrigin::signed(GENESIS[0])));
		assert_noop!(
			Validators::remove_validator(RuntimeOrigin::root(), GENESIS[1]),
			Error::<Test>::LastValidator
		);
		assert_noop!(
			Validators::leave(RuntimeOrigin::signed(GENESIS[1])),
			Error::<Test>::LastValidator
		);
	});
}
