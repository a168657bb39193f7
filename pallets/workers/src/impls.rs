//! Helpers of the calls, the [`WorkerStaking`] interface the job market uses, and the invariants.

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{self, Balanced, MutateHold},
		tokens::Precision,
		Imbalance, OnUnbalanced,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError, RuntimeAppPublic,
};
use veritensor_primitives::{
	possession_payload,
	traits::{Candidate, ModelRegistry, Outcome, SlashAmount, SlashReason, WorkerStaking},
	ModelHash, WorkerId, WorkerSignature,
};

impl<T: Config> Pallet<T> {
	/// The block from which a change made now takes effect.
	pub(crate) fn effective_from() -> BlockNumberFor<T> {
		frame_system::Pallet::<T>::block_number().saturating_add(T::EligibilityDelay::get())
	}

	pub(crate) fn hold_bond(operator: &T::AccountId, value: BalanceOf<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::OperatorBond.into(), operator, value)
			.map_err(|_| Error::<T>::InsufficientBalance.into())
	}

	/// Releases up to `amount` of `operator`'s bond hold; returns what was released.
	pub(crate) fn release_bond(operator: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		T::Currency::release(
			&HoldReason::OperatorBond.into(),
			operator,
			amount,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| {
			defensive!("recorded bonds are always held");
			Zero::zero()
		})
	}

	/// Schedules the draw to weigh the ledger's new active bond after the eligibility delay.
	pub(crate) fn schedule_stake(ledger: &mut OperatorLedger<T>) {
		ledger.stake.promote(frame_system::Pallet::<T>::block_number());
		ledger.stake.schedule(Self::effective_from(), ledger.active);
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
			let ledger = Operators::<T>::get(operator).ok_or_else(|| {
				defensive!("a registered worker's operator has a ledger");
				Error::<T>::NotBonded
			})?;
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

	/// Whether `worker` still belongs in the set of `model` at block `now`: it serves the model
	/// now or after its scheduled change, and is not chilled in both.
	fn belongs_in_set(record: &WorkerRecord<T>, model: &ModelHash, now: BlockNumberFor<T>) -> bool {
		[record.settings.at(now), record.settings.latest()]
			.into_iter()
			.any(|settings| !settings.chilled && settings.models.contains(model))
	}

	/// Moves `worker` between per-model sets as its record goes from `before` to `after`
	/// (`None`: not registered). A full set first drops workers that no longer belong in it.
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

	/// Whether `record`'s worker can take a job of `model` at block `now`, and if so with how
	/// many free slots.
	fn free_slots_for(
		record: &WorkerRecord<T>,
		model: &ModelHash,
		now: BlockNumberFor<T>,
	) -> Option<u32> {
		let settings = record.settings.at(now);
		if !settings.serves(model) {
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
	) -> BoundedVec<Candidate<T::AccountId, BalanceOf<T>>, T::MaxWorkersPerModel> {
		let now = frame_system::Pallet::<T>::block_number();
		let mut candidates = BoundedVec::new();
		for worker in ModelWorkers::<T>::get(model) {
			let Some(record) = Workers::<T>::get(&worker) else { continue };
			let Some(free_slots) = Self::free_slots_for(&record, model, now) else { continue };
			let Some(stake) =
				Operators::<T>::get(&record.operator).and_then(|l| Self::eligible_stake(&l, now))
			else {
				continue;
			};
			// The set and the result share one bound, so this push cannot fail.
			let _ = candidates.try_push(Candidate {
				worker,
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
		let stake_ok = Operators::<T>::get(&record.operator)
			.and_then(|ledger| Self::eligible_stake(&ledger, now))
			.is_some();
		let eligible = stake_ok
			&& !settings.chilled
			&& settings.capacity > record.open_assignments
			&& !settings.models.is_empty();
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

	/// Slashes the operator behind `worker`; see [`WorkerStaking::slash`].
	pub(crate) fn do_slash(
		worker: &WorkerId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
		reporter: Option<T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let mut record = Workers::<T>::get(worker).ok_or(Error::<T>::UnknownWorker)?;
		let operator = record.operator.clone();
		let mut ledger = Operators::<T>::get(&operator).ok_or_else(|| {
			defensive!("a registered worker's operator has a ledger");
			Error::<T>::NotBonded
		})?;

		let slashable = ledger.slashable();
		let wanted = match amount {
			SlashAmount::Fixed(value) => value.min(slashable),
			SlashAmount::Fraction(part) => part * slashable,
		};
		let from_active = wanted.min(ledger.active);
		ledger.active = ledger.active.saturating_sub(from_active);
		ledger.take_from_unbonding(wanted.saturating_sub(from_active));
		ledger.stake.apply_now(|stake| *stake = (*stake).min(ledger.active));

		let (credit, missing) = <T::Currency as fungible::BalancedHold<_>>::slash(
			&HoldReason::OperatorBond.into(),
			&operator,
			wanted,
		);
		if !missing.is_zero() {
			defensive!("recorded bonds are always held");
		}
		let slashed = credit.peek();
		ledger.slashed = ledger.slashed.saturating_add(slashed);
		let reporter_bounty = Self::pay_slash(credit, reporter);

		record.stats.slashed = record.stats.slashed.saturating_add(1);
		record.stats.slashed_amount = record.stats.slashed_amount.saturating_add(slashed);
		Workers::<T>::insert(worker, record);

		let chill_all = ledger.active < T::MinOperatorBond::get()
			|| ledger.active < Self::required_bond(&ledger);
		Operators::<T>::insert(&operator, &ledger);
		Self::deposit_event(Event::Slashed {
			operator,
			worker: worker.clone(),
			amount: slashed,
			reason,
			reporter_bounty,
		});
		if chill_all {
			Self::chill_now(&ledger);
		}
		Ok(slashed)
	}

	/// Pays the reporter's bounty out of `credit` and the rest to `OnSlash`; returns the bounty.
	fn pay_slash(credit: CreditOf<T>, reporter: Option<T::AccountId>) -> BalanceOf<T> {
		let Some(reporter) = reporter else {
			T::OnSlash::on_unbalanced(credit);
			return Zero::zero();
		};
		let bounty = T::ReporterBounty::get() * credit.peek();
		let (bounty_credit, rest) = credit.split(bounty);
		match <T::Currency as Balanced<_>>::resolve(&reporter, bounty_credit) {
			Ok(()) => {
				T::OnSlash::on_unbalanced(rest);
				bounty
			}
			// A reporter that cannot receive it (a new account below the existential deposit)
			// forfeits the bounty to the treasury.
			Err(unpaid) => {
				T::OnSlash::on_unbalanced(rest.merge(unpaid));
				Zero::zero()
			}
		}
	}

	/// Chills all of an operator's workers at once, in effect now and after any scheduled change.
	fn chill_now(ledger: &OperatorLedger<T>) {
		let now = frame_system::Pallet::<T>::block_number();
		for worker in &ledger.workers {
			Workers::<T>::mutate(worker, |record| {
				let Some(record) = record else { return };
				if record.settings.always(now, |settings| settings.chilled) {
					return;
				}
				record.settings.apply_now(|settings| settings.chilled = true);
				Self::deposit_event(Event::Chilled { worker: worker.clone(), from: now });
			});
		}
	}

	/// Checks the pallet's invariants:
	/// - each operator's bond hold equals its active bond plus its unbonding chunks;
	/// - each operator's active bond covers its workers' capacities and open exposure, unless
	///   a slash broke it and every worker is chilled;
	/// - every worker key maps to a worker whose operator lists it, and every listed worker
	///   exists; open assignments and exposure agree;
	/// - every member of a model's set is a registered worker.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		let now = frame_system::Pallet::<T>::block_number();
		let max_slash = T::MaxAssignmentSlash::get();
		for (operator, ledger) in Operators::<T>::iter() {
			let held = T::Currency::balance_on_hold(&HoldReason::OperatorBond.into(), &operator);
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

impl<T: Config> WorkerStaking<T::AccountId, BalanceOf<T>> for Pallet<T> {
	type MaxCandidates = T::MaxWorkersPerModel;

	fn max_exposure() -> BalanceOf<T> {
		T::MaxAssignmentSlash::get()
	}

	fn candidates(
		model: &ModelHash,
		exposure: BalanceOf<T>,
	) -> BoundedVec<Candidate<T::AccountId, BalanceOf<T>>, Self::MaxCandidates> {
		if exposure > T::MaxAssignmentSlash::get() {
			return BoundedVec::new();
		}
		Self::eligible_workers(model)
	}

	fn worker_account(worker: &WorkerId) -> Option<T::AccountId> {
		use sp_runtime::traits::Convert;
		Workers::<T>::contains_key(worker).then(|| T::KeyAccount::convert(worker.clone()))
	}

	fn note_assigned(worker: &WorkerId, exposure: BalanceOf<T>) -> DispatchResult {
		ensure!(exposure <= T::MaxAssignmentSlash::get(), Error::<T>::ExposureTooHigh);
		let now = frame_system::Pallet::<T>::block_number();
		Workers::<T>::try_mutate(worker, |record| {
			let record = record.as_mut().ok_or(Error::<T>::UnknownWorker)?;
			let settings = record.settings.at(now);
			ensure!(
				!settings.chilled && record.open_assignments < settings.capacity,
				Error::<T>::NotEligible
			);
			record.open_assignments =
				record.open_assignments.checked_add(1).ok_or(Error::<T>::Overflow)?;
			record.exposure = record.exposure.saturating_add(exposure);
			Ok(())
		})
	}

	fn note_released(worker: &WorkerId, exposure: BalanceOf<T>, outcome: Outcome) {
		Workers::<T>::mutate(worker, |record| {
			let Some(record) = record else {
				defensive!("a worker with an assignment cannot unregister");
				return;
			};
			if record.open_assignments == 0 {
				defensive!("released an assignment the worker did not hold");
				return;
			}
			record.open_assignments -= 1;
			record.exposure = if record.open_assignments == 0 {
				Zero::zero()
			} else {
				record.exposure.saturating_sub(exposure)
			};
			let stats = &mut record.stats;
			match outcome {
				Outcome::Completed => stats.completed = stats.completed.saturating_add(1),
				Outcome::Failed => stats.failed = stats.failed.saturating_add(1),
				Outcome::Missed => stats.missed = stats.missed.saturating_add(1),
				Outcome::Voided => {}
			}
		});
	}

	fn slash(
		worker: &WorkerId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
		reporter: Option<T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		Self::do_slash(worker, amount, reason, reporter)
	}
}
