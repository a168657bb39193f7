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
	/// - every member of a set is a registered worker, named once; no set has more than
	///   `MaxWorkersPerModel` seated workers (seats last until a worker no longer serves the
	///   model), nor an operator more than `MaxWorkersPerModelPerOperator` of them; no seat or
	///   eviction reaches the draw later than `EligibilityDelay` blocks from now;
	/// - a worker's answer tallies are kept only for models it lists;
	/// - only bonded operators have a payee, and none names the operator itself.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		for (operator, payee) in Payees::<T>::iter() {
			ensure!(Operators::<T>::contains_key(&operator), "a payee of an unbonded operator");
			ensure!(payee != operator, "a payee naming its operator is stored");
		}
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
		}
		let delay_end = Self::effective_from();
		for (model, set) in ModelWorkers::<T>::iter() {
			let mut seats = 0u32;
			let mut seats_by_operator = alloc::collections::BTreeMap::new();
			for (index, entry) in set.iter().enumerate() {
				ensure!(
					set[..index].iter().all(|earlier| earlier.worker != entry.worker),
					"a model's set names a worker twice"
				);
				let record = Workers::<T>::get(&entry.worker)
					.ok_or("a model's set names a missing worker")?;
				ensure!(
					entry.evicted_from.is_none_or(|from| from <= delay_end)
						&& entry.drawn_from <= delay_end,
					"a seat or an eviction reaches the draw later than the delay"
				);
				if Self::holds_seat(entry, &record, &model, now) {
					seats += 1;
					*seats_by_operator.entry(record.operator).or_insert(0u32) += 1;
				}
			}
			ensure!(seats <= T::MaxWorkersPerModel::get(), "a model's set has too many seated");
			ensure!(
				seats_by_operator
					.values()
					.all(|held| *held <= T::MaxWorkersPerModelPerOperator::get()),
				"an operator holds more seats of a model than its share"
			);
		}
		for (model, worker, tally) in WorkerTallies::<T>::iter() {
			let record = Workers::<T>::get(&worker).ok_or("a tally of a missing worker")?;
			ensure!(
				record.listed_under().any(|listed| *listed == model),
				"a tally of a model the worker does not list"
			);
			ensure!(tally.refused <= tally.answered, "more refusals than answers");
		}
		for (_, tally) in ModelTallies::<T>::iter() {
			ensure!(tally.refused <= tally.answered, "more refusals than answers");
		}
		Ok(())
	}
}
