//! The registry's invariants, checked by `try_state` and after every unit test.

use crate::{
	Artifacts, BalanceOf, Config, Executables, Models, Pallet, StatusKind, StoredBytes, Vectors,
};
use alloc::collections::btree_map::BTreeMap;
use frame_support::ensure;
use sp_runtime::{
	traits::{Saturating, Zero},
	TryRuntimeError,
};

impl<T: Config> Pallet<T> {
	/// Checks the registry's invariants: every record is stored under its artifact hash, a
	/// proposed model has no open job, a delisted one keeps its deposit only while jobs are
	/// open, every comparison rule suits its model's outputs, and every owner's held deposits
	/// equal the deposits its records state.
	pub fn do_try_state() -> Result<(), TryRuntimeError> {
		let mut recorded: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (hash, record) in Models::<T>::iter() {
			ensure!(hash == record.spec.artifact_hash, "record stored under another hash");
			ensure!(
				record.spec.comparison.check(&record.spec.schema.outputs).is_ok(),
				"a comparison rule does not suit its model's outputs"
			);
			let total = recorded.entry(record.owner.clone()).or_insert_with(Zero::zero);
			*total = total.saturating_add(record.deposit);

			match record.status.kind() {
				StatusKind::Proposed => {
					ensure!(record.open_jobs == 0, "a proposed model has open jobs")
				}
				StatusKind::Delisted => ensure!(
					record.open_jobs > 0 || record.deposit.is_zero(),
					"a delisted model without open jobs still has a deposit"
				),
				StatusKind::Listed | StatusKind::Deprecated => {}
			}
		}
		Self::check_executables()?;
		for (owner, total) in recorded {
			ensure!(
				Self::deposits_held(&owner) == total,
				"held model deposits differ from recorded deposits"
			);
		}
		Ok(())
	}

	/// Checks what is stored for executable models: an artifact only with a record, under its
	/// hash, with its byte count; vectors and listings only with an artifact; every listed or
	/// deprecated model with an artifact executable and no proposed one; nothing once a
	/// delisted model's deposit is returned.
	fn check_executables() -> Result<(), TryRuntimeError> {
		for (hash, artifact) in Artifacts::<T>::iter() {
			let record = Models::<T>::get(hash).ok_or("an artifact without a model")?;
			ensure!(
				sp_io::hashing::blake2_256(&artifact) == hash.0,
				"an artifact stored under another hash"
			);
			ensure!(
				StoredBytes::<T>::get(hash)
					== Some(Self::stored_bytes(
						&artifact,
						&Vectors::<T>::get(hash).unwrap_or_default()
					)),
				"an artifact's stored bytes are not its own"
			);
			let executable = Executables::<T>::get(hash);
			match record.status.kind() {
				StatusKind::Proposed => {
					ensure!(executable.is_none(), "a proposed model is executable")
				}
				StatusKind::Listed | StatusKind::Deprecated => {
					ensure!(executable.is_some(), "a listed artifact is not executable")
				}
				StatusKind::Delisted => ensure!(
					record.open_jobs > 0,
					"a delisted model without open jobs keeps its artifact"
				),
			}
		}
		for hash in Vectors::<T>::iter_keys().chain(StoredBytes::<T>::iter_keys()) {
			ensure!(Artifacts::<T>::contains_key(hash), "vectors or bytes without an artifact");
		}
		for hash in Executables::<T>::iter_keys() {
			ensure!(Artifacts::<T>::contains_key(hash), "an executable model without an artifact");
		}
		Ok(())
	}
}
