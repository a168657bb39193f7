//! The pallet's cross-storage invariants, checked by `try_state` and after every unit test.

use crate::{asset, pallet::*, types::BalanceOf};
use frame_support::pallet_prelude::*;
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants:
	/// - each operator's bond hold equals its active bond plus its unbonding chunks;
	/// - each operator's active bond covers its workers' capacities and open exposure, unless
	///   a slash broke it and every worker is chilled;
	/// - every worker key maps to a worker whose operator lists it, and every listed worker
	///   exists; open assignments and exposure agree;
	/// - every member of a model's set is a registered worker.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let now = frame_system::Pallet::<T>::block_number();
		let max_slash = T::MaxAssignmentSlash::get();
		for (operator, ledger) in Operators::<T>::iter() {
			let held = asset::bonded::<T>(&operator);
			ensure!(held == ledger.slashable(), "bond hold differs from the recorded bond");
			ensure!(
				ledger.unbonding.iter().all(|chunk| !chunk.value.is_zero()),
				"an unbonding chunk is empty"
			);
			let mut all_chilled = true;
			for worker in &ledger.workers {
				let record =
					Workers::<T>::get(worker).ok_or("an operator lists a missing worker")?;
				ensure!(record.operator == operator, "a worker lists another operator");
				all_chilled &= record.settings.always(now, |settings| settings.chilled);
			}
			let covered = ledger.active >= Self::required_bond(&ledger);
			ensure!(
				covered || (all_chilled && !ledger.slashed.is_zero()),
				"an operator's bond does not cover its workers"
			);
		}
		for (worker, record) in Workers::<T>::iter() {
			let ledger = Operators::<T>::get(&record.operator).ok_or("a worker without ledger")?;
			ensure!(ledger.workers.contains(&worker), "a worker missing from its operator's list");
			let open: BalanceOf<T> = record.open_assignments.into();
			ensure!(record.exposure <= max_slash.saturating_mul(open), "exposure above its bound");
			ensure!(
				record.open_assignments > 0 || record.exposure.is_zero(),
				"exposure without assignments"
			);
			for model in record.settings.at(now).models.iter() {
				let serving = record.settings.at(now);
				if !serving.chilled {
					ensure!(
						ModelWorkers::<T>::get(model).contains(&worker),
						"a serving worker missing from its model's set"
					);
				}
			}
		}
		for (_, set) in ModelWorkers::<T>::iter() {
			for worker in set {
				ensure!(
					Workers::<T>::contains_key(&worker),
					"a model's set names a missing worker"
				);
			}
		}
		Ok(())
	}
}
