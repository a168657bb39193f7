//! Bonding, unbonding, withdrawing and rebonding.

use super::*;
use crate::{Error, Event, UnlockChunk};
use frame_support::assert_noop;

#[test]
fn bond_holds_the_funds_and_opens_a_ledger() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		assert_eq!(held(OPERATOR), 2_000);
		assert_eq!(Balances::free_balance(OPERATOR), ENDOWMENT - 2_000);
		let ledger = ledger(OPERATOR);
		assert_eq!(ledger.active, 2_000);
		assert!(ledger.unbonding.is_empty());
		// The draw weighs the new stake only after the delay.
		assert_eq!(*ledger.stake.at(1), 0);
		assert_eq!(*ledger.stake.at(1 + DELAY), 2_000);
		System::assert_last_event(Event::Bonded { operator: OPERATOR, amount: 2_000 }.into());
	});
}

#[test]
fn bond_refuses_bad_requests() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Workers::bond(RuntimeOrigin::signed(OPERATOR), MIN_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_noop!(
			Workers::bond(RuntimeOrigin::signed(POOR), MIN_BOND),
			Error::<Test>::InsufficientBalance
		);
		bond(OPERATOR, MIN_BOND);
		assert_noop!(
			Workers::bond(RuntimeOrigin::signed(OPERATOR), MIN_BOND),
			Error::<Test>::AlreadyBonded
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(OTHER_OPERATOR), 10),
			Error::<Test>::NotBonded
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(OPERATOR), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Workers::bond_extra(RuntimeOrigin::signed(OPERATOR), ENDOWMENT),
			Error::<Test>::InsufficientBalance
		);
	});
}

#[test]
fn bond_extra_adds_to_the_bond_and_schedules_the_stake() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, MIN_BOND);
		run_to_block(10);
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(OPERATOR), 500));
		assert_eq!(held(OPERATOR), MIN_BOND + 500);
		let ledger = ledger(OPERATOR);
		assert_eq!(ledger.active, MIN_BOND + 500);
		assert_eq!(*ledger.stake.at(10), MIN_BOND);
		assert_eq!(*ledger.stake.at(10 + DELAY - 1), MIN_BOND);
		assert_eq!(*ledger.stake.at(10 + DELAY), MIN_BOND + 500);
		System::assert_last_event(Event::Bonded { operator: OPERATOR, amount: 500 }.into());
	});
}

#[test]
fn unbond_moves_funds_into_chunks_that_stay_held() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 3_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 500));
		// A second unbond in the same block joins the same chunk.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 200));
		run_to_block(2);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 300));
		let ledger = ledger(OPERATOR);
		assert_eq!(ledger.active, 2_000);
		assert_eq!(
			ledger.unbonding.to_vec(),
			vec![
				UnlockChunk { value: 700, unlock_at: 1 + UNBONDING },
				UnlockChunk { value: 300, unlock_at: 2 + UNBONDING },
			]
		);
		assert_eq!(held(OPERATOR), 3_000);
		System::assert_last_event(
			Event::Unbonded { operator: OPERATOR, amount: 300, unlock_at: 2 + UNBONDING }.into(),
		);
	});
}

#[test]
fn unbond_refuses_bad_requests() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 1), Error::<Test>::NotBonded);
		bond(OPERATOR, 1_500);
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(OPERATOR), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(OPERATOR), 1_501),
			Error::<Test>::InsufficientBond
		);
		// 1,500 - 600 = 900 is neither zero nor the minimum.
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(OPERATOR), 600),
			Error::<Test>::BondBelowMinimum
		);
		// Unbonding everything is fine without workers.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 1_500));
	});
}

#[test]
fn unbond_runs_out_of_chunks() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 10_000);
		let chunks = <<Test as crate::Config>::MaxUnbondingChunks as Get<u32>>::get() as u64;
		for block in 1..=chunks {
			run_to_block(block);
			assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 10));
		}
		run_to_block(chunks + 1);
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(OPERATOR), 10),
			Error::<Test>::TooManyUnbondingChunks
		);
		// Withdrawing the first chunk frees a slot.
		run_to_block(1 + UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(OPERATOR)));
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 10));
	});
}

#[test]
fn withdraw_releases_only_unlocked_chunks() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 3_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 500));
		run_to_block(5);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 400));

		run_to_block(UNBONDING);
		assert_noop!(
			Workers::withdraw_unbonded(RuntimeOrigin::signed(OPERATOR)),
			Error::<Test>::NothingToWithdraw
		);
		run_to_block(1 + UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(OPERATOR)));
		System::assert_last_event(Event::Withdrawn { operator: OPERATOR, amount: 500 }.into());
		assert_eq!(held(OPERATOR), 2_500);
		assert_eq!(Balances::free_balance(OPERATOR), ENDOWMENT - 2_500);
		assert_eq!(ledger(OPERATOR).unbonding.len(), 1);
	});
}

#[test]
fn withdrawing_everything_closes_the_ledger() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 2_000));
		run_to_block(1 + UNBONDING);
		assert_ok!(Workers::withdraw_unbonded(RuntimeOrigin::signed(OPERATOR)));
		System::assert_last_event(Event::LedgerClosed { operator: OPERATOR }.into());
		assert!(Operators::<Test>::get(OPERATOR).is_none());
		assert_eq!(held(OPERATOR), 0);
		assert_eq!(Balances::free_balance(OPERATOR), ENDOWMENT);
		// A closed ledger can be opened again.
		bond(OPERATOR, MIN_BOND);
		assert_eq!(held(OPERATOR), MIN_BOND);
	});
}

#[test]
fn rebond_takes_the_latest_chunks_first() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 3_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 500));
		run_to_block(2);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 300));

		assert_ok!(Workers::rebond(RuntimeOrigin::signed(OPERATOR), 400));
		let ledger = ledger(OPERATOR);
		assert_eq!(ledger.active, 2_600);
		assert_eq!(
			ledger.unbonding.to_vec(),
			vec![UnlockChunk { value: 400, unlock_at: 1 + UNBONDING }]
		);
		assert_eq!(held(OPERATOR), 3_000);
		System::assert_last_event(Event::Rebonded { operator: OPERATOR, amount: 400 }.into());
	});
}

#[test]
fn rebond_refuses_bad_requests() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(Workers::rebond(RuntimeOrigin::signed(OPERATOR), 1), Error::<Test>::NotBonded);
		bond(OPERATOR, 2_000);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 2_000));
		assert_noop!(
			Workers::rebond(RuntimeOrigin::signed(OPERATOR), 0),
			Error::<Test>::ZeroAmount
		);
		assert_noop!(
			Workers::rebond(RuntimeOrigin::signed(OPERATOR), 2_001),
			Error::<Test>::InsufficientUnbonding
		);
		// Back from zero, the bond must reach the minimum again.
		assert_noop!(
			Workers::rebond(RuntimeOrigin::signed(OPERATOR), MIN_BOND - 1),
			Error::<Test>::BondBelowMinimum
		);
		assert_ok!(Workers::rebond(RuntimeOrigin::signed(OPERATOR), MIN_BOND));
		assert_eq!(ledger(OPERATOR).active, MIN_BOND);
	});
}

#[test]
fn unbond_keeps_the_workers_capacity_covered() {
	ExtBuilder.build_and_execute(|| {
		// Capacity 15 at 100 per assignment needs 1,500 of the 2,000 bonded.
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 15);
		assert_noop!(
			Workers::unbond(RuntimeOrigin::signed(OPERATOR), 501),
			Error::<Test>::BondBelowCommitments
		);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 500));
	});
}
