//! The registry's money: what a deposit costs, and every hold, release and slash of one. This is
//! the only place the pallet calls its currency, so the rest reads as registry logic.

use crate::{BalanceOf, Config, Error, HoldReason, ModelRecord, Pallet, StoredBytes};
use codec::Encode;
use frame_support::{
	defensive,
	traits::{
		fungible::{BalancedHold, MutateHold},
		tokens::Precision,
		Get, Imbalance, OnUnbalanced,
	},
};
use sp_runtime::traits::{Saturating, Zero};

impl<T: Config> Pallet<T> {
	/// The deposit a record needs: base plus a price per encoded byte, of the record and of an
	/// executable model's artifact and vectors.
	pub fn deposit_for(record: &ModelRecord<T>) -> BalanceOf<T> {
		let stored = StoredBytes::<T>::get(record.spec.artifact_hash).unwrap_or(0);
		let bytes: BalanceOf<T> = (record.encoded_size() as u32).saturating_add(stored).into();
		T::BaseDeposit::get().saturating_add(T::ByteDeposit::get().saturating_mul(bytes))
	}

	/// Holds `amount` of `who`'s free funds as a model deposit.
	pub(crate) fn hold_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> Result<(), Error<T>> {
		T::Currency::hold(&HoldReason::ModelDeposit.into(), who, amount)
			.map_err(|_| Error::<T>::InsufficientDeposit)
	}

	/// Releases up to `amount` of `who`'s model deposits; returns what was released.
	pub(crate) fn release_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		if amount.is_zero() {
			return amount;
		}
		T::Currency::release(&HoldReason::ModelDeposit.into(), who, amount, Precision::BestEffort)
			.unwrap_or_else(|_| {
				defensive!("a recorded deposit is always held");
				Zero::zero()
			})
	}

	/// Slashes up to `amount` of `who`'s model deposits to [`Config::OnRejection`]; returns what
	/// was slashed.
	pub(crate) fn slash_deposit(who: &T::AccountId, amount: BalanceOf<T>) -> BalanceOf<T> {
		let (credit, _unslashed) =
			<T::Currency as BalancedHold<_>>::slash(&HoldReason::ModelDeposit.into(), who, amount);
		let slashed = credit.peek();
		T::OnRejection::on_unbalanced(credit);
		slashed
	}

	/// Everything of `who`'s held as model deposits.
	#[cfg(any(feature = "try-runtime", test))]
	pub(crate) fn deposits_held(who: &T::AccountId) -> BalanceOf<T> {
		use frame_support::traits::fungible::InspectHold;
		T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), who)
	}
}
