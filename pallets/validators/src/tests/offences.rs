//! Offences: slashing once, paying reporters, disabling and removing offenders.

use super::*;
use crate::{Bonds, Offenders, SlashedFraction, Validators as Set};
use frame_support::{
	assert_ok,
	traits::{fungible::Inspect, Get},
};
use sp_runtime::Perbill;
use sp_staking::offence::{OffenceDetails, OnOffenceHandler};

/// Reports `offender` alone for an offence in `session` at `fraction`, as `pallet-offences`
/// does.
fn offence(offender: AccountId, reporters: Vec<AccountId>, fraction: Perbill, session: u32) {
	offences(&[offender], reporters, fraction, session);
}

/// Reports `offenders` for offences in one slot, as `pallet-offences` does: each at `fraction`.
fn offences(offenders: &[AccountId], reporters: Vec<AccountId>, fraction: Perbill, session: u32) {
	let details: Vec<_> = offenders
		.iter()
		.map(|offender| OffenceDetails { offender: (*offender, ()), reporters: reporters.clone() })
		.collect();
	<Validators as OnOffenceHandler<AccountId, (AccountId, ()), _>>::on_offence(
		&details,
		&vec![fraction; offenders.len()],
		session,
	);
}

/// A third validator, so that either genesis validator can be removed.
fn three_validators() {
	ready(CANDIDATE);
	assert_ok!(Validators::add_validator(RuntimeOrigin::root(), CANDIDATE));
}

#[test]
fn an_equivocation_slashes_pays_the_reporter_disables_and_removes() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let offender = GENESIS[1];
		let treasury = Balances::balance(&TREASURY);
		let reporter = Balances::balance(&REPORTER);
		// The offence's own fraction is below the parameter: the parameter applies.
		offence(offender, vec![REPORTER], Perbill::from_percent(1), 0);

		// 10 % of the bond; 10 % of that to the reporter, the rest to the treasury.
		assert_eq!(held(offender), MINIMUM_BOND - 100);
		assert_eq!(Bonds::<Test>::get(offender).unwrap().amount, MINIMUM_BOND - 100);
		assert_eq!(Balances::balance(&REPORTER), reporter + 10);
		assert_eq!(Balances::balance(&TREASURY), treasury + 90);
		assert_eq!(disabled(), vec![(offender, Perbill::from_percent(10))]);
		assert!(!Set::<Test>::get().contains(&offender));
		assert_eq!(Offenders::<Test>::get().into_inner(), vec![(offender, UNTIL_ACTIVE)]);
		let bond_release = <Test as crate::Config>::BondingDuration::get();
		assert_eq!(Bonds::<Test>::get(offender).unwrap().release_at, Some(bond_release));
		let events = events();
		assert_eq!(
			events[events.len() - 2..],
			[
				Event::OffenderSlashed {
					who: offender,
					session: 0,
					fraction: Perbill::from_percent(10),
					amount: 100,
					reward: 10,
				},
				Event::OffenderRemoved { who: offender, inactive_from: UNTIL_ACTIVE, bond_release },
			]
		);
	});
}

#[test]
fn an_offence_reported_again_slashes_nothing_more_and_a_greater_one_only_the_difference() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let offender = GENESIS[0];
		offence(offender, vec![REPORTER], Perbill::from_percent(10), 0);
		assert_eq!(held(offender), 900);
		let treasury = Balances::balance(&TREASURY);

		// Another slot of the same misbehaviour adds nothing.
		offence(offender, vec![GENESIS[1]], Perbill::from_percent(5), 1);
		assert_eq!(held(offender), 900);
		assert_eq!(Balances::balance(&TREASURY), treasury);
		assert_eq!(SlashedFraction::<Test>::get(offender), Some(Perbill::from_percent(10)));

		// A second validator offending in the same slot: the slot's offenders come again, at
		// the offence's fraction for two. The first offender's total becomes 40 % of the bond
		// the slashes started from.
		offences(&[offender, GENESIS[1]], vec![REPORTER], Perbill::from_percent(40), 0);
		assert_eq!(held(offender), 600);
		assert_eq!(held(GENESIS[1]), 600);
		assert_eq!(SlashedFraction::<Test>::get(offender), Some(Perbill::from_percent(40)));
	});
}

#[test]
fn a_lone_offender_loses_the_parameter_however_small_the_set() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		// One of three: the offence's own fraction, (3 x 1 / 3)^2, would be everything.
		offence(GENESIS[0], vec![REPORTER], Perbill::one(), 0);
		assert_eq!(held(GENESIS[0]), 900);
		set_equivocation_slash(Perbill::from_percent(30));
		offence(GENESIS[1], vec![REPORTER], Perbill::one(), 0);
		assert_eq!(held(GENESIS[1]), 700);
	});
}

#[test]
fn an_offender_reporting_itself_gets_no_reward() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let offender = GENESIS[1];
		let before = Balances::total_balance(&offender);
		let treasury = Balances::balance(&TREASURY);
		offence(offender, vec![offender], Perbill::from_percent(10), 0);
		assert_eq!(Balances::total_balance(&offender), before - 100);
		assert_eq!(Balances::balance(&TREASURY), treasury + 100);
	});
}

#[test]
fn reporters_share_the_reward() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let reporter = Balances::balance(&REPORTER);
		let validator = Balances::balance(&GENESIS[0]);
		offence(GENESIS[1], vec![REPORTER, GENESIS[0]], Perbill::from_percent(10), 0);
		assert_eq!(Balances::balance(&REPORTER), reporter + 5);
		assert_eq!(Balances::balance(&GENESIS[0]), validator + 5);
	});
}

#[test]
fn the_last_validator_with_keys_is_slashed_but_stays() {
	ExtBuilder.build_and_execute(|| {
		purge_keys(GENESIS[0]);
		offence(GENESIS[1], vec![REPORTER], Perbill::from_percent(10), 0);
		assert_eq!(held(GENESIS[1]), MINIMUM_BOND - 100);
		assert!(Set::<Test>::get().contains(&GENESIS[1]));
		assert!(Offenders::<Test>::get().is_empty());
		// Below the minimum now, but it keeps the chain going.
		assert!(Bonds::<Test>::get(GENESIS[1]).unwrap().release_at.is_none());
	});
}

#[test]
fn an_offender_is_disabled_again_at_each_session_start_while_it_authors() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let mut sessions = SessionQueue::at_genesis();
		let offender = GENESIS[1];
		offence(offender, vec![REPORTER], Perbill::from_percent(10), 0);
		clear_disabled();

		// Session 1: still among the authorities, disabled again.
		assert_eq!(sessions.rotate(), 1);
		assert!(sessions.active.contains(&offender));
		assert_eq!(disabled(), vec![(offender, Perbill::from_percent(10))]);
		clear_disabled();

		// Session 2: no longer an authority, nobody to disable, forgotten.
		assert_eq!(sessions.rotate(), UNTIL_ACTIVE);
		assert!(!sessions.active.contains(&offender));
		assert!(disabled().is_empty());
		assert!(Offenders::<Test>::get().is_empty());
	});
}

#[test]
fn a_validator_that_left_is_still_slashed_and_disabled_for_the_sessions_it_authors() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let offender = GENESIS[1];
		assert_ok!(Validators::leave(RuntimeOrigin::signed(offender)));
		let release_at = Bonds::<Test>::get(offender).unwrap().release_at;
		let mut sessions = SessionQueue::at_genesis();
		assert_eq!(sessions.rotate(), 1);
		offence(offender, vec![REPORTER], Perbill::from_percent(10), 1);
		assert_eq!(held(offender), MINIMUM_BOND - 100);
		assert_eq!(Bonds::<Test>::get(offender).unwrap().release_at, release_at);
		assert_eq!(disabled(), vec![(offender, Perbill::from_percent(10))]);
		assert_eq!(Offenders::<Test>::get().into_inner(), vec![(offender, UNTIL_ACTIVE)]);
		assert!(!matches!(last_event(), Event::OffenderRemoved { .. }));
	});
}

#[test]
fn withdrawing_what_is_left_clears_the_slash_record() {
	ExtBuilder.build_and_execute(|| {
		three_validators();
		let offender = GENESIS[1];
		offence(offender, vec![REPORTER], Perbill::from_percent(10), 0);
		let mut sessions = SessionQueue::at_genesis();
		while sessions.rotate() < <Test as crate::Config>::BondingDuration::get() {}
		let free = Balances::balance(&offender);
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(offender)));
		assert_eq!(Balances::balance(&offender), free + MINIMUM_BOND - 100);
		assert_eq!(SlashedFraction::<Test>::get(offender), None);
		assert_eq!(
			last_event(),
			Event::BondWithdrawn { who: offender, amount: MINIMUM_BOND - 100 }
		);
	});
}

#[test]
fn an_offender_without_a_bond_is_ignored() {
	ExtBuilder.build_and_execute(|| {
		let treasury = Balances::balance(&TREASURY);
		offence(CANDIDATE, vec![REPORTER], Perbill::from_percent(10), 0);
		assert_eq!(Balances::balance(&TREASURY), treasury);
		assert!(disabled().is_empty());
	});
}
