//! The migration to storage version 1: comparison rules per output tensor.

use super::*;
use crate::migrations::v1::{v0, MigrateV0ToV1};
use codec::Encode;
use frame_support::traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion};
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec},
	ComparisonRule, OutputRule,
};

/// Rewrites model `seed`'s record as version 0 stored it, with `rule`.
fn store_as_v0(seed: u8, rule: v0::ComparisonRule) {
	let record = record(seed);
	let spec = record.spec;
	let old = v0::ModelRecord::<Test> {
		owner: record.owner,
		spec: v0::ModelSpec {
			artifact_hash: spec.artifact_hash,
			artifact_size: spec.artifact_size,
			format: spec.format,
			schema: spec.schema,
			comparison: rule,
			price_per_worker: spec.price_per_worker,
			owner_royalty: spec.owner_royalty,
			uris: spec.uris,
			metadata: spec.metadata,
			supersedes: spec.supersedes,
		},
		status: record.status,
		deposit: record.deposit,
		open_jobs: record.open_jobs,
	};
	frame_support::storage::unhashed::put_raw(
		&ModelsStorage::<Test>::hashed_key_for(hash(seed)),
		&old.encode(),
	);
}

/// A label and its class probabilities, as the float demo model has them.
fn two_outputs(seed: u8) -> crate::ModelSpec<Test> {
	let mut spec = spec(seed);
	let tensor = |name: &str, elem, shape: &[u32], frac_bits| TensorSpec {
		name: name.as_bytes().to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
	};
	spec.schema.outputs = vec![
		tensor("label", ElementType::I64, &[1], 0),
		tensor("probabilities", ElementType::F32, &[1, 10], 16),
	]
	.try_into()
	.unwrap();
	spec.comparison =
		ComparisonRule::PerOutput(vec![OutputRule::Exact, OutputRule::Exact].try_into().unwrap());
	spec
}

frame_support::parameter_types! {
	pub Corrections: Vec<(ModelHash, ComparisonRule)> = vec![
		// Suits model 1's outputs: applied.
		(ModelHash::repeat_byte(1), ComparisonRule::PerOutput(
			vec![OutputRule::ArgMaxOf(1), OutputRule::Tolerance { agree: 4, slash: 64 }]
				.try_into().unwrap(),
		)),

	];
}

#[test]
fn version_0_rules_become_the_same_tolerance_per_output_unless_corrected() {
	ExtBuilder::default()
		.with_genesis_model(ALICE, two_outputs(1))
		.with_genesis_model(ALICE, spec(2))
		.with_genesis_model(ALICE, two_outputs(3))
		.with_genesis_model(ALICE, spec(4))
		.build_and_execute(|| {
			StorageVersion::new(0).put::<crate::Pallet<Test>>();
			store_as_v0(1, v0::ComparisonRule::Tolerance { agree: 4, slash: 64 });
			store_as_v0(2, v0::ComparisonRule::Tolerance { agree: 1, slash: 2 });
			store_as_v0(3, v0::ComparisonRule::Tolerance { agree: 4, slash: 64 });
			let exact = v0::ComparisonRule::ExactHash {
				engine: veritensor_primitives::Engine::Interpreter,
				version: b"1".to_vec().try_into().unwrap(),
			};
			store_as_v0(4, exact);

			MigrateV0ToV1::<Test, Corrections>::on_runtime_upgrade();

			assert_eq!(crate::Pallet::<Test>::on_chain_storage_version(), StorageVersion::new(1));
			assert_eq!(record(1).spec.comparison, Corrections::get()[0].1);
			let tolerance = |agree, slash, count: usize| {
				ComparisonRule::PerOutput(
					vec![OutputRule::Tolerance { agree, slash }; count].try_into().unwrap(),
				)
			};
			assert_eq!(record(2).spec.comparison, tolerance(1, 2, 1));
			assert_eq!(record(3).spec.comparison, tolerance(4, 64, 2));
			assert!(matches!(record(4).spec.comparison, ComparisonRule::ExactHash { .. }));
			assert_eq!(record(1).owner, ALICE);

			// Run again, it changes nothing: the version is checked.
			let before = record(1);
			MigrateV0ToV1::<Test, Corrections>::on_runtime_upgrade();
			assert_eq!(record(1), before);
		});
}
