//! BABE and GRANDPA equivocation reports on a chain from the local testnet preset (Alice, Bob,
//! Charlie and Dave validating): a valid report slashes the offender's bond, pays the reporting
//! block's author, disables the offender and removes it; a replayed or invalid report is
//! refused.

mod common;

use frame_support::{assert_noop, assert_ok, traits::KeyOwnerProofSystem};
use sp_consensus_babe::{
	digests::{CompatibleDigestItem, PreDigest, SecondaryPlainPreDigest},
	AuthorityId, EquivocationProof, Slot, BABE_ENGINE_ID, KEY_TYPE,
};
use sp_core::{Encode, H256};
use sp_keyring::Sr25519Keyring::{self, Alice, Charlie, Dave, Eve};
#[allow(deprecated)]
use sp_runtime::{
	traits::{Header as _, ValidateUnsigned},
	transaction_validity::{InvalidTransaction, TransactionSource},
	Digest, DigestItem, Perbill,
};
use veritensor_runtime::{
	configs::{TreasuryAccount, ValidatorMinimumBond, VALIDATOR_BONDING_DURATION},
	AccountId, Babe, Balances, Header, Historical, Runtime, RuntimeCall, RuntimeEvent,
	RuntimeOrigin, Session, System, Validators,
};

use common::{local_chain, run_to_session, validator_bond as bonded};

/// `who` sets newly generated session keys with their proof of ownership.
fn set_new_keys(who: &AccountId) -> frame_support::dispatch::DispatchResult {
	let generated = veritensor_runtime::SessionKeys::generate(&who.encode(), None);
	Session::set_keys(RuntimeOrigin::signed(who.clone()), generated.keys, generated.proof.encode())
}

fn account(keyring: Sr25519Keyring) -> AccountId {
	keyring.to_account_id()
}

fn free(who: &AccountId) -> u128 {
	use frame_support::traits::fungible::Inspect;
	Balances::balance(who)
}

/// A header for `slot` claimed by authority `index`, sealed by `signer`; `state` tells two
/// headers apart.
fn sealed_header(signer: Sr25519Keyring, index: u32, slot: Slot, state: u8) -> Header {
	let pre_digest =
		PreDigest::SecondaryPlain(SecondaryPlainPreDigest { authority_index: index, slot });
	let mut header = Header::new(
		System::block_number() + 1,
		H256::zero(),
		H256::repeat_byte(state),
		System::parent_hash(),
		Digest { logs: vec![DigestItem::PreRuntime(BABE_ENGINE_ID, pre_digest.encode())] },
	);
	let seal = signer.sign(header.hash().as_ref());
	header.digest_mut().push(<DigestItem as CompatibleDigestItem>::babe_seal(seal.into()));
	header
}

/// Two different headers for the current slot, both sealed by `offender`'s BABE key.
fn equivocation(offender: Sr25519Keyring) -> EquivocationProof<Header> {
	let slot = Babe::current_slot();
	EquivocationProof {
		offender: AuthorityId::from(offender.public()),
		slot,
		first_header: sealed_header(offender, 3, slot, 1),
		second_header: sealed_header(offender, 3, slot, 2),
	}
}

/// The key-ownership proof of `offender`'s BABE key in the current session.
fn ownership(offender: Sr25519Keyring) -> sp_session::MembershipProof {
	Historical::prove((KEY_TYPE, AuthorityId::from(offender.public())))
		.expect("a current validator's key is in the session's record")
}

fn report_call(
	proof: EquivocationProof<Header>,
	key_owner_proof: sp_session::MembershipProof,
) -> pallet_babe::Call<Runtime> {
	pallet_babe::Call::report_equivocation_unsigned {
		equivocation_proof: Box::new(proof),
		key_owner_proof,
	}
}

#[allow(deprecated)]
fn validate(
	source: TransactionSource,
	call: &pallet_babe::Call<Runtime>,
) -> Result<(), InvalidTransaction> {
	<Babe as ValidateUnsigned>::validate_unsigned(source, call).map(|_| ()).map_err(|error| {
		match error {
			sp_runtime::transaction_validity::TransactionValidityError::Invalid(invalid) => invalid,
			unknown => panic!("unexpected validity error {unknown:?}"),
		}
	})
}

/// Includes the report as a bare transaction in a block authored by validator number `author`.
fn include(
	author: u32,
	call: pallet_babe::Call<Runtime>,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	include_call(author, RuntimeCall::Babe(call))
}

/// Includes `call` as a bare transaction in a block authored by validator number `author`.
fn include_call(
	author: u32,
	call: RuntimeCall,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	use frame_support::traits::UnfilteredDispatchable as _;
	common::start_block(author);
	let result = call.dispatch_bypass_filter(RuntimeOrigin::none());
	common::end_block();
	result
}

/// What a lone equivocating validator loses: the `EquivocationSlash` parameter, 10 %.
fn lone_slash(bond: u128) -> u128 {
	Perbill::from_percent(10).mul_ceil(bond)
}

fn slashed_event() -> Option<pallet_validators::Event<Runtime>> {
	System::events().into_iter().find_map(|record| match record.event {
		RuntimeEvent::Validators(event @ pallet_validators::Event::OffenderSlashed { .. }) => {
			Some(event)
		}
		_ => None,
	})
}

#[test]
fn a_valid_report_slashes_once_pays_the_author_disables_and_removes_the_offender() {
	local_chain().execute_with(|| {
		run_to_session(1);
		let dave = account(Dave);
		let bond = ValidatorMinimumBond::get();
		let treasury = free(&TreasuryAccount::get());
		let alice = free(&account(Alice));
		let call = report_call(equivocation(Dave), ownership(Dave));

		// Accepted from the node that saw it, never from the network.
		assert_eq!(validate(TransactionSource::Local, &call), Ok(()));
		assert_eq!(validate(TransactionSource::External, &call), Err(InvalidTransaction::Call));

		// Alice (validator number 0) authors the block that includes it.
		let session_validators = Session::validators();
		assert_eq!(session_validators[0], account(Alice));
		assert_ok!(include(0, call.clone()));

		// A lone offender loses the 10 % parameter (the offence's own fraction, 56.25 % for one
		// of four, counts only for validators offending together). 10 % of it to Alice, the
		// rest to the treasury (no transaction fees in these blocks).
		let slash = lone_slash(bond);
		let reward = Perbill::from_percent(10) * slash;
		assert_eq!(bonded(&dave), bond - slash);
		assert_eq!(free(&account(Alice)), alice + reward);
		assert_eq!(free(&TreasuryAccount::get()), treasury + slash - reward);
		assert!(matches!(
			slashed_event(),
			Some(pallet_validators::Event::OffenderSlashed { who, session: 1, amount, reward: paid, .. })
				if who == dave && amount == slash && paid == reward
		));
		let dave_index = session_validators.iter().position(|v| *v == dave).unwrap() as u32;
		assert_eq!(Session::disabled_validators(), vec![dave_index]);
		assert!(!pallet_validators::Validators::<Runtime>::get().contains(&dave));

		// The same report again: stale in the pool, refused if included all the same.
		assert_eq!(validate(TransactionSource::Local, &call), Err(InvalidTransaction::Stale));
		let result = include(0, call);
		assert_eq!(
			result.map_err(|error| error.error),
			Err(pallet_babe::Error::<Runtime>::DuplicateOffenceReport.into())
		);
		assert_eq!(bonded(&dave), bond - slash);

		// Another slot of the same misbehaviour: a new offence, nothing more slashed.
		common::produce_block(0);
		assert_ok!(include(0, report_call(equivocation(Dave), ownership(Dave))));
		assert_eq!(bonded(&dave), bond - slash);

		// Disabled while it still authors, out of the authorities two sessions on.
		run_to_session(2);
		assert_eq!(Session::disabled_validators(), vec![dave_index]);
		run_to_session(3);
		assert!(!Session::validators().contains(&dave));
		assert!(Session::disabled_validators().is_empty());
		assert!(!Babe::authorities()
			.iter()
			.any(|(key, _)| *key == AuthorityId::from(Dave.public())));
	});
}

#[test]
fn invalid_reports_are_refused() {
	local_chain().execute_with(|| {
		run_to_session(1);
		let bond = ValidatorMinimumBond::get();
		let slot = Babe::current_slot();
		let refused = |call| include(0, call).map_err(|error| error.error);

		// Two identical headers are no equivocation.
		let same = sealed_header(Dave, 3, slot, 1);
		let proof = EquivocationProof {
			offender: AuthorityId::from(Dave.public()),
			slot,
			first_header: same.clone(),
			second_header: same,
		};
		assert_eq!(
			refused(report_call(proof, ownership(Dave))),
			Err(pallet_babe::Error::<Runtime>::InvalidEquivocationProof.into())
		);

		// Headers sealed by someone else's key, blamed on Dave.
		let proof = EquivocationProof {
			offender: AuthorityId::from(Dave.public()),
			slot,
			first_header: sealed_header(Eve, 3, slot, 1),
			second_header: sealed_header(Eve, 3, slot, 2),
		};
		assert_eq!(
			refused(report_call(proof, ownership(Dave))),
			Err(pallet_babe::Error::<Runtime>::InvalidEquivocationProof.into())
		);

		// Dave's equivocation with Charlie's key-ownership proof.
		let call = report_call(equivocation(Dave), ownership(Charlie));
		assert_eq!(validate(TransactionSource::Local, &call), Err(InvalidTransaction::BadProof));
		assert_eq!(
			refused(call),
			Err(pallet_babe::Error::<Runtime>::InvalidKeyOwnershipProof.into())
		);

		// An equivocation of the previous session proven with this session's record.
		let old_slot = Slot::from(*slot - 20);
		let proof = EquivocationProof {
			offender: AuthorityId::from(Dave.public()),
			slot: old_slot,
			first_header: sealed_header(Dave, 3, old_slot, 1),
			second_header: sealed_header(Dave, 3, old_slot, 2),
		};
		assert_eq!(
			refused(report_call(proof, ownership(Dave))),
			Err(pallet_babe::Error::<Runtime>::InvalidKeyOwnershipProof.into())
		);

		for who in [Alice, Charlie, Dave] {
			assert_eq!(bonded(&account(who)), bond);
		}
		assert!(slashed_event().is_none());
		assert!(Session::disabled_validators().is_empty());
	});
}

/// A removed validator's bond is released only once what it signed in its last session can no
/// longer be proven: up to then, a report slashes it.
#[test]
fn an_offence_in_a_removed_validators_last_session_is_slashed_until_its_bond_is_released() {
	local_chain().execute_with(|| {
		let dave = account(Dave);
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), dave.clone()));
		let release = VALIDATOR_BONDING_DURATION;
		assert_eq!(
			pallet_validators::Bonds::<Runtime>::get(&dave).and_then(|bond| bond.release_at),
			Some(release)
		);
		// Its last session as an authority.
		run_to_session(1);
		assert!(Session::validators().contains(&dave));
		let late_report = report_call(equivocation(Dave), ownership(Dave));

		run_to_session(release - 1);
		assert_noop!(
			Validators::withdraw_bond(RuntimeOrigin::signed(dave.clone())),
			pallet_validators::Error::<Runtime>::BondStillHeld
		);
		assert_ok!(include(0, late_report));
		let bond = ValidatorMinimumBond::get();
		assert_eq!(bonded(&dave), bond - lone_slash(bond));

		// From the release on, its last session's record is gone: nothing it signed can be
		// proven any more, and it may go.
		run_to_session(release);
		assert!(pallet_session::historical::HistoricalSessions::<Runtime>::get(1).is_none());
		assert_ok!(Validators::withdraw_bond(RuntimeOrigin::signed(dave)));
	});
}

/// A validator that changed keys while they were in use would equivocate with keys the
/// session's record does not tie to it (the record reads the keys registered now), and leave its
/// old keys recorded as its own for anyone who holds them. Keys change only while not in use.
#[test]
fn keys_in_use_cannot_be_changed() {
	local_chain().execute_with(|| {
		let dave = account(Dave);
		assert_noop!(
			set_new_keys(&dave),
			pallet_session::Error::<Runtime>::NoAssociatedValidatorId
		);

		// Removed: still in the next session's set, then out of every set.
		assert_ok!(Validators::remove_validator(RuntimeOrigin::root(), dave.clone()));
		run_to_session(1);
		assert!(Session::validators().contains(&dave));
		assert_noop!(
			set_new_keys(&dave),
			pallet_session::Error::<Runtime>::NoAssociatedValidatorId
		);
		run_to_session(2);
		assert!(!Session::validators().contains(&dave));
		assert_ok!(set_new_keys(&dave));

		// A candidate sets keys before it is added.
		let eve = account(Eve);
		assert_ok!(Validators::bond(
			RuntimeOrigin::signed(eve.clone()),
			ValidatorMinimumBond::get()
		));
		assert_ok!(set_new_keys(&eve));
	});
}

/// Signed reports would let an offender's second account win back the reporters' share of its
/// own slash, ahead of the nodes' reports (which stay with the node that saw the equivocation):
/// the call filter refuses them, in batches too.
#[test]
fn signed_reports_are_refused() {
	use sp_runtime::traits::Dispatchable;
	local_chain().execute_with(|| {
		run_to_session(1);
		let accomplice = RuntimeOrigin::signed(account(Eve));
		let signed = RuntimeCall::Babe(pallet_babe::Call::report_equivocation {
			equivocation_proof: Box::new(equivocation(Dave)),
			key_owner_proof: ownership(Dave),
		});
		assert_eq!(
			signed.clone().dispatch(accomplice.clone()).map_err(|error| error.error),
			Err(frame_system::Error::<Runtime>::CallFiltered.into())
		);
		let batch = RuntimeCall::Utility(pallet_utility::Call::batch_all { calls: vec![signed] });
		assert!(batch.dispatch(accomplice).is_err());
		assert_eq!(bonded(&account(Dave)), ValidatorMinimumBond::get());
	});
}

/// Two prevotes for different blocks in one round of the current GRANDPA set, signed by
/// `signer` and said to be `offender`'s.
fn grandpa_equivocation(
	signer: sp_keyring::Ed25519Keyring,
	offender: sp_keyring::Ed25519Keyring,
	round: u64,
) -> sp_consensus_grandpa::EquivocationProof<H256, u32> {
	let set_id = veritensor_runtime::Grandpa::current_set_id();
	let vote = |target: u8| {
		let prevote =
			finality_grandpa::Prevote { target_hash: H256::repeat_byte(target), target_number: 1 };
		let payload = sp_consensus_grandpa::localized_payload(
			round,
			set_id,
			&finality_grandpa::Message::<H256, u32>::Prevote(prevote.clone()),
		);
		(prevote, signer.sign(&payload).into())
	};
	sp_consensus_grandpa::EquivocationProof::new(
		set_id,
		sp_consensus_grandpa::Equivocation::Prevote(finality_grandpa::Equivocation {
			round_number: round,
			identity: offender.public().into(),
			first: vote(1),
			second: vote(2),
		}),
	)
}

fn grandpa_report(
	proof: sp_consensus_grandpa::EquivocationProof<H256, u32>,
	offender: sp_keyring::Ed25519Keyring,
) -> RuntimeCall {
	let key = sp_consensus_grandpa::AuthorityId::from(offender.public());
	RuntimeCall::Grandpa(pallet_grandpa::Call::report_equivocation_unsigned {
		equivocation_proof: Box::new(proof),
		key_owner_proof: Historical::prove((sp_consensus_grandpa::KEY_TYPE, key))
			.expect("a current validator's key is in the session's record"),
	})
}

#[test]
fn a_grandpa_equivocation_is_slashed_once_and_a_replay_or_forgery_refused() {
	use sp_keyring::Ed25519Keyring;
	local_chain().execute_with(|| {
		run_to_session(1);
		let dave = account(Dave);
		let bond = ValidatorMinimumBond::get();
		let alice = free(&account(Alice));

		// Votes signed by Charlie's key, blamed on Dave.
		let forged = grandpa_equivocation(Ed25519Keyring::Charlie, Ed25519Keyring::Dave, 1);
		assert_eq!(
			include_call(0, grandpa_report(forged, Ed25519Keyring::Dave)).map_err(|e| e.error),
			Err(pallet_grandpa::Error::<Runtime>::InvalidEquivocationProof.into())
		);
		assert_eq!(bonded(&dave), bond);

		let report = grandpa_report(
			grandpa_equivocation(Ed25519Keyring::Dave, Ed25519Keyring::Dave, 1),
			Ed25519Keyring::Dave,
		);
		assert_ok!(include_call(0, report.clone()));
		let slash = lone_slash(bond);
		assert_eq!(bonded(&dave), bond - slash);
		assert_eq!(free(&account(Alice)), alice + Perbill::from_percent(10) * slash);
		assert!(!pallet_validators::Validators::<Runtime>::get().contains(&dave));

		assert_eq!(
			include_call(0, report).map_err(|e| e.error),
			Err(pallet_grandpa::Error::<Runtime>::DuplicateOffenceReport.into())
		);
		// Another round, and a BABE equivocation in the same session: nothing more.
		assert_ok!(include_call(
			0,
			grandpa_report(
				grandpa_equivocation(Ed25519Keyring::Dave, Ed25519Keyring::Dave, 2),
				Ed25519Keyring::Dave
			)
		));
		assert_ok!(include(0, report_call(equivocation(Dave), ownership(Dave))));
		assert_eq!(bonded(&dave), bond - slash);
	});
}

/// A report goes into the pool only if the pallet would accept its proof: one built from
/// headers without their seals (as the BABE client's own check builds them) would take block
/// space and fail.
#[test]
fn only_reports_the_pallet_would_accept_reach_the_pool() {
	use sp_consensus_babe::runtime_decl_for_babe_api::BabeApi;
	use sp_core::offchain::{testing::TestTransactionPoolExt, TransactionPoolExt};
	let mut ext = local_chain();
	let (pool, state) = TestTransactionPoolExt::new();
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		run_to_session(1);
		let opaque = |proof: sp_session::MembershipProof| {
			sp_consensus_babe::OpaqueKeyOwnershipProof::new(proof.encode())
		};
		let mut unsealed = equivocation(Dave);
		unsealed.first_header.digest_mut().pop();
		unsealed.second_header.digest_mut().pop();
		assert_eq!(
			<Runtime as BabeApi<veritensor_runtime::Block>>::submit_report_equivocation_unsigned_extrinsic(
				unsealed,
				opaque(ownership(Dave)),
			),
			None
		);
		assert!(state.read().transactions.is_empty());

		let key = <Runtime as BabeApi<veritensor_runtime::Block>>::generate_key_ownership_proof(
			Babe::current_slot(),
			AuthorityId::from(Dave.public()),
		)
		.expect("Dave's key in the current session");
		assert_eq!(
			<Runtime as BabeApi<veritensor_runtime::Block>>::submit_report_equivocation_unsigned_extrinsic(
				equivocation(Dave),
				key,
			),
			Some(())
		);
		assert_eq!(state.read().transactions.len(), 1);

		// No proof for a slot outside the current epoch: a node asking at a parent in the
		// previous epoch asks again at its best block.
		let next_epoch = Slot::from(*Babe::current_epoch_start() + Babe::current_epoch().duration);
		assert!(<Runtime as BabeApi<veritensor_runtime::Block>>::generate_key_ownership_proof(
			next_epoch,
			AuthorityId::from(Dave.public()),
		)
		.is_none());
	});
}
