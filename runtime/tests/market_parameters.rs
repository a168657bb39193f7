//! The market's economic numbers are the council's to set, within bounds checked when set.

mod common;

use codec::{Decode, Encode};
use frame_support::{assert_noop, assert_ok, dispatch::GetDispatchInfo};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};
use sp_runtime::{traits::Hash as _, DispatchError, Perbill};
use veritensor_runtime::{
	parameters::{
		dynamic_params::market, Bounded, NoShowSlashFloorBounds, ProtocolFeeBounds,
		RuntimeParameters,
	},
	Council, Jobs, Parameters, Runtime, RuntimeCall, RuntimeOrigin, System,
};

fn dev_ext() -> sp_io::TestExternalities {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn set_protocol_fee(percent: u32) -> RuntimeCall {
	let value = Bounded::new(Perbill::from_percent(percent)).expect("within the bounds");
	RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
		key_value: RuntimeParameters::Market(market::Parameters::ProtocolFee(
			market::ProtocolFee,
			Some(value),
		)),
	})
}

#[test]
fn a_council_motion_sets_the_result_byte_price_and_the_quote_follows() {
	dev_ext().execute_with(|| {
		common::list_model();
		let (before, _) =
			Jobs::quote(&common::model(), &veritensor_primitives::VerificationTerms::single())
				.unwrap();
		let price = veritensor_runtime::configs::currency::MILLI_UNITS;
		let set = |origin| {
			Parameters::set_parameter(
				origin,
				RuntimeParameters::Market(market::Parameters::ResultBytePrice(
					market::ResultBytePrice,
					Some(Bounded::new(price).expect("within the bounds")),
				)),
			)
		};
		// An account alone cannot.
		assert_noop!(set(RuntimeOrigin::signed(Alice.to_account_id())), DispatchError::BadOrigin);

		let call = RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
			key_value: RuntimeParameters::Market(market::Parameters::ResultBytePrice(
				market::ResultBytePrice,
				Some(Bounded::new(price).expect("within the bounds")),
			)),
		});
		let length = call.encoded_size() as u32;
		let weight = call.get_dispatch_info().call_weight;
		let motion = <Runtime as frame_system::Config>::Hashing::hash_of(&call);
		assert_ok!(Council::propose(
			RuntimeOrigin::signed(Alice.to_account_id()),
			2,
			Box::new(call),
			length
		));
		for member in [Alice, Bob] {
			assert_ok!(Council::vote(
				RuntimeOrigin::signed(member.to_account_id()),
				motion,
				0,
				true
			));
		}
		assert_ok!(Council::close(
			RuntimeOrigin::signed(Charlie.to_account_id()),
			motion,
			0,
			weight,
			length
		));

		let (after, cost) =
			Jobs::quote(&common::model(), &veritensor_primitives::VerificationTerms::single())
				.unwrap();
		let schema = pallet_models::Models::<Runtime>::get(common::model()).unwrap().spec.schema;
		assert_eq!(after.storage, price * Jobs::result_bytes(&schema) as u128);
		assert!(after.storage > before.storage);
		assert_eq!(cost, after.per_worker + after.royalty + after.protocol + after.storage);
	});
}

#[test]
fn a_value_outside_its_bounds_cannot_even_be_proposed() {
	dev_ext().execute_with(|| {
		// 31 % is above the protocol fee's bound of 30 %: no call carrying it decodes, so no
		// motion (nor root) can set it.
		assert!(Bounded::<Perbill, ProtocolFeeBounds>::new(Perbill::from_percent(31)).is_none());
		let mut encoded = set_protocol_fee(30).encode();
		let fee = Perbill::from_percent(30).encode();
		let at = encoded.len() - fee.len();
		assert_eq!(&encoded[at..], &fee[..]);
		assert!(RuntimeCall::decode(&mut &encoded[..]).is_ok());
		encoded.truncate(at);
		encoded.extend(Perbill::from_percent(31).encode());
		assert!(RuntimeCall::decode(&mut &encoded[..]).is_err());

		// So is a zero multiple of the no-show slash, or a floor above an assignment's exposure.
		let set_multiple = |multiple: u32| {
			let mut encoded = RuntimeCall::Parameters(pallet_parameters::Call::set_parameter {
				key_value: RuntimeParameters::Market(market::Parameters::NoShowSlashMultiple(
					market::NoShowSlashMultiple,
					Some(Bounded::new(1).expect("within the bounds")),
				)),
			})
			.encode();
			let at = encoded.len() - 4;
			encoded.truncate(at);
			encoded.extend(multiple.encode());
			RuntimeCall::decode(&mut &encoded[..])
		};
		assert!(set_multiple(1_000).is_ok());
		assert!(set_multiple(0).is_err());
		assert!(set_multiple(1_001).is_err());
		assert!(Bounded::<u128, NoShowSlashFloorBounds>::new(
			veritensor_runtime::configs::MAX_ASSIGNMENT_SLASH + 1
		)
		.is_none());
	});
}

#[test]
fn every_default_is_within_its_bounds() {
	use frame_support::traits::Get;
	use veritensor_runtime::parameters::{MinJobFeeBounds, ResultBytePriceBounds};
	sp_io::TestExternalities::default().execute_with(|| {
		let fee = market::ProtocolFee::get().get();
		assert!(Bounded::<Perbill, ProtocolFeeBounds>::new(fee).is_some());
		assert!(Bounded::<u128, MinJobFeeBounds>::new(market::MinJobFee::get().get()).is_some());
		let floor = market::NoShowSlashFloor::get().get();
		assert!(Bounded::<u128, NoShowSlashFloorBounds>::new(floor).is_some());
		let multiple = market::NoShowSlashMultiple::get().get();
		assert!(Bounded::<u32, veritensor_runtime::parameters::NoShowSlashMultipleBounds>::new(
			multiple
		)
		.is_some());
		let byte_price = market::ResultBytePrice::get().get();
		assert!(Bounded::<u128, ResultBytePriceBounds>::new(byte_price).is_some());
	});
}
