//! Storage version 4: appeals of a quorum's slashes.
//!
//! A provisional result names every worker it pays, with its operator and payee
//! ([`crate::Provisional::earners`]), as a quorum that slashed a member settles provisionally
//! too: version 3's provisional results, all of one worker, get that worker in the list. Every
//! storage item version 4 adds starts empty.

use crate::{pallet::*, types::*};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;
use veritensor_primitives::WorkerId;

/// Storage as version 3 wrote it.
pub mod v3 {
	use super::*;

	/// A provisional result of one worker, with its one payee.
	#[derive(Encode, Decode)]
	pub struct Provisional<T: Config> {
		pub job: Job<T>,
		pub worker: WorkerId,
		pub operator: T::AccountId,
		pub payee: T::AccountId,
		pub premium: BalanceOf<T>,
		pub until: BlockNumberFor<T>,
		pub challenge: Option<Challenge<T>>,
	}
}

/// Rewrites provisional results as version 4 keeps them; see the module's docs.
pub struct InnerMigrateV3ToV4<T>(core::marker::PhantomData<T>);

impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV3ToV4<T> {
	fn on_runtime_upgrade() -> Weight {
		// At most a dispute window's results: a few blocks' worth.
		let mut rewritten = 0u64;
		Provisionals::<T>::translate::<v3::Provisional<T>, _>(|_, old| {
			rewritten.saturating_inc();
			Some(Provisional {
				job: old.job,
				worker: old.worker.clone(),
				operator: old.operator.clone(),
				earners: BoundedVec::truncate_from(alloc::vec![Earner {
					worker: old.worker,
					operator: old.operator,
					payee: old.payee,
				}]),
				premium: old.premium,
				until: old.until,
				challenge: old.challenge,
			})
		});
		T::DbWeight::get().reads_writes(rewritten, rewritten)
	}

	#[cfg(feature = "try-runtime")]
	fn pre_upgrade() -> Result<alloc::vec::Vec<u8>, sp_runtime::TryRuntimeError> {
		Ok((Provisionals::<T>::iter_keys().count() as u64).encode())
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(state: alloc::vec::Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		let before = u64::decode(&mut &state[..]).map_err(|_| "the count before the upgrade")?;
		ensure!(
			Provisionals::<T>::iter_values().count() as u64 == before,
			"a provisional result was lost"
		);
		Ok(())
	}
}

/// The migration from storage version 3 to 4, run once.
pub type MigrateV3ToV4<T> = VersionedMigration<
	3,
	4,
	InnerMigrateV3ToV4<T>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
