//! Unit tests, by topic. Every test of the registry's state runs through
//! `ExtBuilder::build_and_execute`, which checks the registry's invariants (`do_try_state`) at
//! the end.

mod decisions;
mod executable;
mod genesis;
mod lifecycle;
mod migration;
mod owner;
mod propose;
mod registry;
mod status;

use crate::{mock::*, HoldReason, ModelRecord, Models as ModelsStorage};
use frame_support::traits::fungible::InspectHold;
use veritensor_primitives::ModelHash;

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Models(HoldReason::ModelDeposit), &who)
}

fn record(seed: u8) -> ModelRecord<Test> {
	ModelsStorage::<Test>::get(ModelHash::repeat_byte(seed)).expect("the model exists")
}

fn hash(seed: u8) -> ModelHash {
	ModelHash::repeat_byte(seed)
}

fn last_event() -> RuntimeEvent {
	System::events().pop().expect("an event was emitted").event
}

fn propose(owner: AccountId, seed: u8) -> Balance {
	frame_support::assert_ok!(Models::propose(RuntimeOrigin::signed(owner), Box::new(spec(seed))));
	record(seed).deposit
}

fn list(owner: AccountId, seed: u8) -> Balance {
	let deposit = propose(owner, seed);
	frame_support::assert_ok!(Models::approve(RuntimeOrigin::root(), hash(seed)));
	deposit
}
