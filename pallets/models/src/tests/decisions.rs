use super::*;
use crate::WeightInfo;
use crate::{Error, Event, ModelStatus};
use frame_support::{assert_noop, assert_ok, dispatch::WithPostDispatchInfo};
use sp_runtime::{DispatchError, Perbill};

/// A refused approval is charged a plain approval's weight, not the listing check's bound.
fn refused_approval(
	error: impl Into<DispatchError>,
) -> sp_runtime::DispatchErrorWithPostInfo<frame_support::dispatch::PostDispatchInfo> {
	error.into().with_weight(<Test as crate::Config>::WeightInfo::approve())
}

#[test]
fn approve_lists_a_proposed_model() {
	ExtBuilder::default().build_and_execute(|| {
		let deposit = propose(ALICE, 1);
		System::set_block_number(5);
		assert_ok!(Models::approve(RuntimeOrigin::root(), hash(1)));
		let record = record(1);
		assert_eq!(record.status, ModelStatus::Listed { proposed: 1, listed: 5 });
		assert_eq!(held(ALICE), deposit, "the deposit stays held while listed");
		assert_eq!(last_event(), Event::Listed { model: hash(1) }.into());
	});
}

#[test]
fn only_the_listing_origin_decides() {
	ExtBuilder::default().build_and_execute(|| {
		propose(ALICE, 1);
		assert_noop!(
			Models::approve(RuntimeOrigin::signed(ALICE), hash(1)),
			refused_approval(DispatchError::BadOrigin)
		);
		assert_noop!(
			Models::reject(RuntimeOrigin::signed(ALICE), hash(1)),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn decisions_need_a_pending_proposal() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), hash(1)),
			refused_approval(Error::<Test>::UnknownModel)
		);
		assert_noop!(Models::reject(RuntimeOrigin::root(), hash(1)), Error::<Test>::UnknownModel);
		list(ALICE, 1);
		assert_noop!(
			Models::approve(RuntimeOrigin::root(), hash(1)),
			refused_approval(Error::<Test>::NotProposed)
		);
		assert_noop!(Models::reject(RuntimeOrigin::root(), hash(1)), Error::<Test>::NotProposed);
	});
}

#[test]
fn reject_slashes_part_of_the_deposit_to_the_treasury_and_returns_the_rest() {
	ExtBuilder::default().build_and_execute(|| {
		let deposit = propose(ALICE, 1);
		let treasury_before = Balances::free_balance(TREASURY);
		let issuance_before = Balances::total_issuance();
		assert_ok!(Models::reject(RuntimeOrigin::root(), hash(1)));

		let slashed = Perbill::from_percent(10) * deposit;
		assert!(slashed > 0);
		assert_eq!(Balances::free_balance(TREASURY), treasury_before + slashed);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - slashed);
		assert_eq!(held(ALICE), 0);
		assert_eq!(Balances::total_issuance(), issuance_before, "slashed funds move, not vanish");
		assert!(ModelsStorage::<Test>::get(hash(1)).is_none());
		assert_eq!(
			last_event(),
			Event::Rejected { model: hash(1), owner: ALICE, slashed, returned: deposit - slashed }
				.into()
		);
		// The artifact may be proposed again after a rejection.
		propose(ALICE, 1);
	});
}

#[test]
fn withdrawing_costs_what_a_rejection_costs_so_squatting_a_hash_is_never_free() {
	ExtBuilder::default().build_and_execute(|| {
		// Bob proposes the hash of Alice's artifact first, blocking her, and withdraws before
		// the council's rejection closes.
		let deposit = propose(BOB, 1);
		assert_noop!(
			Models::propose(RuntimeOrigin::signed(ALICE), Box::new(spec(1))),
			Error::<Test>::AlreadyRegistered
		);
		let treasury_before = Balances::free_balance(TREASURY);
		assert_ok!(Models::withdraw_proposal(RuntimeOrigin::signed(BOB), hash(1)));
		let kept = Perbill::from_percent(10) * deposit;
		assert!(kept > 0);
		assert_eq!(Balances::free_balance(BOB), ENDOWMENT - kept);
		assert_eq!(Balances::free_balance(TREASURY), treasury_before + kept);
		assert_eq!(held(BOB), 0);
		assert!(ModelsStorage::<Test>::get(hash(1)).is_none());
		assert_eq!(
			last_event(),
			Event::ProposalWithdrawn { model: hash(1), owner: BOB, kept, returned: deposit - kept }
				.into()
		);
		// The hash is free for its owner.
		propose(ALICE, 1);
	});
}

#[test]
fn only_the_owner_withdraws_and_only_before_a_decision() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Models::withdraw_proposal(RuntimeOrigin::signed(ALICE), hash(1)),
			Error::<Test>::UnknownModel
		);
		propose(ALICE, 1);
		assert_noop!(
			Models::withdraw_proposal(RuntimeOrigin::signed(BOB), hash(1)),
			Error::<Test>::NotOwner
		);
		assert_ok!(Models::approve(RuntimeOrigin::root(), hash(1)));
		assert_noop!(
			Models::withdraw_proposal(RuntimeOrigin::signed(ALICE), hash(1)),
			Error::<Test>::NotProposed
		);
	});
}
