//! Bonds: placed, held while validating, released after the bonding duration.

use super::*;
use crate::{Bonds, CurrentSession, Error, SessionKeyRegistry, ValidatorBond};
use frame_support::{assert_noop, assert_ok, traits::Get};
use sp_runtime::TokenError;

type BondingDuration = <Test as crate::Config>::BondingDuration;

#[test]
fn a_first_bond_must_reach_the_minimum_and_later_ones_add_to_it() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Validators::bond(RuntimeOrigin::signed(CANDIDATE), MINIMUM_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_noop!(
			Validators::bond(RuntimeOrigin::signed(CANDIDATE), 0),
			Error::<Test>::ZeroBond
		);
		assert_ok!(Validators::bond(RuntimeOrigin::signed(CANDIDATE), MINIMUM_BOND));
		assert_ok!(Validators::bond(RuntimeOrigin::signed(CANDIDATE), 5));
		assert_eq!(held(CANDIDATE), MINIMUM_BOND + 5);
		assert_eq!(
			last_event(),
			Event::Bonded { who: CANDIDATE, amount: 5, total: MINIMUM_BOND + 5 }
		);
	});
}

#[test]
fn nobody_bonds_funds_it_does_not_have() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Validators::bond(RuntimeOrigin::signed(POOR), MINIMUM_BOND),
			TokenError::FundsUnavailable
		);
	});
}

#[test]
fn a_candidate_never_added_withdraws_at_once() {
	ExtBuilder.build_and_execute(|| {
		assert_ok!(Validators::bond(RuntimeOrigin::signed(CANDIDATE), MINIMUM_BOND));
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(CANDIDATE)));
		assert_eq!(held(CANDIDATE), 0);
		assert!(Bonds::<Test>::get(CANDIDATE).is_none());
		assert_eq!(last_event(), Event::BondWithdrawn { who: CANDIDATE, amount: MINIMUM_BOND });
		assert_noop!(
			Validators::withdraw_bond(RuntimeOrigin::signed(CANDIDATE)),
			Error::<Test>::NotBonded
		);
	});
}

#[test]
fn a_validator_cannot_withdraw_its_bond() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Validators::withdraw_bond(RuntimeOrigin::signed(GENESIS[0])),
			Error::<Test>::StillValidator
		);
		assert_eq!(held(GENESIS[0]), MINIMUM_BOND);
	});
}

#[test]
fn a_former_validator_withdraws_only_after_the_bonding_duration() {
	ExtBuilder.build_and_execute(|| {
		let mut sessions = SessionQueue::at_genesis();
		sessions.rotate();
		assert_ok!(Validators::leave(RuntimeOrigin::signed(GENESIS[0])));
		let release: sp_staking::SessionIndex = 1 + <BondingDuration as Get<u32>>::get();
		assert_eq!(
			Bonds::<Test>::get(GENESIS[0]),
			Some(ValidatorBond { amount: MINIMUM_BOND, release_at: Some(release) })
		);
		// Still authoring for two sessions, then answerable until the release.
		while sessions.rotate() < release {
			assert_noop!(
				Validators::withdraw_bond(RuntimeOrigin::signed(GENESIS[0])),
				Error::<Test>::BondStillHeld
			);
		}
		assert!(!sessions.active.contains(&GENESIS[0]));
		assert!(KeyedAccounts::has_keys(&GENESIS[0]));
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(GENESIS[0])));
		assert_eq!(held(GENESIS[0]), 0);
		// Its session keys go with the bond.
		assert!(!KeyedAccounts::has_keys(&GENESIS[0]));
		assert_eq!(Balances::free_balance(GENESIS[0]), ENDOWMENT);
	});
}

#[test]
fn governance_cannot_bring_a_former_validator_back_until_it_bonds_anew() {
	ExtBuilder.build_and_execute(|| {
		let release: u32 = CurrentSession::<Test>::get() + <BondingDuration as Get<u32>>::get();
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), GENESIS[0]));
		// Re-adding it would restart its release at the next removal, for ever, and put back a
		// node it may have stopped.
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), GENESIS[0]),
			Error::<Test>::FormerValidator
		);
		assert_eq!(
			Bonds::<Test>::get(GENESIS[0]),
			Some(ValidatorBond { amount: MINIMUM_BOND, release_at: Some(release) })
		);
		// Still refused once released, until the account itself stands again.
		CurrentSession::<Test>::put(release);
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::root(), GENESIS[0]),
			Error::<Test>::FormerValidator
		);
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(GENESIS[0])));
		assert_ok!(Validators::bond(RuntimeOrigin::signed(GENESIS[0]), MINIMUM_BOND));
		set_keys(GENESIS[0]);
		assert_ok!(Validators::add_validator(RuntimeOrigin::root(), GENESIS[0]));
		assert!(crate::Validators::<Test>::get().contains(&GENESIS[0]));
	});
}
