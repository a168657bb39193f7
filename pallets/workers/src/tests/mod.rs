//! Unit tests, by topic. Every test runs through `ExtBuilder::build_and_execute`, which checks
//! the pallet's invariants (`do_try_state`) at the end.

mod assignments;
mod bonding;
mod eligibility;
mod genesis;
mod migration;
mod random;
mod refusals;
mod registration;
mod seats;
mod slashing;

use crate::{mock::*, HoldReason, OperatorLedger, Operators, WorkerRecord, Workers as WorkersMap};
use frame_support::{
	assert_ok,
	traits::{fungible::InspectHold, Get},
};

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Workers(HoldReason::OperatorBond), &who)
}

fn ledger(who: AccountId) -> OperatorLedger<Test> {
	Operators::<Test>::get(who).expect("the operator is bonded")
}

fn record(seed: u8) -> WorkerRecord<Test> {
	WorkersMap::<Test>::get(worker(seed)).expect("the worker is registered")
}

fn bond(who: AccountId, amount: Balance) {
	assert_ok!(Workers::bond(RuntimeOrigin::signed(who), amount));
}

fn register(operator: AccountId, seed: u8, served: &[u8], capacity: u32) {
	assert_ok!(Workers::register(
		RuntimeOrigin::signed(operator),
		worker(seed),
		proof(seed, operator),
		models(served),
		capacity,
	));
}

/// An operator with `bond` bonded and worker `seed` serving model 1 with `capacity`, eligible
/// (the delay has passed) at the block this returns.
fn eligible_worker(operator: AccountId, bond_amount: Balance, seed: u8, capacity: u32) {
	if Operators::<Test>::get(operator).is_none() {
		bond(operator, bond_amount);
	}
	register(operator, seed, &[1], capacity);
	run_to_block(System::block_number() + DELAY);
}
