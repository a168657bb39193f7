use super::*;
use crate::{Error, Event, ModelStatus};
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;
use veritensor_primitives::traits::ModelRegistry;

#[test]
fn the_owner_or_the_listing_origin_deprecates() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		list(ALICE, 2);
		System::set_block_number(3);
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(BOB), hash(1)),
			Error::<Test>::NotOwner
		);
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), hash(1)));
		assert_eq!(last_event(), Event::Deprecated { model: hash(1), by_owner: true }.into());
		assert_ok!(Models::deprecate(RuntimeOrigin::root(), hash(2)));
		assert_eq!(last_event(), Event::Deprecated { model: hash(2), by_owner: false }.into());
		assert_eq!(
			record(1).status,
			ModelStatus::Deprecated { proposed: 1, listed: 1, deprecated: 3 }
		);
		assert_noop!(
			Models::deprecate(RuntimeOrigin::signed(ALICE), hash(1)),
			Error::<Test>::NotListed
		);
	});
}

#[test]
fn deprecate_needs_a_listed_model() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Models::deprecate(RuntimeOrigin::root(), hash(1)),
			Error::<Test>::UnknownModel
		);
		propose(ALICE, 1);
		assert_noop!(Models::deprecate(RuntimeOrigin::root(), hash(1)), Error::<Test>::NotListed);
	});
}

#[test]
fn deprecated_models_take_no_new_jobs_but_open_ones_finish() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		assert_ok!(Models::acquire(&hash(1)));
		assert_ok!(Models::deprecate(RuntimeOrigin::signed(ALICE), hash(1)));
		assert!(Models::terms_for_new_job(&hash(1)).is_none());
		assert_noop!(Models::acquire(&hash(1)), Error::<Test>::NotUsable);
		Models::release(&hash(1));
		assert_eq!(record(1).open_jobs, 0);
	});
}

#[test]
fn delisting_an_unreferenced_model_returns_its_deposit_at_once() {
	ExtBuilder::default().build_and_execute(|| {
		let deposit = list(ALICE, 1);
		System::set_block_number(9);
		assert_ok!(Models::delist(RuntimeOrigin::root(), hash(1)));
		let record = record(1);
		assert_eq!(
			record.status,
			ModelStatus::Delisted { proposed: 1, listed: 1, deprecated: None, delisted: 9 }
		);
		assert_eq!(record.deposit, 0);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT);
		let events: Vec<RuntimeEvent> = System::events().into_iter().map(|r| r.event).collect();
		assert!(events.contains(&Event::Delisted { model: hash(1), open_jobs: 0 }.into()));
		assert_eq!(
			last_event(),
			Event::DepositReturned { model: hash(1), owner: ALICE, amount: deposit }.into()
		);
	});
}

#[test]
fn a_referenced_model_keeps_its_deposit_until_its_last_job_ends() {
	ExtBuilder::default().build_and_execute(|| {
		let deposit = list(ALICE, 1);
		assert_ok!(Models::acquire(&hash(1)));
		assert_ok!(Models::acquire(&hash(1)));
		assert_ok!(Models::delist(RuntimeOrigin::root(), hash(1)));
		assert_eq!(last_event(), Event::Delisted { model: hash(1), open_jobs: 2 }.into());
		assert_eq!(held(ALICE), deposit);

		Models::release(&hash(1));
		assert_eq!(held(ALICE), deposit, "one job is still open");
		Models::release(&hash(1));
		assert_eq!(held(ALICE), 0);
		assert_eq!(record(1).deposit, 0);
		assert_eq!(
			last_event(),
			Event::DepositReturned { model: hash(1), owner: ALICE, amount: deposit }.into()
		);
	});
}

#[test]
fn delist_needs_the_listing_origin_and_a_model_in_service() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(Models::delist(RuntimeOrigin::root(), hash(1)), Error::<Test>::UnknownModel);
		propose(ALICE, 1);
		assert_noop!(Models::delist(RuntimeOrigin::root(), hash(1)), Error::<Test>::NotListed);
		assert_ok!(Models::approve(RuntimeOrigin::root(), hash(1)));
		assert_noop!(
			Models::delist(RuntimeOrigin::signed(ALICE), hash(1)),
			DispatchError::BadOrigin
		);
		assert_ok!(Models::deprecate(RuntimeOrigin::root(), hash(1)));
		assert_ok!(Models::delist(RuntimeOrigin::root(), hash(1)));
		assert_noop!(
			Models::delist(RuntimeOrigin::root(), hash(1)),
			Error::<Test>::AlreadyDelisted
		);
	});
}
