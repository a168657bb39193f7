//! The pallet's money: every call it makes into `T::Currency`. Submitters' escrow is held under
//! [`HoldReason::JobEscrow`]; settled costs move, still held, into the pot (the pallet's
//! account), which pays earnings out when they are claimed.

use crate::{pallet::*, types::BalanceOf};
use frame_support::{
	pallet_prelude::*,
	traits::{
		fungible::{Inspect, Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
	},
};
use sp_runtime::{
	traits::{AccountIdConversion, Zero},
	DispatchError,
};

impl<T: Config> Pallet<T> {
	/// The pallet's account, which keeps earnings until they are claimed.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}
}

/// Endows the pot with the existential deposit, unless it has funds already, so that earnings
/// of any size can accrue to it.
pub(crate) fn endow_pot<T: Config>() {
	let pot = Pallet::<T>::pot();
	if T::Currency::balance(&pot).is_zero() {
		T::Currency::set_balance(&pot, T::Currency::minimum_balance());
	}
}

/// Holds `amount` of `who`'s free balance as escrow.
pub(crate) fn hold_escrow<T: Config>(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
	T::Currency::hold(&HoldReason::JobEscrow.into(), who, amount)
}

/// Releases exactly `amount` of `who`'s escrow, or nothing; returns the amount released.
pub(crate) fn release_escrow<T: Config>(
	who: &T::AccountId,
	amount: BalanceOf<T>,
) -> Result<BalanceOf<T>, DispatchError> {
	T::Currency::release(&HoldReason::JobEscrow.into(), who, amount, Precision::Exact)
}

/// Releases as much as is held of `amount` of `who`'s escrow; returns the amount released.
pub(crate) fn release_escrow_up_to<T: Config>(
	who: &T::AccountId,
	amount: BalanceOf<T>,
) -> Result<BalanceOf<T>, DispatchError> {
	T::Currency::release(&HoldReason::JobEscrow.into(), who, amount, Precision::BestEffort)
}

/// Moves exactly `cost` of `submitter`'s escrow into the pot's free balance.
pub(crate) fn collect_cost<T: Config>(
	submitter: &T::AccountId,
	cost: BalanceOf<T>,
) -> DispatchResult {
	T::Currency::transfer_on_hold(
		&HoldReason::JobEscrow.into(),
		submitter,
		&Pallet::<T>::pot(),
		cost,
		Precision::Exact,
		Restriction::Free,
		Fortitude::Polite,
	)
	.map(|_| ())
}

/// Pays `amount` from the pot to `beneficiary`, keeping the pot alive.
pub(crate) fn pay_out<T: Config>(
	beneficiary: &T::AccountId,
	amount: BalanceOf<T>,
) -> DispatchResult {
	T::Currency::transfer(&Pallet::<T>::pot(), beneficiary, amount, Preservation::Preserve)
		.map(|_| ())
}

/// The escrow held from `who`.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn escrow_held<T: Config>(who: &T::AccountId) -> BalanceOf<T> {
	use frame_support::traits::fungible::InspectHold;
	T::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), who)
}

/// The pot's whole balance.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn pot_balance<T: Config>() -> BalanceOf<T> {
	T::Currency::balance(&Pallet::<T>::pot())
}
