//! Unit tests, by topic. Every test runs through `ExtBuilder::build_and_execute`, which checks
//! the pallet's invariants (`do_try_state`) at the end.

mod bonding;
mod membership;
mod offences;
mod sessions;

use crate::{mock::*, Event};

/// The pallet's events so far, in order.
fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Validators(event) => Some(event),
			_ => None,
		})
		.collect()
}

fn last_event() -> Event<Test> {
	events().pop().expect("the pallet emitted an event")
}

/// `who` bonds the minimum and sets its keys.
fn ready(who: AccountId) {
	frame_support::assert_ok!(Validators::bond(RuntimeOrigin::signed(who), MINIMUM_BOND));
	set_keys(who);
}
