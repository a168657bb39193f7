//! Off-chain workers sign transactions with the node's worker keys, and the runtime accepts
//! them from the worker key's account.

mod common;

use codec::Encode;
use common::ext;
use frame_system::offchain::CreateSignedTransaction;
use sp_genesis_builder::DEV_RUNTIME_PRESET;
use sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt};
use sp_runtime::{
	generic::ExtrinsicFormat,
	traits::{Checkable, IdentifyAccount},
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	MultiSigner,
};
use veritensor_primitives::WORKER_KEY_TYPE;
use veritensor_runtime::{
	offchain::WorkerKeySigner, AccountId, Executive, Runtime, RuntimeCall, System,
	UncheckedExtrinsic,
};

fn sign(signer: &MultiSigner, nonce: u32) -> Option<UncheckedExtrinsic> {
	let account: AccountId = signer.clone().into_account();
	let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![7] });
	<Runtime as CreateSignedTransaction<RuntimeCall>>::create_signed_transaction::<WorkerKeySigner>(
		call,
		signer.clone(),
		account,
		nonce,
	)
}

#[test]
fn a_worker_key_signs_transactions_the_runtime_accepts() {
	let keystore = MemoryKeystore::new();
	let public = keystore.sr25519_generate_new(WORKER_KEY_TYPE, Some("//Alice")).unwrap();
	let mut externalities = ext(DEV_RUNTIME_PRESET);
	externalities.register_extension(KeystoreExt::new(keystore));
	externalities.execute_with(|| {
		System::set_block_number(1);
		let signer = MultiSigner::from(public);
		let account: AccountId = signer.clone().into_account();

		let transaction = sign(&signer, 0).expect("the keystore holds the worker key");
		let checked = transaction
			.clone()
			.check(&frame_system::ChainContext::<Runtime>::default())
			.expect("the signature verifies");
		assert!(
			matches!(&checked.format, ExtrinsicFormat::Signed(who, _) if *who == account),
			"signed from the worker key's account"
		);
		let parent = System::parent_hash();
		let valid = Executive::validate_transaction(TransactionSource::Local, transaction, parent)
			.expect("the pool accepts it: era, genesis, nonce and fee all check");
		assert_eq!(valid.provides, vec![(account.clone(), 0u32).encode()]);

		// A nonce from the future waits in the pool for the ones before it.
		let later = sign(&signer, 3).unwrap();
		let waiting =
			Executive::validate_transaction(TransactionSource::Local, later, parent).unwrap();
		assert_eq!(waiting.requires, vec![(account, 2u32).encode()]);

		// A key the keystore does not hold signs nothing.
		let stranger = MultiSigner::from(sp_core::sr25519::Public::from_raw([9; 32]));
		assert!(sign(&stranger, 0).is_none());
	});
}

#[test]
fn a_transaction_signed_with_another_key_is_refused() {
	let keystore = MemoryKeystore::new();
	let alice = keystore.sr25519_generate_new(WORKER_KEY_TYPE, Some("//Alice")).unwrap();
	let bob = keystore.sr25519_generate_new(WORKER_KEY_TYPE, Some("//Bob")).unwrap();
	let mut externalities = ext(DEV_RUNTIME_PRESET);
	externalities.register_extension(KeystoreExt::new(keystore));
	externalities.execute_with(|| {
		System::set_block_number(1);
		let bob_account: AccountId = MultiSigner::from(bob).into_account();
		let call = RuntimeCall::System(frame_system::Call::remark { remark: vec![7] });
		// Alice's key signing for Bob's account: the signature does not match the sender.
		let forged =
			<Runtime as CreateSignedTransaction<RuntimeCall>>::create_signed_transaction::<
				WorkerKeySigner,
			>(call, MultiSigner::from(alice), bob_account, 0)
			.unwrap();
		let refused = forged.check(&frame_system::ChainContext::<Runtime>::default());
		assert_eq!(
			refused.err(),
			Some(TransactionValidityError::Invalid(InvalidTransaction::BadProof))
		);
	});
}
