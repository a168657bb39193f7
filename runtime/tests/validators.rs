//! The governed validator set, composed with sessions, BABE and GRANDPA: blocks are produced
//! with BABE pre-digests and timestamps, so sessions end when BABE's epochs do, and council
//! motions add and remove validators.

mod common;

use codec::Encode;
use frame_support::{
	assert_noop, assert_ok,
	dispatch::GetDispatchInfo,
	traits::{fungible::InspectHold, Get},
};
use sp_keyring::Sr25519Keyring::{self, Alice, Bob, Charlie, Dave, Eve, Ferdie};
use sp_runtime::traits::Hash as _;
use veritensor_runtime::{
	configs::{
		time::SHORT_SESSION_LENGTH, ValidatorMinimumBond, VALIDATOR_BONDING_DURATION,
		VALIDATOR_HISTORY_DEPTH,
	},
	AccountId, Babe, Balances, Council, Grandpa, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeHoldReason, RuntimeOrigin, Session, SessionKeys, System, Validators,
};

use common::{local_chain, run_to_session};

fn account(keyring: Sr25519Keyring) -> AccountId {
	keyring.to_account_id()
}

/// `who` bonds the minimum and sets new session keys with their proof, as an operator does with
/// `author_rotateKeysWithOwner` and `session.set_keys`; returns the keys.
fn become_candidate(who: Sr25519Keyring) -> SessionKeys {
	let who = account(who);
	assert_ok!(Validators::bond(RuntimeOrigin::signed(who.clone()), ValidatorMinimumBond::get()));
	let generated = SessionKeys::generate(&who.encode(), None);
	assert_ok!(Session::set_keys(
		RuntimeOrigin::signed(who),
		generated.keys.clone(),
		generated.proof.encode()
	));
	generated.keys
}

/// Passes `call` through a council motion: Alice proposes, Alice and Bob vote aye (two of three),
/// Charlie closes it. Returns the dispatch result the council recorded.
fn council_motion(call: pallet_validators::Call<Runtime>) -> Result<(), sp_runtime::DispatchError> {
	let call = RuntimeCall::Validators(call);
	let length = call.encoded_size() as u32;
	let weight = call.get_dispatch_info().call_weight;
	let motion = <Runtime as frame_system::Config>::Hashing::hash_of(&call);
	let index =
		pallet_collective::ProposalCount::<Runtime, veritensor_runtime::CouncilCollective>::get();
	assert_ok!(Council::propose(RuntimeOrigin::signed(account(Alice)), 2, Box::new(call), length));
	assert_ok!(Council::vote(RuntimeOrigin::signed(account(Alice)), motion, index, true));
	assert_ok!(Council::vote(RuntimeOrigin::signed(account(Bob)), motion, index, true));
	assert_ok!(Council::close(
		RuntimeOrigin::signed(account(Charlie)),
		motion,
		index,
		weight,
		length
	));
	System::events()
		.into_iter()
		.find_map(|record| match record.event {
			RuntimeEvent::Council(pallet_collective::Event::Executed { proposal_hash, result })
				if proposal_hash == motion =>
			{
				Some(result)
			}
			_ => None,
		})
		.expect("the motion closed and executed")
}

fn babe_authorities() -> Vec<sp_consensus_babe::AuthorityId> {
	Babe::authorities().into_iter().map(|(key, _)| key).collect()
}

fn grandpa_authorities() -> Vec<sp_consensus_grandpa::AuthorityId> {
	Grandpa::grandpa_authorities().into_iter().map(|(key, _)| key).collect()
}

fn validators_event() -> Option<pallet_validators::Event<Runtime>> {
	System::events().into_iter().rev().find_map(|record| match record.event {
		RuntimeEvent::Validators(event) => Some(event),
		_ => None,
	})
}

#[test]
fn sessions_last_the_presets_length_and_end_babe_epochs() {
	local_chain().execute_with(|| {
		assert_eq!(
			<veritensor_runtime::configs::EpochDuration as Get<u64>>::get(),
			SHORT_SESSION_LENGTH
		);
		run_to_session(3);
		let start = System::block_number();
		run_to_session(4);
		assert_eq!((System::block_number() - start) as u64, SHORT_SESSION_LENGTH);
		assert_eq!(Babe::epoch_index(), 4);
		assert_eq!(Session::validators().len(), 4);
	});
}

#[test]
fn a_validator_added_by_council_motion_authors_from_the_session_after_next() {
	local_chain().execute_with(|| {
		run_to_session(1);
		let keys = become_candidate(Eve);
		let eve = account(Eve);

		// Governance alone adds validators.
		assert_noop!(
			Validators::add_validator(RuntimeOrigin::signed(eve.clone()), eve.clone()),
			sp_runtime::DispatchError::BadOrigin
		);
		let motion_session = Session::current_index();
		assert_eq!(
			council_motion(pallet_validators::Call::add_validator { who: eve.clone() }),
			Ok(())
		);
		let active_from = motion_session + pallet_validators::SESSIONS_UNTIL_ACTIVE;
		assert_eq!(
			validators_event(),
			Some(pallet_validators::Event::ValidatorAdded { who: eve.clone(), active_from })
		);

		run_to_session(active_from - 1);
		assert!(!babe_authorities().contains(&keys.babe));
		assert!(!Session::validators().contains(&eve));
		run_to_session(active_from);
		assert!(babe_authorities().contains(&keys.babe));
		assert!(grandpa_authorities().contains(&keys.grandpa));
		assert_eq!(Session::validators().len(), 5);
		assert_eq!(common::validator_bond(&eve), ValidatorMinimumBond::get());
	});
}

#[test]
fn a_validator_removed_by_council_motion_stops_and_its_bond_is_released_after_the_bonding_duration()
{
	local_chain().execute_with(|| {
		let dave = account(Dave);
		let dave_babe: sp_consensus_babe::AuthorityId =
			sp_keyring::Sr25519Keyring::Dave.public().into();
		run_to_session(1);
		assert_eq!(
			council_motion(pallet_validators::Call::remove_validator { who: dave.clone() }),
			Ok(())
		);
		let inactive_from = 1 + pallet_validators::SESSIONS_UNTIL_ACTIVE;
		let release = 1 + VALIDATOR_BONDING_DURATION;
		assert_eq!(
			validators_event(),
			Some(pallet_validators::Event::ValidatorRemoved {
				who: dave.clone(),
				inactive_from,
				bond_release: release
			})
		);
		run_to_session(inactive_from - 1);
		assert!(babe_authorities().contains(&dave_babe));
		run_to_session(inactive_from);
		assert!(!babe_authorities().contains(&dave_babe));
		assert_eq!(grandpa_authorities().len(), 3);

		// Held until the bonding duration has passed, then withdrawn in full.
		let free_before = Balances::free_balance(&dave);
		assert_noop!(
			Validators::withdraw_bond(RuntimeOrigin::signed(dave.clone())),
			pallet_validators::Error::<Runtime>::BondStillHeld
		);
		run_to_session(release);
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(dave.clone())));
		assert_eq!(common::validator_bond(&dave), 0);
		assert_eq!(Balances::free_balance(&dave), free_before + ValidatorMinimumBond::get());
	});
}

#[test]
fn a_validator_leaves_on_its_own() {
	local_chain().execute_with(|| {
		let charlie = account(Charlie);
		let charlie_babe: sp_consensus_babe::AuthorityId =
			sp_keyring::Sr25519Keyring::Charlie.public().into();
		assert_ok!(Validators::leave(RuntimeOrigin::signed(charlie.clone())));
		assert_noop!(
			Validators::withdraw_bond(RuntimeOrigin::signed(charlie.clone())),
			pallet_validators::Error::<Runtime>::BondStillHeld
		);
		run_to_session(pallet_validators::SESSIONS_UNTIL_ACTIVE);
		assert!(!babe_authorities().contains(&charlie_babe));
		assert!(!Session::validators().contains(&charlie));
		assert_eq!(common::validator_bond(&charlie), ValidatorMinimumBond::get());
	});
}

#[test]
fn the_last_validator_cannot_be_removed_nor_leave() {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| {
		System::set_block_number(1);
		assert_eq!(Session::validators(), vec![account(Alice)]);
		assert_eq!(
			council_motion(pallet_validators::Call::remove_validator { who: account(Alice) }),
			Err(pallet_validators::Error::<Runtime>::LastValidator.into())
		);
		assert_noop!(
			Validators::leave(RuntimeOrigin::signed(account(Alice))),
			pallet_validators::Error::<Runtime>::LastValidator
		);
	});
}

#[test]
fn session_keys_need_a_bond_and_a_proof_of_ownership() {
	local_chain().execute_with(|| {
		let ferdie = account(Ferdie);
		let generated = SessionKeys::generate(&ferdie.encode(), None);
		assert_noop!(
			Session::set_keys(
				RuntimeOrigin::signed(ferdie.clone()),
				generated.keys.clone(),
				generated.proof.encode()
			),
			pallet_session::Error::<Runtime>::NoAssociatedValidatorId
		);
		assert_ok!(Validators::bond(
			RuntimeOrigin::signed(ferdie.clone()),
			ValidatorMinimumBond::get()
		));
		// A proof made for another account does not prove Ferdie holds the keys.
		let for_eve = SessionKeys::generate(&account(Eve).encode(), None);
		assert_noop!(
			Session::set_keys(
				RuntimeOrigin::signed(ferdie.clone()),
				for_eve.keys,
				for_eve.proof.encode()
			),
			pallet_session::Error::<Runtime>::InvalidProof
		);
		assert_ok!(Session::set_keys(
			RuntimeOrigin::signed(ferdie),
			generated.keys,
			generated.proof.encode()
		));
	});
}

#[test]
fn the_session_history_is_pruned_to_the_history_depth() {
	local_chain().execute_with(|| {
		let last = VALIDATOR_BONDING_DURATION + 6;
		run_to_session(last);
		let (first_kept, _) = pallet_session::historical::StoredRange::<Runtime>::get()
			.expect("recent sessions are recorded");
		assert_eq!(first_kept, last - VALIDATOR_HISTORY_DEPTH);
		assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(first_kept - 1)
			.is_none());
		assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(last).is_some());
	});
}

/// A validator that purged its session keys would leave the authority set without leaving the
/// validator set: past the check that keeps the last one, and, with every other validator gone
/// or keyless, the chain would have no authority at all. Nobody may purge keys by a call, neither
/// directly nor inside a batch; a bond's withdrawal removes them.
#[test]
fn validators_cannot_purge_their_session_keys() {
	use sp_runtime::traits::Dispatchable;
	local_chain().execute_with(|| {
		let purge = RuntimeCall::Session(pallet_session::Call::purge_keys {});
		for validator in [Alice, Bob, Charlie, Dave] {
			let who = account(validator);
			assert_eq!(
				purge.clone().dispatch(RuntimeOrigin::signed(who.clone())).map_err(|e| e.error),
				Err(frame_system::Error::<Runtime>::CallFiltered.into())
			);
			assert_eq!(
				veritensor_runtime::Utility::batch_all(
					RuntimeOrigin::signed(who.clone()),
					vec![purge.clone()]
				)
				.map_err(|e| e.error),
				Err(frame_system::Error::<Runtime>::CallFiltered.into())
			);
			assert!(pallet_session::NextKeys::<Runtime>::contains_key(&who));
		}
		run_to_session(pallet_validators::SESSIONS_UNTIL_ACTIVE + 1);
		assert_eq!(babe_authorities().len(), 4);
		assert_eq!(grandpa_authorities().len(), 4);

		// A candidate's keys, and their deposit, go with its bond.
		let ferdie = account(Ferdie);
		become_candidate(Ferdie);
		let key_deposit = RuntimeHoldReason::Session(pallet_session::HoldReason::Keys);
		assert_eq!(
			Balances::balance_on_hold(&key_deposit, &ferdie),
			veritensor_runtime::configs::SessionKeyDeposit::get()
		);
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(ferdie.clone())));
		assert!(!pallet_session::NextKeys::<Runtime>::contains_key(&ferdie));
		assert_eq!(Balances::balance_on_hold(&key_deposit, &ferdie), 0);
		assert_eq!(common::validator_bond(&ferdie), 0);
		assert_eq!(System::consumers(&ferdie), 0);
	});
}
