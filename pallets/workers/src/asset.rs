//! Every movement of an operator's money: the bond hold, slashes out of it and where slashed
//! funds go. No other code of the pallet calls the currency, so what is held can only change
//! together with the ledger that records it (`ledger.rs`).

use crate::{pallet::*, types::*};
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Balanced, BalancedHold, InspectHold, MutateHold},
		tokens::Precision,
		Imbalance, OnUnbalanced,
	},
};
use sp_runtime::traits::Zero;

/// What `operator` has held as its bond, active and unbonding.
pub(crate) fn bonded<T: Config>(operator: &T::AccountId) -> BalanceOf<T> {
	T::Currency::balance_on_hold(&HoldReason::OperatorBond.into(), operator)
}

/// Holds `amount` more of `operator`'s free balance as its bond.
///
/// Fails with `InsufficientBalance` if the operator cannot cover it.
pub(crate) fn hold_bond<T: Config>(
	operator: &T::AccountId,
	amount: BalanceOf<T>,
) -> DispatchResult {
	T::Currency::hold(&HoldReason::OperatorBond.into(), operator, amount)
		.map_err(|_| Error::<T>::InsufficientBalance.into())
}

/// Releases `amount` of `operator`'s bond hold to its free balance.
pub(crate) fn release_bond<T: Config>(operator: &T::AccountId, amount: BalanceOf<T>) {
	let released = T::Currency::release(
		&HoldReason::OperatorBond.into(),
		operator,
		amount,
		Precision::BestEffort,
	)
	.unwrap_or_else(|_| Zero::zero());
	if released != amount {
		defensive!("a bond hold releases what it holds");
	}
}

/// Takes up to `amount` out of `operator`'s bond hold, as a credit for [`pay_slash`].
pub(crate) fn slash_bonded<T: Config>(
	operator: &T::AccountId,
	amount: BalanceOf<T>,
) -> CreditOf<T> {
	let (credit, missing) =
		<T::Currency as BalancedHold<_>>::slash(&HoldReason::OperatorBond.into(), operator, amount);
	if !missing.is_zero() {
		defensive!("recorded bonds are always held");
	}
	credit
}

/// Pays the reporter's bounty ([`Config::ReporterBounty`]) out of slashed funds and the rest to
/// [`Config::OnSlash`]; returns the bounty paid.
pub(crate) fn pay_slash<T: Config>(
	credit: CreditOf<T>,
	reporter: Option<T::AccountId>,
) -> BalanceOf<T> {
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
