//! The registry's invariants, checked by `try_state` and after every unit test.

use crate::{BalanceOf, Config, Models, Pallet, StatusKind};
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
		for (owner, total) in recorded {
			ensure!(
				Self::deposits_held(&owner) == total,
				"held model deposits differ from recorded deposits"
			);
		}
		Ok(())
	}
}
