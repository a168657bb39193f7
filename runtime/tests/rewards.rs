//! Block authors' pay: a transaction's fee is split between the author of its block and the
//! treasury in the council's `AuthorShare`, and its tip goes to the author.

mod common;

use codec::Encode;
use frame_support::{assert_ok, traits::Get};
use sp_keyring::Sr25519Keyring::{Alice, Ferdie};
use sp_runtime::{generic::Era, traits::Dispatchable};
use veritensor_runtime::{
	configs::TreasuryAccount, currency::UNITS, rewards::AuthorShare, Address, Balances, Executive,
	RuntimeCall, RuntimeEvent, RuntimeOrigin, Session, SignedPayload, System, TxExtension,
	UncheckedExtrinsic,
};

fn local_chain() -> sp_io::TestExternalities {
	let mut ext = common::ext(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET);
	ext.execute_with(|| common::produce_block(0));
	ext
}

/// Ferdie's transfer of one unit to Alice, signed with `tip`.
fn transfer(nonce: u32, tip: u128) -> UncheckedExtrinsic {
	let call = RuntimeCall::Balances(pallet_balances::Call::transfer_keep_alive {
		dest: Alice.to_account_id().into(),
		value: UNITS,
	});
	let extension: TxExtension = (
		frame_system::AuthorizeCall::new(),
		frame_system::CheckNonZeroSender::new(),
		frame_system::CheckSpecVersion::new(),
		frame_system::CheckTxVersion::new(),
		frame_system::CheckGenesis::new(),
		frame_system::CheckEra::from(Era::Immortal),
		frame_system::CheckNonce::from(nonce),
		frame_system::CheckWeight::new(),
		pallet_transaction_payment::ChargeTransactionPayment::from(tip),
		frame_system::WeightReclaim::new(),
	);
	let payload = SignedPayload::new(call.clone(), extension.clone()).expect("a valid payload");
	let signature = payload.using_encoded(|bytes| Ferdie.sign(bytes));
	UncheckedExtrinsic::new_signed(
		call,
		Address::Id(Ferdie.to_account_id()),
		signature.into(),
		extension,
	)
}

/// The fee and tip the last transaction paid.
fn paid() -> (u128, u128) {
	System::events()
		.into_iter()
		.rev()
		.find_map(|record| match record.event {
			RuntimeEvent::TransactionPayment(
				pallet_transaction_payment::Event::TransactionFeePaid { actual_fee, tip, .. },
			) => Some((actual_fee - tip, tip)),
			_ => None,
		})
		.expect("the transaction paid")
}

#[test]
fn the_author_of_a_block_earns_its_share_of_each_fee_and_the_tips() {
	local_chain().execute_with(|| {
		let share = AuthorShare::get();
		assert!(!share.is_zero());
		let treasury = TreasuryAccount::get();
		for (index, tip) in [(1u32, 0u128), (2, UNITS / 10)] {
			let author = Session::validators()[index as usize].clone();
			common::start_block(index);
			let (author_before, treasury_before) =
				(Balances::free_balance(&author), Balances::free_balance(&treasury));
			let nonce = System::account_nonce(Ferdie.to_account_id());
			assert_ok!(Executive::apply_extrinsic(transfer(nonce, tip)).expect("applied"));
			let (fee, tip_paid) = paid();
			assert_eq!(tip_paid, tip);
			assert!(fee > 0);
			let to_author = share.mul_floor(fee);
			assert_eq!(Balances::free_balance(&author) - author_before, to_author + tip);
			assert_eq!(Balances::free_balance(&treasury) - treasury_before, fee - to_author);
			common::end_block();
		}
	});
}

#[test]
fn the_council_sets_the_share_within_its_bounds() {
	local_chain().execute_with(|| {
		use veritensor_runtime::parameters::{dynamic_params::rewards, Bounded, RuntimeParameters};
		let half = sp_runtime::Perbill::from_percent(50);
		let set = |value| {
			RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
				key_value: RuntimeParameters::Rewards(rewards::Parameters::AuthorShare(
					rewards::AuthorShare,
					Some(value),
				)),
			})
			.dispatch(RuntimeOrigin::root())
		};
		assert_ok!(set(Bounded::new(half).expect("within bounds")));
		assert_eq!(AuthorShare::get(), half);
		assert!(
			Bounded::<_, veritensor_runtime::parameters::AuthorShareBounds>::new(
				sp_runtime::Perbill::from_percent(51)
			)
			.is_none(),
			"above half the treasury would be starved"
		);
	});
}
