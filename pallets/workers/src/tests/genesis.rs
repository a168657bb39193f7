//! Operators bonded and workers registered by the chain spec.

use super::*;
use crate::GenesisConfig;
use veritensor_primitives::traits::WorkerStaking;

fn genesis(bond: Balance, capacity: u32) -> GenesisConfig<Test> {
	GenesisConfig {
		operators: vec![(OPERATOR, bond)],
		workers: vec![(worker(1), OPERATOR, vec![model(1), model(2)], capacity)],
	}
}

fn build_and_check(config: GenesisConfig<Test>, test: impl FnOnce()) {
	ExtBuilder.build_with(config).execute_with(|| {
		test();
		Workers::do_try_state().expect("worker staking's invariants hold");
	});
}

#[test]
fn a_genesis_worker_is_drawn_from_the_first_block_with_its_bond_held() {
	build_and_check(genesis(2_000, 4), || {
		assert_eq!(held(OPERATOR), 2_000);
		assert_eq!(ledger(OPERATOR).active, 2_000);
		assert_eq!(ledger(OPERATOR).workers.to_vec(), vec![worker(1)]);
		let record = record(1);
		assert_eq!(record.operator, OPERATOR);
		let settings = record.settings.at(1);
		assert_eq!(settings.models, models(&[1, 2]));
		assert_eq!(settings.capacity, 4);
		assert!(!settings.chilled);
		for seed in [1, 2] {
			let drawn = Workers::candidates(&model(seed), MAX_SLASH);
			assert_eq!(drawn.len(), 1, "model {seed}");
			assert_eq!(drawn[0].worker, worker(1));
			assert_eq!(drawn[0].stake, 2_000);
		}
		assert!(Workers::candidates(&model(3), MAX_SLASH).is_empty());
	});
}

#[test]
fn a_genesis_worker_is_managed_like_any_other() {
	build_and_check(genesis(2_000, 4), || {
		assert_ok!(Workers::chill(RuntimeOrigin::signed(OPERATOR), worker(1)));
		run_to_block(1 + DELAY);
		assert!(Workers::candidates(&model(1), MAX_SLASH).is_empty());
		assert_ok!(Workers::unregister(RuntimeOrigin::signed(OPERATOR), worker(1)));
		assert!(WorkersMap::<Test>::get(worker(1)).is_none());
	});
}

#[test]
#[should_panic(expected = "is not bonded")]
fn a_genesis_worker_needs_a_bonded_operator() {
	let mut config = genesis(2_000, 4);
	config.operators.clear();
	ExtBuilder.build_with(config);
}

#[test]
#[should_panic(expected = "BondBelowCommitments")]
fn a_genesis_workers_capacity_must_be_covered_by_the_bond() {
	ExtBuilder.build_with(genesis(MIN_BOND, MIN_BOND as u32 / MAX_SLASH as u32 + 1));
}

#[test]
#[should_panic(expected = "ModelNotListed")]
fn a_genesis_worker_serves_only_listed_models() {
	let mut config = genesis(2_000, 4);
	config.workers[0].2.push(model(9));
	ExtBuilder.build_with(config);
}

#[test]
#[should_panic(expected = "bonds less than the minimum")]
fn a_genesis_operator_bonds_at_least_the_minimum() {
	ExtBuilder.build_with(genesis(MIN_BOND - 1, 1));
}
