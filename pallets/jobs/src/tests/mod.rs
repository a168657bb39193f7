//! Unit tests, by topic. Every test runs through `ExtBuilder::build_and_execute`, which checks
//! the pallet's invariants (`do_try_state`) at the end.

mod draw;
mod executor_client;
mod lifecycle;
mod offchain;
mod random;
mod refusals;

use crate::{mock::*, HoldReason};
use frame_support::traits::fungible::InspectHold;

fn escrow_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Jobs(HoldReason::JobEscrow), &who)
}

fn submit(who: AccountId, fill: u8, max_fee: Balance) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	frame_support::assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(who),
		digits(),
		image(fill),
		1,
		max_fee,
		DEADLINE,
	));
	id
}
