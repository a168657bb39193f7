use super::*;
use crate::{Description, Error, Event, ModelStatus};
use codec::Encode;
use frame_support::{assert_noop, assert_ok};
use sp_runtime::DispatchError;
use veritensor_primitives::{ComparisonRule, OutputRule};

#[test]
fn propose_holds_base_plus_per_byte_deposit() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(Models::propose(RuntimeOrigin::signed(ALICE), Box::new(spec(1))));
		let record = record(1);
		let expected = BASE_DEPOSIT + BYTE_DEPOSIT * record.encoded_size() as Balance;
		assert_eq!(record.deposit, expected);
		assert_eq!(held(ALICE), expected);
		assert_eq!(Balances::free_balance(ALICE), ENDOWMENT - expected);
		assert_eq!(record.owner, ALICE);
		assert_eq!(record.status, ModelStatus::Proposed { at: 1 });
		assert_eq!(
			last_event(),
			Event::Proposed { model: hash(1), owner: ALICE, deposit: expected }.into()
		);
	});
}

#[test]
fn propose_needs_a_signed_origin() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Models::propose(RuntimeOrigin::root(), Box::new(spec(1))),
			DispatchError::BadOrigin
		);
	});
}

#[test]
fn an_artifact_hash_is_proposed_once() {
	ExtBuilder::default().build_and_execute(|| {
		propose(ALICE, 1);
		assert_noop!(
			Models::propose(RuntimeOrigin::signed(BOB), Box::new(spec(1))),
			Error::<Test>::AlreadyRegistered
		);
		assert_ok!(Models::approve(RuntimeOrigin::root(), hash(1)));
		assert_noop!(
			Models::propose(RuntimeOrigin::signed(ALICE), Box::new(spec(1))),
			Error::<Test>::AlreadyRegistered
		);
	});
}

#[test]
fn a_poor_owner_cannot_propose() {
	ExtBuilder::default().build_and_execute(|| {
		assert_noop!(
			Models::propose(RuntimeOrigin::signed(POOR), Box::new(spec(1))),
			Error::<Test>::InsufficientDeposit
		);
	});
}

fn refused(change: impl FnOnce(&mut crate::ModelSpec<Test>), error: Error<Test>) {
	let mut bad = spec(1);
	change(&mut bad);
	assert_noop!(Models::propose(RuntimeOrigin::signed(ALICE), Box::new(bad)), error);
}

#[test]
fn malformed_specs_are_refused_with_specific_errors() {
	ExtBuilder::default().build_and_execute(|| {
		refused(|s| s.artifact_size = 0, Error::<Test>::EmptyArtifact);
		refused(|s| s.schema.inputs = Default::default(), Error::<Test>::SchemaWithoutTensors);
		refused(|s| s.schema.outputs[0].shape[0] = 0, Error::<Test>::SchemaZeroDimension);
		refused(
			|s| s.schema.outputs[0].shape = Default::default(),
			Error::<Test>::SchemaEmptyShape,
		);
		refused(
			|s| s.schema.inputs[0].shape = vec![1024, 1024].try_into().unwrap(),
			Error::<Test>::SchemaTensorTooLarge,
		);
		refused(
			|s| {
				let again = s.schema.outputs[0].clone();
				s.schema.outputs.try_push(again).unwrap();
			},
			Error::<Test>::SchemaDuplicateName,
		);
		refused(|s| s.schema.inputs[0].name = Default::default(), Error::<Test>::SchemaEmptyName);
		refused(|s| s.schema.outputs[0].frac_bits = 8, Error::<Test>::SchemaBadFracBits);
		refused(
			|s| s.schema.inputs[0].name = vec![0xff, 0xfe].try_into().unwrap(),
			Error::<Test>::SchemaNameNotUtf8,
		);
		let rules = |rules: Vec<OutputRule>| ComparisonRule::PerOutput(rules.try_into().unwrap());
		refused(
			|s| s.comparison = rules(vec![OutputRule::Tolerance { agree: 5, slash: 4 }]),
			Error::<Test>::ToleranceAgreeAboveSlash,
		);
		refused(
			|s| s.comparison = rules(vec![OutputRule::Exact, OutputRule::Exact]),
			Error::<Test>::ComparisonRuleCountMismatch,
		);
		refused(
			|s| s.comparison = rules(vec![OutputRule::ArgMaxOf(0)]),
			Error::<Test>::BadLabelRule,
		);
		refused(
			|s| {
				s.comparison = ComparisonRule::ExactHash {
					engine: veritensor_primitives::Engine::Tract,
					version: Default::default(),
				}
			},
			Error::<Test>::InvalidComparisonRule,
		);
		refused(|s| s.uris = Default::default(), Error::<Test>::NoUris);
		refused(|s| s.uris.try_push(Default::default()).unwrap(), Error::<Test>::EmptyUri);
		refused(|s| s.metadata.name = Default::default(), Error::<Test>::EmptyName);
		refused(|s| s.supersedes = Some(hash(7)), Error::<Test>::UnknownSupersededModel);
	});
}

#[test]
fn a_new_version_links_to_the_owners_earlier_one() {
	ExtBuilder::default().build_and_execute(|| {
		list(ALICE, 1);
		let mut v2 = spec(2);
		v2.supersedes = Some(hash(1));
		assert_ok!(Models::propose(RuntimeOrigin::signed(ALICE), Box::new(v2.clone())));
		assert_eq!(record(2).spec.supersedes, Some(hash(1)));

		let mut hijack = spec(3);
		hijack.supersedes = Some(hash(1));
		assert_noop!(
			Models::propose(RuntimeOrigin::signed(BOB), Box::new(hijack)),
			Error::<Test>::SupersededModelNotOwned
		);
	});
}

#[test]
fn a_description_may_be_a_hash() {
	ExtBuilder::default().build_and_execute(|| {
		let mut s = spec(1);
		s.metadata.description = Description::Hash(sp_core::H256::repeat_byte(0xde));
		assert_ok!(Models::propose(RuntimeOrigin::signed(ALICE), Box::new(s)));
		assert_eq!(
			record(1).spec.metadata.description,
			Description::Hash(sp_core::H256::repeat_byte(0xde))
		);
	});
}
