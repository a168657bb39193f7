//! The bounded per-model sets of workers ([`ModelWorkers`]): which workers a model's draw looks
//! at, kept in step with every change of a worker's record.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use veritensor_primitives::{ModelHash, WorkerId};

impl<T: Config> Pallet<T> {
	/// Whether `worker` still belongs in the set of `model` at block `now`: it serves the model
	/// now or after its scheduled change, and is not chilled in both.
	fn belongs_in_set(record: &WorkerRecord<T>, model: &ModelHash, now: BlockNumberFor<T>) -> bool {
		[record.settings.at(now), record.settings.latest()]
			.into_iter()
			.any(|settings| !settings.chilled && settings.models.contains(model))
	}

	/// Moves `worker` between per-model sets as its record goes from `before` to `after`
	/// (`None`: not registered). A full set first drops workers that no longer belong in it.
	///
	/// Fails with `ModelFull` if a set has no room even then.
	pub(crate) fn sync_model_sets(
		worker: &WorkerId,
		before: Option<&WorkerRecord<T>>,
		after: Option<&WorkerRecord<T>>,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let wanted: Vec<ModelHash> =
			after.map(|record| record.listed_under().copied().collect()).unwrap_or_default();
		if let Some(before) = before {
			for model in before.listed_under().filter(|model| !wanted.contains(model)) {
				ModelWorkers::<T>::mutate(model, |set| set.retain(|member| member != worker));
			}
		}
		for model in &wanted {
			ModelWorkers::<T>::try_mutate(model, |set| -> DispatchResult {
				if set.contains(worker) {
					return Ok(());
				}
				if set.is_full() {
					set.retain(|member| {
						Workers::<T>::get(member)
							.is_some_and(|record| Self::belongs_in_set(&record, model, now))
					});
				}
				set.try_push(worker.clone()).map_err(|_| Error::<T>::ModelFull.into())
			})?;
		}
		Ok(())
	}
}
