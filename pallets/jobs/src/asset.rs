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

	/// The audit pool's account: fed by audited jobs' premiums and by the bounties of the
	/// slashes referees decide, it pays auditors and referees.
	pub fn audit_pool() -> T::AccountId {
		T::AuditPoolId::get().into_account_truncating()
	}
}

/// Endows the pot and the audit pool with the existential deposit, unless they have funds
/// already, so that earnings and premiums of any size can accrue to them.
pub(crate) fn endow_pot<T: Config>() {
	for account in [Pallet::<T>::pot(), Pallet::<T>::audit_pool()] {
		if T::Currency::balance(&account).is_zero() {
			T::Currency::set_balance(&account, T::Currency::minimum_balance());
		}
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

/// Moves exactly `premium` of `submitter`'s escrow into the audit pool.
pub(crate) fn collect_premium<T: Config>(
	submitter: &T::AccountId,
	premium: BalanceOf<T>,
) -> DispatchResult {
	if premium.is_zero() {
		return Ok(());
	}
	T::Currency::transfer_on_hold(
		&HoldReason::JobEscrow.into(),
		submitter,
		&Pallet::<T>::audit_pool(),
		premium,
		Precision::Exact,
		Restriction::Free,
		Fortitude::Polite,
	)
	.map(|_| ())
}

/// Holds `amount` of `challenger`'s free balance as a challenge's deposit.
pub(crate) fn hold_deposit<T: Config>(
	challenger: &T::AccountId,
	amount: BalanceOf<T>,
) -> DispatchResult {
	T::Currency::hold(&HoldReason::ChallengeDeposit.into(), challenger, amount)
}

/// Releases exactly `amount` of `challenger`'s deposit; returns the amount released.
pub(crate) fn release_deposit<T: Config>(
	challenger: &T::AccountId,
	amount: BalanceOf<T>,
) -> Result<BalanceOf<T>, DispatchError> {
	T::Currency::release(&HoldReason::ChallengeDeposit.into(), challenger, amount, Precision::Exact)
}

/// Moves exactly `amount` of `challenger`'s deposit to `to`'s free balance.
pub(crate) fn collect_deposit<T: Config>(
	challenger: &T::AccountId,
	amount: BalanceOf<T>,
	to: &T::AccountId,
) -> DispatchResult {
	if amount.is_zero() {
		return Ok(());
	}
	// Forced: a deposit a lost challenge owes is taken even if the challenger froze funds
	// meanwhile, so that no freeze can make the referees' decision fail.
	T::Currency::transfer_on_hold(
		&HoldReason::ChallengeDeposit.into(),
		challenger,
		to,
		amount,
		Precision::Exact,
		Restriction::Free,
		Fortitude::Force,
	)
	.map(|_| ())
}

/// The deposit held from `challenger`.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn deposit_held<T: Config>(challenger: &T::AccountId) -> BalanceOf<T> {
	use frame_support::traits::fungible::InspectHold;
	T::Currency::balance_on_hold(&HoldReason::ChallengeDeposit.into(), challenger)
}

/// Moves up to `amount` from the audit pool into the pot, keeping the pool alive; returns what
/// was moved (less than `amount` only when the pool runs short).
pub(crate) fn draw_from_pool<T: Config>(amount: BalanceOf<T>) -> BalanceOf<T> {
	let pool = Pallet::<T>::audit_pool();
	let available =
		T::Currency::reducible_balance(&pool, Preservation::Preserve, Fortitude::Polite);
	let amount = amount.min(available);
	if amount.is_zero() {
		return amount;
	}
	match T::Currency::transfer(&pool, &Pallet::<T>::pot(), amount, Preservation::Preserve) {
		Ok(_) => amount,
		Err(_) => Zero::zero(),
	}
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

/// The audit pool's whole balance.
pub(crate) fn pool_balance<T: Config>() -> BalanceOf<T> {
	T::Currency::balance(&Pallet::<T>::audit_pool())
}

/// The existential deposit.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn minimum_balance<T: Config>() -> BalanceOf<T> {
	T::Currency::minimum_balance()
}

/// The pot's whole balance.
#[cfg(any(test, feature = "try-runtime"))]
pub(crate) fn pot_balance<T: Config>() -> BalanceOf<T> {
	T::Currency::balance(&Pallet::<T>::pot())
}
