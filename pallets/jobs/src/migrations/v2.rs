//! Storage version 2: results pay for their storage and are pruned from a queue.
//!
//! - A job's price carries the charge for storing its result ([`crate::Price::storage`]) and its
//!   no-show slash ([`crate::Price::no_show_slash`]): jobs open at the upgrade were quoted
//!   without either; they keep a storage charge of zero and get the no-show slash the
//!   parameters give at the upgrade (version 1 slashed a fixed amount at expiry, so nothing
//!   was promised).
//! - A draw's models carry how many of its jobs are for each ([`crate::AssignmentModels`]):
//!   counted from the queued jobs.
//! - Results are pruned from [`crate::PruneQueue`] in settlement order instead of by a cursor
//!   over job ids: every stored result is queued as if settled at the upgrade, without reading
//!   it (a day of results could not all be read in one block), so each is kept up to one
//!   retention period longer than version 1 would have kept it; the cursor is removed.

use crate::{pallet::*, types::*};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::Saturating;
use veritensor_primitives::{JobId, ModelHash};

/// Storage as version 1 wrote it.
pub mod v1 {
	use super::*;

	/// A job's price without the storage charge.
	#[derive(Encode, Decode)]
	pub struct Price<AccountId, Balance> {
		pub per_worker: Balance,
		pub owner: AccountId,
		pub royalty: Balance,
		pub protocol: Balance,
	}

	/// An open job as version 1 stored it.
	#[derive(Encode, Decode)]
	pub struct Job<T: Config> {
		pub submitter: T::AccountId,
		pub model: ModelHash,
		pub input_hash: H256,
		pub k: u32,
		pub price: Price<T::AccountId, BalanceOf<T>>,
		pub escrow: BalanceOf<T>,
		pub submitted_at: BlockNumberFor<T>,
		pub deadline: BlockNumberFor<T>,
		pub state: JobState<T>,
	}

	/// The models of a draw, without their job counts.
	#[frame_support::storage_alias]
	pub type AssignmentModels<T: Config> = StorageMap<
		Pallet<T>,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<ModelHash, <T as Config>::MaxModelsPerBlock>,
		ValueQuery,
	>;

	/// The lowest job id whose result might still wait to be pruned.
	#[frame_support::storage_alias]
	pub type PruneCursor<T: Config> = StorageValue<Pallet<T>, JobId, ValueQuery>;
}

/// Rewrites open jobs, draws' models and the pruning of results as version 2 keeps them; see
/// the module's docs.
pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
	fn on_runtime_upgrade() -> Weight {
		let (mut reads, mut writes) = (0u64, 0u64);

		// `translate` drops what it cannot decode: no open job should be such (its escrow would
		// stay held).
		let open_before = Jobs::<T>::iter_keys().count();
		Jobs::<T>::translate::<v1::Job<T>, _>(|_, old| {
			reads.saturating_inc();
			writes.saturating_inc();
			Some(Job {
				submitter: old.submitter,
				model: old.model,
				input_hash: old.input_hash,
				k: old.k,
				price: Price {
					per_worker: old.price.per_worker,
					owner: old.price.owner,
					royalty: old.price.royalty,
					protocol: old.price.protocol,
					storage: Default::default(),
					no_show_slash: Pallet::<T>::no_show_slash(old.price.per_worker),
				},
				escrow: old.escrow,
				submitted_at: old.submitted_at,
				deadline: old.deadline,
				state: old.state,
			})
		});
		if Jobs::<T>::iter_keys().count() < open_before {
			frame_support::defensive!("open jobs unreadable in the migration to version 2");
		}

		let draws: Vec<BlockNumberFor<T>> = v1::AssignmentModels::<T>::iter_keys().collect();
		for block in draws {
			let models = v1::AssignmentModels::<T>::take(block);
			let mut counts: BTreeMap<ModelHash, u32> = BTreeMap::new();
			for job in AssignmentQueue::<T>::get(block) {
				if let Some(job) = Jobs::<T>::get(job) {
					counts.entry(job.model).or_default().saturating_inc();
				}
				reads.saturating_inc();
			}
			let counted = models
				.into_iter()
				.filter_map(|model| counts.get(&model).map(|count| (model, *count)))
				.collect::<Vec<_>>();
			reads = reads.saturating_add(2);
			writes.saturating_inc();
			if !counted.is_empty() {
				AssignmentModels::<T>::insert(block, BoundedVec::truncate_from(counted));
			}
		}

		let now = frame_system::Pallet::<T>::block_number();
		let results: Vec<JobId> = Results::<T>::iter_keys().collect();
		reads = reads.saturating_add(results.len() as u64);
		for job in results {
			Pallet::<T>::queue_for_pruning(job, now);
			writes = writes.saturating_add(2);
		}
		v1::PruneCursor::<T>::kill();
		writes.saturating_inc();

		T::DbWeight::get().reads_writes(reads, writes)
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		Pallet::<T>::do_try_state()
	}
}

/// The migration from storage version 1 to 2, run once (the version is checked and set).
pub type MigrateV1ToV2<T> = VersionedMigration<
	1,
	2,
	InnerMigrateV1ToV2<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
