//! Storage version 1: a model's set records per worker whether it was evicted
//! ([`crate::SetEntry`]), and one operator holds at most
//! [`crate::Config::MaxWorkersPerModelPerOperator`] seats of a model.
//!
//! Version 0 stored the worker keys alone: each becomes the entry of a worker drawn as before
//! (from now on, not evicted). A set filled before the cap existed may give one operator more seats than the cap;
//! its latest-registered seated workers beyond it are evicted as a newcomer with more stake would
//! evict them (`Evicted` with no `by`): drawn for the model until `EligibilityDelay` blocks after
//! the block number the upgrade runs at (the parent's: upgrades run before the new block is
//! initialized), then no longer, until their operators ask for seats again.

use crate::{pallet::*, types::*};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use veritensor_primitives::{ModelHash, WorkerId};

/// Storage as version 0 wrote it.
pub mod v0 {
	use super::*;

	/// A model's set: the worker keys alone.
	#[frame_support::storage_alias]
	pub type ModelWorkers<T: Config> = StorageMap<
		Pallet<T>,
		Blake2_128Concat,
		ModelHash,
		BoundedVec<WorkerId, SetCapacity<T>>,
		ValueQuery,
	>;
}

/// Rewrites every model's set as version 1 stores it; see the module's docs.
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		let now = frame_system::Pallet::<T>::block_number();
		let (mut reads, mut writes) = (0u64, 0u64);
		let models: Vec<ModelHash> = v0::ModelWorkers::<T>::iter_keys().collect();
		reads = reads.saturating_add(models.len() as u64);
		for model in models {
			let keys = v0::ModelWorkers::<T>::get(model);
			reads = reads.saturating_add(1 + keys.len() as u64);
			let mut seats: BTreeMap<T::AccountId, Vec<(usize, BlockNumberFor<T>)>> =
				BTreeMap::new();
			let mut entries: Vec<SetEntry<BlockNumberFor<T>>> = Vec::new();
			for (index, worker) in keys.into_iter().enumerate() {
				// Seats of version 0 were in the draw already.
				let entry = SetEntry { worker, drawn_from: now, evicted_from: None };
				if let Some(record) = Workers::<T>::get(&entry.worker) {
					if Pallet::<T>::holds_seat(&entry, &record, &model, now) {
						seats
							.entry(record.operator.clone())
							.or_default()
							.push((index, record.registered_at));
					}
				}
				entries.push(entry);
			}
			let cap = T::MaxWorkersPerModelPerOperator::get() as usize;
			for (_, mut held) in seats.into_iter().filter(|(_, held)| held.len() > cap) {
				// The earliest registered keep their seats.
				held.sort_by_key(|(index, registered_at)| (*registered_at, *index));
				for (index, _) in held.into_iter().skip(cap) {
					entries[index] = Pallet::<T>::evict(entries[index].clone(), &model, None);
				}
			}
			ModelWorkers::<T>::insert(model, BoundedVec::truncate_from(entries));
			writes = writes.saturating_add(1);
		}
		T::DbWeight::get().reads_writes(reads, writes)
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		Pallet::<T>::do_try_state()
	}
}

/// The migration from storage version 0 to 1, run once (the version is checked and set).
pub type MigrateV0ToV1<T> = VersionedMigration<
	0,
	1,
	InnerMigrateV0ToV1<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
