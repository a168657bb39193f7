//! Governance lists a model through a real council motion: propose, vote, close.

mod common;

use codec::Encode;
use frame_support::{assert_noop, assert_ok, dispatch::GetDispatchInfo};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie, Dave};
use sp_runtime::{traits::Hash as _, DispatchError};
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	ComparisonRule, IoSchema, ModelFormat, ModelHash, OutputRule,
};
use veritensor_runtime::{
	Council, Models, Runtime, RuntimeCall, RuntimeEvent, RuntimeOrigin, System,
};

fn dev_ext() -> sp_io::TestExternalities {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

fn spec() -> pallet_models::ModelSpec<Runtime> {
	let tensor = |name: &str, elem, shape: &[u32], frac_bits| TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
	};
	pallet_models::ModelSpec {
		artifact_hash: ModelHash::repeat_byte(0x42),
		artifact_size: 4_096,
		format: ModelFormat::Onnx,
		schema: IoSchema {
			inputs: vec![tensor("input", ElementType::F32, &[1, 64], 0)].try_into().unwrap(),
			outputs: vec![tensor("label", ElementType::I64, &[1], 0)].try_into().unwrap(),
		},
		comparison: ComparisonRule::PerOutput(vec![OutputRule::Exact].try_into().unwrap()),
		price_per_worker: 1_000_000_000,
		owner_royalty: 100_000_000,
		uris: vec![b"https://models.example/digits.onnx".to_vec().try_into().unwrap()]
			.try_into()
			.unwrap(),
		metadata: pallet_models::ModelMetadata {
			name: b"digits".to_vec().try_into().unwrap(),
			description: pallet_models::Description::Text(b"digits".to_vec().try_into().unwrap()),
			licence: b"Apache-2.0".to_vec().try_into().unwrap(),
		},
		supersedes: None,
	}
}

#[test]
fn a_council_majority_lists_a_model() {
	dev_ext().execute_with(|| {
		let model = ModelHash::repeat_byte(0x42);
		assert_ok!(Models::propose(RuntimeOrigin::signed(Dave.to_account_id()), Box::new(spec())));

		// A single council member, or any other account, cannot list a model directly.
		assert_noop!(
			Models::approve(RuntimeOrigin::signed(Alice.to_account_id()), model)
				.map_err(|refused| refused.error),
			DispatchError::BadOrigin
		);

		let call = RuntimeCall::Models(pallet_models::Call::approve { model });
		let length = call.encoded_size() as u32;
		let weight = call.get_dispatch_info().call_weight;
		let motion = <Runtime as frame_system::Config>::Hashing::hash_of(&call);
		assert_ok!(Council::propose(
			RuntimeOrigin::signed(Alice.to_account_id()),
			2,
			Box::new(call),
			length
		));
		assert_ok!(Council::vote(RuntimeOrigin::signed(Alice.to_account_id()), motion, 0, true));

		// One aye of three is not a majority: the motion cannot close early.
		assert!(Council::close(
			RuntimeOrigin::signed(Dave.to_account_id()),
			motion,
			0,
			weight,
			length
		)
		.is_err());
		assert_eq!(
			pallet_models::Models::<Runtime>::get(model).unwrap().status.kind(),
			pallet_models::StatusKind::Proposed
		);

		assert_ok!(Council::vote(RuntimeOrigin::signed(Bob.to_account_id()), motion, 0, true));
		assert_ok!(Council::close(
			RuntimeOrigin::signed(Charlie.to_account_id()),
			motion,
			0,
			weight,
			length
		));

		let events: Vec<RuntimeEvent> = System::events().into_iter().map(|r| r.event).collect();
		assert!(events.contains(&RuntimeEvent::Council(pallet_collective::Event::Executed {
			proposal_hash: motion,
			result: Ok(()),
		})));
		assert!(events.contains(&RuntimeEvent::Models(pallet_models::Event::Listed { model })));
		assert_eq!(
			pallet_models::Models::<Runtime>::get(model).unwrap().status.kind(),
			pallet_models::StatusKind::Listed
		);
	});
}
