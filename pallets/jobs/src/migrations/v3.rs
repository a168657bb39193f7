//! Storage version 3: audited jobs and referee quorums.
//!
//! The audit pool's account, which audited jobs' premiums feed, is endowed with the existential
//! deposit as genesis endows it, so that a premium of any size can land in it. Every storage
//! item version 3 adds starts empty; the job states and refund reasons it adds are new
//! variants, so version 2's values read unchanged.

use crate::pallet::*;
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::Get, traits::UncheckedOnRuntimeUpgrade,
	weights::Weight,
};

/// Endows the audit pool; see the module's docs.
pub struct InnerMigrateV2ToV3<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV2ToV3<T> {
	fn on_runtime_upgrade() -> Weight {
		crate::asset::endow_pot::<T>();
		// Two accounts read, at most one written.
		T::DbWeight::get().reads_writes(2, 1)
	}
}

/// The migration from storage version 2 to 3, run once.
pub type MigrateV2ToV3<T> = VersionedMigration<
	2,
	3,
	InnerMigrateV2ToV3<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
