//! Storage version 1: a settled result keeps the worker key's receipt signature
//! ([`crate::JobResult::signature`]).
//!
//! Results stored before it have no signature and none can be made up for them, so they cannot
//! be read as version 1 results: the runtime API reports them as absent, and the migration to
//! version 2 queues them for pruning with every other result (their `Settled` events of that
//! time keep the outputs in the chain's history). Nothing else is stored differently, so the
//! migration itself only records the new version.

use crate::{Config, Pallet};
use frame_support::{
	migrations::VersionedMigration, traits::UncheckedOnRuntimeUpgrade, weights::Weight,
};

/// Records storage version 1; see the module's docs.
pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
	fn on_runtime_upgrade() -> Weight {
		// Touches no storage, so it weighs nothing of its own: `VersionedMigration` accounts for
		// reading and writing the version.
		Weight::zero()
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
