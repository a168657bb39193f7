//! Who can be drawn for a job and with what weight: the delay on every change an operator makes,
//! the bond a worker's capacity needs, and the candidates and worker views built from them.

use crate::{pallet::*, types::*};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{traits::Candidate, ModelHash, WorkerId};

impl<T: Config> Pallet<T> {
	/// The block from which a change made now takes effect.
	pub(crate) fn effective_from() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number().saturating_add(T::EligibilityDelay::get())
	}

	/// What one worker needs from its operator's active bond: its committed capacity times the
	/// largest slash per assignment, and never less than its open exposure.
	fn bond_needed_by(record: &WorkerRecord<T>) -> BalanceOf<T> {
		let now = frame_system::Pallet::<T>::block_number();
		let capacity: BalanceOf<T> = record.committed_capacity(now).into();
		T::MaxAssignmentSlash::get().saturating_mul(capacity).max(record.exposure)
	}

	/// The active bond the operator's workers need.
	pub fn required_bond(ledger: &OperatorLedger<T>) -> BalanceOf<T> {
		ledger
			.workers
			.iter()
			.filter_map(Workers::<T>::get)
			.fold(Zero::zero(), |sum: BalanceOf<T>, record| {
				sum.saturating_add(Self::bond_needed_by(&record))
			})
	}

	/// [`Self::required_bond`] with `worker`'s record replaced by `replacement` (a record about
	/// to be written).
	pub(crate) fn required_bond_with(
		ledger: &OperatorLedger<T>,
		worker: &WorkerId,
		replacement: Option<&WorkerRecord<T>>,
	) -> BalanceOf<T> {
		ledger.workers.iter().fold(Zero::zero(), |sum: BalanceOf<T>, registered| {
			let needed = if registered == worker {
				replacement.map(Self::bond_needed_by)
			} else {
				Workers::<T>::get(registered).map(|record| Self::bond_needed_by(&record))
			};
			sum.saturating_add(needed.unwrap_or_else(Zero::zero))
		})
	}

	/// Whether the worker of `entry` in `model`'s set (whose record is `record`) can take a job
	/// of the model at block `now`, and if so with how many free slots. An evicted worker is
	/// drawn as its settings say until its eviction takes effect.
	fn free_slots_for(
		entry: &SetEntry<BlockNumberFor<T>>,
		record: &WorkerRecord<T>,
		model: &ModelHash,
		now: BlockNumberFor<T>,
	) -> Option<u32> {
		let settings = record.settings.at(now);
		if !entry.drawn_at(now) || !settings.serves(model) {
			return None;
		}
		settings.capacity.checked_sub(record.open_assignments).filter(|free| *free > 0)
	}

	/// The operator's stake the draw weighs at block `now`, if it reaches the minimum.
	fn eligible_stake(ledger: &OperatorLedger<T>, now: BlockNumberFor<T>) -> Option<BalanceOf<T>> {
		let stake = *ledger.stake.at(now);
		(stake >= T::MinOperatorBond::get() && ledger.active >= T::MinOperatorBond::get())
			.then_some(stake)
	}

	/// The workers eligible now for a job of `model`.
	pub fn eligible_workers(
		model: &ModelHash,
	) -> BoundedVec<Candidate<T::AccountId, BalanceOf<T>>, SetCapacity<T>> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut candidates = BoundedVec::new();
		for entry in ModelWorkers::<T>::get(model) {
			let Some(record) = Workers::<T>::get(&entry.worker) else { continue };
			let Some(free_slots) = Self::free_slots_for(&entry, &record, model, now) else {
				continue;
			};
			let Some(stake) = OperatorLedger::<T>::get(&record.operator)
				.ok()
				.and_then(|ledger| Self::eligible_stake(&ledger, now))
			else {
				continue;
			};
			// The set and the result share one bound, so this push cannot fail.
			let _ = candidates.try_push(Candidate {
				worker: entry.worker,
				operator: record.operator,
				stake,
				free_slots,
			});
		}
		candidates
	}

	/// A worker's record as users see it.
	pub fn worker_info(
		worker: &WorkerId,
	) -> Option<WorkerInfo<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
		let record = Workers::<T>::get(worker)?;
		let now = frame_system::Pallet::<T>::block_number();
		let settings = record.settings.at(now);
		let stake_ok = OperatorLedger::<T>::get(&record.operator)
			.ok()
			.and_then(|ledger| Self::eligible_stake(&ledger, now))
			.is_some();
		// Drawn for one of its models at least: in that model's set with a seat (or an eviction)
		// the draw sees now.
		let drawn_somewhere = settings.models.iter().any(|model| {
			ModelWorkers::<T>::get(model)
				.iter()
				.any(|entry| entry.worker == *worker && entry.drawn_at(now))
		});
		let eligible = stake_ok
			&& !settings.chilled
			&& settings.capacity > record.open_assignments
			&& drawn_somewhere;
		Some(WorkerInfo {
			worker: worker.clone(),
			operator: record.operator.clone(),
			eligible,
			models: settings.models.to_vec(),
			capacity: settings.capacity,
			change_at: record
				.settings
				.scheduled
				.as_ref()
				.map(|(from, _)| *from)
				.filter(|from| *from > now),
			open_assignments: record.open_assignments,
			stats: record.stats,
		})
	}
}
