//! The upgrade to storage version 1: sets of worker keys become entries, and seats beyond an
//! operator's cap are given up the way an eviction gives them up.

use super::*;
use crate::{migrations::v1, Delayed, Event, ModelWorkers, ServeSettings};
use frame_support::{
	traits::{GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
	BoundedVec,
};
use veritensor_primitives::traits::WorkerStaking;

#[test]
fn sets_of_keys_become_entries_and_seats_over_the_cap_are_given_up() {
	ExtBuilder.build_and_execute(|| {
		StorageVersion::new(0).put::<Workers>();
		bond(OPERATOR, 100_000);
		// Six workers of one operator serving model 1, as version 0 allowed.
		for seed in 1..=6u8 {
			register(OPERATOR, seed, &[seed % 3 + 1], 1);
			WorkersMap::<Test>::mutate(worker(seed), |record| {
				record.as_mut().unwrap().settings = Delayed::new(ServeSettings {
					models: models(&[1]),
					capacity: 1,
					chilled: false,
				});
			});
		}
		for seed in 1..=3 {
			ModelWorkers::<Test>::remove(model(seed));
		}
		let keys: Vec<_> = (1..=6).map(worker).collect();
		v1::v0::ModelWorkers::<Test>::insert(model(1), BoundedVec::truncate_from(keys));

		run_to_block(1 + DELAY);
		let now = System::block_number();
		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(Workers::on_chain_storage_version(), 1);
		let set = ModelWorkers::<Test>::get(model(1));
		let marks: Vec<_> = set.iter().map(|entry| entry.evicted_from).collect();
		let gone = Some(now + DELAY);
		assert_eq!(marks, vec![None, None, None, None, gone, gone]);
		for seed in [5, 6] {
			System::assert_has_event(
				Event::Evicted {
					worker: worker(seed),
					model: model(1),
					by: None,
					from: now + DELAY,
				}
				.into(),
			);
		}
		// Drawn until the delay has passed, as after any eviction.
		assert_eq!(Workers::candidates(&model(1), MAX_SLASH).len(), 6);
		run_to_block(now + DELAY);
		assert_eq!(Workers::candidates(&model(1), MAX_SLASH).len(), 4);

		// Once is enough: the version is set.
		v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
		assert_eq!(ModelWorkers::<Test>::get(model(1)).len(), 6);
	});
}
