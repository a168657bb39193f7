//! A worker's answers go through the runtime's whole transaction pipeline as general
//! transactions the job market authorizes: no account, nonce or fee, the pool's priority for
//! answers, and refusal of anything the block would not take.

mod common;

use common::{answers_call, list_model, model, output_answer, tensor};

use codec::Encode;
use frame_support::assert_ok;
use frame_system::offchain::CreateAuthorizedTransaction;
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring::{Bob, Dave};
use sp_runtime::{
	traits::{Header as _, IdentifyAccount},
	transaction_validity::{InvalidTransaction, TransactionSource, TransactionValidityError},
	MultiSigner,
};
use veritensor_primitives::tensor::ElementType;
use veritensor_runtime::{
	configs::AnswerPriority, AccountId, Balances, Executive, Jobs, Runtime, RuntimeCall,
	RuntimeEvent, RuntimeOrigin, System, UncheckedExtrinsic,
};

fn general(call: pallet_jobs::Call<Runtime>) -> UncheckedExtrinsic {
	<Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_authorized_transaction(
		call.into(),
	)
}

#[test]
fn a_worker_with_an_empty_account_answers_in_a_general_transaction() {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| {
		System::set_block_number(1);
		list_model();
		let pair = sr25519::Pair::from_seed(&[5; 32]);
		let worker = common::register_worker(&pair, model());
		let account: AccountId = MultiSigner::from(pair.public()).into_account();
		assert_eq!(Balances::free_balance(&account), 0, "the worker key's account is empty");

		// Bob submits a job; it is assigned to the worker (the draw itself is tested with the
		// pallet; here the assignment is written as the draw writes it).
		let input = pallet_jobs::Payload::Inline(
			vec![tensor(ElementType::U8, &[1, 4], vec![1, 2, 3, 4])].try_into().unwrap(),
		);
		let job = pallet_jobs::NextJobId::<Runtime>::get();
		assert_ok!(Jobs::submit(
			RuntimeOrigin::signed(Bob.to_account_id()),
			model(),
			input,
			veritensor_primitives::VerificationTerms::single(),
			veritensor_runtime::configs::currency::UNITS,
			20
		));
		common::assign(job, &worker);

		let transaction = general(answers_call(&pair, vec![output_answer(&pair, job)]));
		assert!(matches!(transaction.preamble, sp_runtime::generic::Preamble::General(..)));

		// The pool: valid, at the answers' priority, no nonce or fee involved.
		let parent = System::parent_hash();
		let valid = Executive::validate_transaction(
			TransactionSource::External,
			transaction.clone(),
			parent,
		)
		.expect("the pool takes the answer");
		assert_eq!(valid.priority, AnswerPriority::get());
		assert_eq!(valid.provides, vec![("VeritensorJobAnswer", (&worker, job, 0u8)).encode()]);

		// A block: applied, settled, the worker paid, its account still without funds.
		Executive::initialize_block(&veritensor_runtime::Header::new(
			System::block_number() + 1,
			Default::default(),
			Default::default(),
			parent,
			Default::default(),
		));
		let applied = Executive::apply_extrinsic(transaction.clone()).expect("included");
		assert_ok!(applied);
		assert!(System::events().iter().any(|record| matches!(
			&record.event,
			RuntimeEvent::Jobs(pallet_jobs::Event::Settled { job: settled, .. }) if *settled == job
		)));
		assert_eq!(Balances::free_balance(&account), 0, "no fee was charged");
		// One worker's word: provisional, its earnings held for the operator (never the worker
		// key's account) until the dispute window ends.
		let provisional = pallet_jobs::Provisionals::<Runtime>::get(job).expect("provisional");
		let payees: Vec<_> =
			provisional.earners.iter().map(|earner| earner.payee.clone()).collect();
		assert_eq!(payees, vec![Dave.to_account_id()]);
		assert!(pallet_jobs::Claimable::<Runtime>::get(&account).is_none());
		let result = pallet_jobs::Results::<Runtime>::get(job).expect("stored");
		assert_eq!(result.signature, receipt_signature(&transaction));

		// The same answer again: its job is closed, the pool refuses it.
		assert_eq!(
			Executive::validate_transaction(TransactionSource::External, transaction, parent),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))
		);
	});
}

/// The receipt signature a transaction's only answer carries.
fn receipt_signature(transaction: &UncheckedExtrinsic) -> sr25519::Signature {
	let RuntimeCall::Jobs(pallet_jobs::Call::submit_results { answers, .. }) =
		&transaction.function
	else {
		panic!("an answer")
	};
	let pallet_jobs::Answer::Output { signature, .. } = &answers[0].answer else {
		panic!("an output")
	};
	signature.clone().into()
}

#[test]
fn answers_of_a_key_with_nothing_assigned_never_enter_the_pool() {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| {
		System::set_block_number(1);
		let pair = sr25519::Pair::from_seed(&[6; 32]);
		let answer = pallet_jobs::Submission {
			job: 0,
			answer: pallet_jobs::Answer::CannotExecute {
				reason: pallet_jobs::CannotExecuteReason::ExecutionFailed,
			},
		};
		let transaction = general(answers_call(&pair, vec![answer]));
		assert_eq!(
			Executive::validate_transaction(
				TransactionSource::External,
				transaction,
				System::parent_hash()
			),
			Err(TransactionValidityError::Invalid(InvalidTransaction::Stale))
		);
	});
}

#[test]
fn answers_sent_from_a_signed_account_fail_and_pay_their_fee() {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| {
		System::set_block_number(1);
		// A signed transaction skips the pallet's authorization: the call then fails, and its
		// sender pays for the block space, as for any other transaction.
		let pair = sr25519::Pair::from_seed(&[7; 32]);
		let call: RuntimeCall = answers_call(&pair, vec![]).into();
		let info = frame_support::dispatch::GetDispatchInfo::get_dispatch_info(&call);
		let len = call.encoded_size() + 110;
		let sender = Bob.to_account_id();
		let before = Balances::free_balance(&sender);
		// The runtime's extensions at their defaults (nonce 0, no tip), dispatched as Bob's.
		let extension = <Runtime as CreateAuthorizedTransaction<RuntimeCall>>::create_extension();
		use sp_runtime::traits::DispatchTransaction;
		let result = extension
			.dispatch_transaction(RuntimeOrigin::signed(sender.clone()), call, &info, len, 0)
			.expect("valid as a transaction: its sender pays");
		assert_eq!(result.map_err(|error| error.error), Err(sp_runtime::DispatchError::BadOrigin));
		assert!(Balances::free_balance(&sender) < before, "the fee was charged");
	});
}
