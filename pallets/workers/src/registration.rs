//! What a worker offers and how it may change: the proof that a key is the operator's, the checks
//! on served models and capacity, and scheduled changes of a registered worker's settings.

use crate::{pallet::*, types::*};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{traits::Zero, DispatchError, RuntimeAppPublic};
use veritensor_primitives::{possession_payload, traits::ModelRegistry, WorkerId, WorkerSignature};

impl<T: Config> Pallet<T> {
	/// Checks that `proof` is `worker`'s signature over the operator and the genesis hash.
	pub(crate) fn check_possession(
		operator: &T::AccountId,
		worker: &WorkerId,
		proof: &WorkerSignature,
	) -> DispatchResult {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let payload = possession_payload(operator, &genesis);
		ensure!(worker.verify(&payload, proof), Error::<T>::BadPossessionProof);
		Ok(())
	}

	/// Adds `worker` to `operator`'s `ledger`, serving `models` with `capacity` assignments from
	/// block `from` on, and stores both. Its seats reach the draw after the eligibility delay
	/// (see `model_sets.rs`). The operator's bond must cover the new capacity. The caller has
	/// checked that the key is the operator's and not registered yet.
	pub(crate) fn enrol(
		operator: &T::AccountId,
		mut ledger: OperatorLedger<T>,
		worker: &WorkerId,
		models: ServedModels<T>,
		capacity: u32,
		from: BlockNumberFor<T>,
	) -> DispatchResult {
		Self::check_settings(&models, capacity)?;
		ledger.workers.try_push(worker.clone()).map_err(|_| Error::<T>::TooManyWorkers)?;
		let mut settings = Delayed::new(ServeSettings::idle());
		settings.schedule(from, ServeSettings { models, capacity, chilled: false });
		let record = WorkerRecord {
			operator: operator.clone(),
			settings,
			open_assignments: 0,
			exposure: Zero::zero(),
			stats: Default::default(),
			registered_at: frame_system::Pallet::<T>::block_number(),
		};
		ensure!(
			ledger.active >= Self::required_bond_with(&ledger, worker, Some(&record)),
			Error::<T>::BondBelowCommitments
		);
		Self::sync_model_sets(worker, None, Some(&record))?;
		Workers::<T>::insert(worker, record);
		ledger.update()
	}

	/// Checks the models and capacity a worker is to offer.
	pub(crate) fn check_settings(models: &ServedModels<T>, capacity: u32) -> DispatchResult {
		ensure!(!models.is_empty(), Error::<T>::NoModels);
		for (index, model) in models.iter().enumerate() {
			ensure!(!models[..index].contains(model), Error::<T>::DuplicateModel);
			ensure!(T::Models::terms_for_new_job(model).is_some(), Error::<T>::ModelNotListed);
		}
		ensure!(capacity > 0, Error::<T>::ZeroCapacity);
		ensure!(capacity <= T::MaxCapacity::get(), Error::<T>::CapacityTooHigh);
		Ok(())
	}

	/// Schedules a change of `worker`'s settings, made by `operator`, and returns the block it
	/// takes effect from. With `needs_cover`, the operator's bond must cover the result.
	pub(crate) fn change_settings(
		operator: &T::AccountId,
		worker: &WorkerId,
		needs_cover: bool,
		change: impl FnOnce(&mut ServeSettings<T>) -> DispatchResult,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let stored = Workers::<T>::get(worker).ok_or(Error::<T>::UnknownWorker)?;
		ensure!(stored.operator == *operator, Error::<T>::NotOperator);
		let mut record = stored.clone();
		record.settings.promote(frame_system::Pallet::<T>::block_number());
		let mut settings = record.settings.latest().clone();
		change(&mut settings)?;
		let from = Self::effective_from();
		record.settings.schedule(from, settings);

		if needs_cover {
			let ledger = OperatorLedger::<T>::of_registered(operator)?;
			ensure!(ledger.active >= T::MinOperatorBond::get(), Error::<T>::BondBelowMinimum);
			ensure!(
				ledger.active >= Self::required_bond_with(&ledger, worker, Some(&record)),
				Error::<T>::BondBelowCommitments
			);
		}
		Self::sync_model_sets(worker, Some(&stored), Some(&record))?;
		Workers::<T>::insert(worker, record);
		Ok(from)
	}
}
