use super::*;
use crate::{Error, Event, Uris};
use codec::Encode;
use frame_support::{assert_noop, assert_ok};
use veritensor_primitives::traits::ModelRegistry;

fn uris(list: &[&str]) -> Uris<Test> {
	list.iter()
		.map(|uri| uri.as_bytes().to_vec().try_into().unwrap())
		.collect::<Vec<_>>()
		.try_into()
		.unwrap()
}

#[test]
fn the_owner_sets_prices_for_future_jobs() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		assert_ok!(Models::set_price(RuntimeOrigin::signed(ALICE), hash(1), 250, 25));
		assert_eq!(
			last_event(),
			Event::PriceSet { model: hash(1), price_per_worker: 250, owner_royalty: 25 }.into()
		);
		let terms = Models::terms_for_new_job(&hash(1)).unwrap();
		assert_eq!((terms.price_per_worker, terms.owner_royalty), (250, 25));
	});
}

#[test]
fn only_the_owner_of_a_model_in_service_sets_prices() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(ALICE), hash(1), 1, 1),
			Error::<Test>::UnknownModel
		);
		list(ALICE, 1);
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(BOB), hash(1), 1, 1),
			Error::<Test>::NotOwner
		);
		assert_ok!(Models::delist(RuntimeOrigin::root(), hash(1)));
		assert_noop!(
			Models::set_price(RuntimeOrigin::signed(ALICE), hash(1), 1, 1),
			Error::<Test>::AlreadyDelisted
		);
	});
}

#[test]
fn longer_uris_hold_more_and_shorter_ones_return_the_difference() {
	ExtBuilder::default().build_and_execute(|| {
		let deposit = list(ALICE, 1);
		let more = uris(&["https://a.example/m.onnx", "https://b.example/m.onnx", "ipfs://bafy"]);
		assert_ok!(Models::set_uris(RuntimeOrigin::signed(ALICE), hash(1), more.clone()));
		let grown = record(1);
		assert_eq!(grown.spec.uris, more);
		let expected = BASE_DEPOSIT + BYTE_DEPOSIT * grown.encoded_size() as Balance;
		assert!(expected > deposit);
		assert_eq!(grown.deposit, expected);
		assert_eq!(held(ALICE), expected);
		assert_eq!(
			last_event(),
			Event::UrisSet { model: hash(1), uris: 3, deposit: expected }.into()
		);

		assert_ok!(Models::set_uris(RuntimeOrigin::signed(ALICE), hash(1), uris(&["s3://m"])));
		let shrunk = record(1);
		let expected = BASE_DEPOSIT + BYTE_DEPOSIT * shrunk.encoded_size() as Balance;
		assert!(expected < deposit);
		assert_eq!(held(ALICE), expected);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - expected);
	});
}

#[test]
fn uris_are_checked_and_owned() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		assert_noop!(
			Models::set_uris(RuntimeOrigin::signed(ALICE), hash(1), uris(&[])),
			Error::<Test>::NoUris
		);
		assert_noop!(
			Models::set_uris(RuntimeOrigin::signed(ALICE), hash(1), uris(&["a", ""])),
			Error::<Test>::EmptyUri
		);
		assert_noop!(
			Models::set_uris(RuntimeOrigin::signed(BOB), hash(1), uris(&["a"])),
			Error::<Test>::NotOwner
		);
		assert_noop!(
			Models::set_uris(RuntimeOrigin::signed(ALICE), hash(2), uris(&["a"])),
			Error::<Test>::UnknownModel
		);
		assert_ok!(Models::delist(RuntimeOrigin::root(), hash(1)));
		assert_noop!(
			Models::set_uris(RuntimeOrigin::signed(ALICE), hash(1), uris(&["a"])),
			Error::<Test>::AlreadyDelisted
		);
	});
}

#[test]
fn a_larger_record_needs_funds_for_its_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		let free = Balances::free_balance(ALICE);
		assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::transfer(
			&ALICE,
			&BOB,
			free - 1,
			frame_support::traits::tokens::Preservation::Preserve,
		));
		let long = uris(&["https://a-very-long-host-name.example/with/a/long/path/model.onnx"]);
		assert_noop!(
			Models::set_uris(RuntimeOrigin::signed(ALICE), hash(1), long),
			Error::<Test>::InsufficientDeposit
		);
	});
}
