//! Worker staking as the job market sees it: the [`WorkerStaking`] implementation (candidates,
//! assignment bookkeeping and slashes).

use crate::{pallet::*, types::*};
use frame_support::{defensive, pallet_prelude::*};
use sp_runtime::{
	traits::{Convert, Saturating, Zero},
	DispatchError,
};
use veritensor_primitives::{
	traits::{Candidate, Outcome, SlashAmount, SlashReason, WorkerStaking},
	ModelHash, WorkerId,
};

impl<T: Config> WorkerStaking<T::AccountId, BalanceOf<T>> for Pallet<T> {
	type MaxCandidates = SetCapacity<T>;

	fn max_exposure() -> BalanceOf<T> {
		T::MaxAssignmentSlash::get()
	}

	fn eligibility_delay() -> u32 {
		sp_runtime::SaturatedConversion::saturated_into(T::EligibilityDelay::get())
	}

	fn slashable_window() -> u32 {
		sp_runtime::SaturatedConversion::saturated_into(T::SlashableWindow::get())
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
		Workers::<T>::contains_key(worker).then(|| T::KeyAccount::convert(worker.clone()))
	}

	fn operator(worker: &WorkerId) -> Option<T::AccountId> {
		Workers::<T>::get(worker).map(|record| record.operator)
	}

	fn payee(worker: &WorkerId) -> Option<T::AccountId> {
		let operator = Workers::<T>::get(worker)?.operator;
		Some(Payees::<T>::get(&operator).unwrap_or(operator))
	}

	fn open_assignments(worker: &WorkerId) -> Option<u32> {
		Workers::<T>::get(worker).map(|record| record.open_assignments)
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
			let Some(open) = record.open_assignments.checked_sub(1) else {
				defensive!("released an assignment the worker did not hold");
				return;
			};
			record.open_assignments = open;
			record.exposure =
				if open == 0 { Zero::zero() } else { record.exposure.saturating_sub(exposure) };
			let stats = &mut record.stats;
			match outcome {
				Outcome::Completed => stats.completed = stats.completed.saturating_add(1),
				Outcome::Failed => stats.failed = stats.failed.saturating_add(1),
				Outcome::Missed => stats.missed = stats.missed.saturating_add(1),
				Outcome::Voided => {}
			}
		});
	}

	fn note_answer(worker: &WorkerId, model: &ModelHash, refused: bool) {
		Self::tally_answer(worker, model, refused)
	}

	fn slash(
		worker: &WorkerId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
		reporter: Option<T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		Self::do_slash(worker, amount, reason, reporter)
	}

	fn slash_operator(
		operator: &T::AccountId,
		worker: &WorkerId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
		reporter: Option<T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		Self::do_slash_operator(operator, worker, amount, reason, reporter)
	}
}
