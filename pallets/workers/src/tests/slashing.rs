//! Slashes: from the active bond and unbonding chunks, the reporter's bounty, and chilling.

use super::*;
use crate::{Error, Event, UnlockChunk};
use frame_support::assert_noop;
use sp_runtime::Perbill;
use veritensor_primitives::traits::{SlashAmount, SlashReason, WorkerStaking};

fn slash(seed: u8, amount: SlashAmount<Balance>, reporter: Option<AccountId>) -> Balance {
	Workers::slash(&worker(seed), amount, SlashReason::WrongResult, reporter)
		.expect("the worker is registered")
}

#[test]
fn a_slash_takes_from_the_active_bond_and_pays_the_treasury() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 5_000, 1, 2);
		let issuance = Balances::total_issuance();
		assert_eq!(slash(1, SlashAmount::Fixed(300), None), 300);
		assert_eq!(ledger(OPERATOR).active, 4_700);
		assert_eq!(ledger(OPERATOR).slashed, 300);
		assert_eq!(held(OPERATOR), 4_700);
		assert_eq!(Balances::free_balance(TREASURY), EXISTENTIAL_DEPOSIT + 300);
		assert_eq!(Balances::total_issuance(), issuance);
		assert_eq!(record(1).stats.slashed, 1);
		assert_eq!(record(1).stats.slashed_amount, 300);
		// The draw's weight drops at once.
		assert_eq!(Workers::candidates(&model(1), MAX_SLASH)[0].stake, 4_700);
		System::assert_last_event(
			Event::Slashed {
				operator: OPERATOR,
				worker: worker(1),
				amount: 300,
				reason: SlashReason::WrongResult,
				reporter_bounty: 0,
			}
			.into(),
		);
	});
}

#[test]
fn a_slash_reaches_unbonding_chunks_latest_first() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 3_000, 1, 1);
		let now = System::block_number();
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 1_000));
		run_to_block(now + 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 500));

		// 1,500 active, then the 500 chunk, then 200 of the 1,000 chunk.
		assert_eq!(slash(1, SlashAmount::Fixed(2_200), None), 2_200);
		let ledger = ledger(OPERATOR);
		assert_eq!(ledger.active, 0);
		assert_eq!(
			ledger.unbonding.to_vec(),
			vec![UnlockChunk { value: 800, unlock_at: now + UNBONDING }]
		);
		assert_eq!(held(OPERATOR), 800);
		assert_eq!(Balances::free_balance(TREASURY), EXISTENTIAL_DEPOSIT + 2_200);
	});
}

#[test]
fn unbonding_first_does_not_escape_a_slash() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 3_000, 1, 1);
		assert_ok!(Workers::note_assigned(&worker(1), MAX_SLASH));
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		run_to_block(System::block_number() + DELAY);
		// Everything above the open exposure leaves; the rest stays at stake.
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 2_000));
		assert_eq!(slash(1, SlashAmount::Fixed(MAX_SLASH), None), MAX_SLASH);
		assert_eq!(ledger(OPERATOR).active, 900);
		assert_eq!(ledger(OPERATOR).unbonding_total(), 2_000);
	});
}

#[test]
fn a_fraction_is_of_everything_at_stake() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 4_000, 1, 1);
		assert_ok!(Workers::unbond(RuntimeOrigin::signed(OPERATOR), 2_000));
		assert_eq!(slash(1, SlashAmount::Fraction(Perbill::from_percent(10)), None), 400);
		assert_eq!(ledger(OPERATOR).active, 1_600);
		assert_eq!(ledger(OPERATOR).unbonding_total(), 2_000);
	});
}

#[test]
fn a_slash_to_zero_chills_every_worker() {
	ExtBuilder.build_and_execute(|| {
		bond(OPERATOR, 2_000);
		register(OPERATOR, 1, &[1], 5);
		register(OPERATOR, 2, &[1, 2], 5);
		run_to_block(1 + DELAY);
		let issuance = Balances::total_issuance();

		assert_eq!(slash(1, SlashAmount::Fixed(Balance::MAX), None), 2_000);
		assert_eq!(held(OPERATOR), 0);
		assert_eq!(ledger(OPERATOR).active, 0);
		assert_eq!(Balances::total_issuance(), issuance);
		let now = System::block_number();
		System::assert_has_event(Event::Chilled { worker: worker(1), from: now }.into());
		System::assert_has_event(Event::Chilled { worker: worker(2), from: now }.into());
		assert!(Workers::candidates(&model(1), MAX_SLASH).is_empty());
		assert!(Workers::candidates(&model(2), MAX_SLASH).is_empty());

		// Nothing left to take.
		assert_eq!(slash(2, SlashAmount::Fixed(100), None), 0);
	});
}

#[test]
fn the_reporter_gets_its_bounty() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 5_000, 1, 1);
		let issuance = Balances::total_issuance();
		assert_eq!(slash(1, SlashAmount::Fixed(1_000), Some(REPORTER)), 1_000);
		assert_eq!(Balances::free_balance(REPORTER), ENDOWMENT + 100);
		assert_eq!(Balances::free_balance(TREASURY), EXISTENTIAL_DEPOSIT + 900);
		assert_eq!(Balances::total_issuance(), issuance);
		System::assert_last_event(
			Event::Slashed {
				operator: OPERATOR,
				worker: worker(1),
				amount: 1_000,
				reason: SlashReason::WrongResult,
				reporter_bounty: 100,
			}
			.into(),
		);
	});
}

#[test]
fn a_bounty_too_small_for_a_new_account_goes_to_the_treasury() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 5_000, 1, 1);
		let newcomer: AccountId = 77;
		// 10% of 40 is 4, below the existential deposit of 5.
		assert_eq!(slash(1, SlashAmount::Fixed(40), Some(newcomer)), 40);
		assert_eq!(Balances::free_balance(newcomer), 0);
		assert_eq!(Balances::free_balance(TREASURY), EXISTENTIAL_DEPOSIT + 40);
	});
}

#[test]
fn falling_below_the_minimum_chills_until_the_operator_bonds_again() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 1_050, 1, 1);
		slash(1, SlashAmount::Fixed(100), None);
		assert!(Workers::candidates(&model(1), MAX_SLASH).is_empty());
		assert_noop!(
			Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(1)),
			Error::<Test>::BondBelowMinimum
		);
		// Re-bonding restores it, after the delay.
		assert_ok!(Workers::bond_extra(RuntimeOrigin::signed(OPERATOR), 500));
		assert_ok!(Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(1)));
		let now = System::block_number();
		run_to_block(now + DELAY);
		let candidates = Workers::candidates(&model(1), MAX_SLASH);
		assert_eq!(candidates.len(), 1);
		assert_eq!(candidates[0].stake, 1_450);
	});
}

#[test]
fn a_bond_short_of_the_capacity_chills_too() {
	ExtBuilder.build_and_execute(|| {
		// Capacity 20 needs all of the 2,000: any slash leaves it short.
		eligible_worker(OPERATOR, 2_000, 1, 20);
		slash(1, SlashAmount::Fixed(10), None);
		assert!(ledger(OPERATOR).active >= MIN_BOND);
		assert!(Workers::candidates(&model(1), MAX_SLASH).is_empty());
		assert_noop!(
			Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(1)),
			Error::<Test>::BondBelowCommitments
		);
		// Shrinking the worker makes it fit again.
		assert_ok!(Workers::update(RuntimeOrigin::signed(OPERATOR), worker(1), models(&[1]), 19));
		assert_ok!(Workers::resume(RuntimeOrigin::signed(OPERATOR), worker(1)));
	});
}

#[test]
fn every_reason_slashes_the_same_way() {
	ExtBuilder.build_and_execute(|| {
		eligible_worker(OPERATOR, 10_000, 1, 1);
		for reason in [
			SlashReason::NoShow,
			SlashReason::WrongResult,
			SlashReason::CommitWithoutReveal,
			SlashReason::Equivocation,
		] {
			assert_eq!(Workers::slash(&worker(1), SlashAmount::Fixed(10), reason, None), Ok(10));
			System::assert_last_event(
				Event::Slashed {
					operator: OPERATOR,
					worker: worker(1),
					amount: 10,
					reason,
					reporter_bounty: 0,
				}
				.into(),
			);
		}
		assert_eq!(record(1).stats.slashed, 4);
		assert_eq!(ledger(OPERATOR).slashed, 40);
	});
}

#[test]
fn an_unknown_worker_cannot_be_slashed() {
	ExtBuilder.build_and_execute(|| {
		assert_noop!(
			Workers::slash(&worker(1), SlashAmount::Fixed(10), SlashReason::NoShow, None),
			Error::<Test>::UnknownWorker
		);
	});
}
