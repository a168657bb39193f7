//! Slashing an operator for a worker's offence: how much is taken and from where, the worker's
//! record of it, and chilling every worker of an operator whose bond no longer covers them.

use crate::{asset, pallet::*, types::*};
use frame_support::{pallet_prelude::*, traits::Imbalance};
use sp_runtime::{traits::Saturating, DispatchError};
use veritensor_primitives::{
	traits::{SlashAmount, SlashReason},
	WorkerId,
};

impl<T: Config> Pallet<T> {
	/// Slashes the operator behind `worker`; see
	/// [`veritensor_primitives::traits::WorkerStaking::slash`].
	pub(crate) fn do_slash(
		worker: &WorkerId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
		reporter: Option<T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let record = Workers::<T>::get(worker).ok_or(Error::<T>::UnknownWorker)?;
		Self::do_slash_operator(&record.operator, worker, amount, reason, reporter)
	}

	/// Slashes `operator` for an offence of `worker`, whose key may be gone; see
	/// [`veritensor_primitives::traits::WorkerStaking::slash_operator`].
	pub(crate) fn do_slash_operator(
		operator: &T::AccountId,
		worker: &WorkerId,
		amount: SlashAmount<BalanceOf<T>>,
		reason: SlashReason,
		reporter: Option<T::AccountId>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let operator = operator.clone();
		let mut ledger = OperatorLedger::<T>::of_registered(&operator)?;

		let slashable = ledger.slashable();
		let wanted = match amount {
			SlashAmount::Fixed(value) => value.min(slashable),
			SlashAmount::Fraction(part) => part * slashable,
		};
		let credit = ledger.slash(wanted)?;
		let slashed = credit.peek();
		let reporter_bounty = asset::pay_slash::<T>(credit, reporter);

		// The key's record, while it is registered to this operator.
		Workers::<T>::mutate(worker, |record| {
			if let Some(record) = record.as_mut().filter(|record| record.operator == operator) {
				record.stats.slashed = record.stats.slashed.saturating_add(1);
				record.stats.slashed_amount = record.stats.slashed_amount.saturating_add(slashed);
			}
		});

		let chill_all = ledger.active < T::MinOperatorBond::get()
			|| ledger.active < Self::required_bond(&ledger);
		let workers = ledger.workers.clone();
		Self::deposit_event(Event::Slashed {
			operator: operator.clone(),
			worker: worker.clone(),
			amount: slashed,
			reason,
			reporter_bounty,
		});
		if chill_all {
			log!(
				info,
				"operator {:?} no longer covers its workers after a slash: chilled",
				operator
			);
			Self::chill_now(&workers);
		}
		Ok(slashed)
	}

	/// Chills `workers` at once, in effect now and after any scheduled change.
	fn chill_now(workers: &[WorkerId]) {
		let now = frame_system::Pallet::<T>::block_number();
		for worker in workers {
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
}
