//! The session manager, bond holds and the pallet's invariants.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{fungible::MutateHold, tokens::Precision},
};

impl<T: Config> Pallet<T> {
	/// Holds `amount` more of `who`'s funds as its bond.
	pub(crate) fn hold_bond(who: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::hold(&HoldReason::ValidatorBond.into(), who, amount)
	}

	/// Releases all of `who`'s bond; returns what was released.
	pub(crate) fn release_bond(who: &T::AccountId) -> Result<BalanceOf<T>, DispatchError> {
		T::Currency::release_all(&HoldReason::ValidatorBond.into(), who, Precision::Exact)
	}

	/// The session a change made now reaches the authority set in.
	pub(crate) fn session_of_next_plan() -> SessionIndex {
		CurrentSession::<T>::get().saturating_add(SESSIONS_UNTIL_ACTIVE)
	}

	/// Writes a changed set, to be planned at the next session boundary.
	pub(crate) fn put_set(set: ValidatorList<T>) {
		Validators::<T>::put(set);
		SetChanged::<T>::put(true);
	}

	/// Takes `who` out of the set and schedules its bond's release; returns the session it stops
	/// authoring in and the one its bond is released in.
	pub(crate) fn take_out(
		who: &T::AccountId,
	) -> Result<(SessionIndex, SessionIndex), DispatchError> {
		let mut set = Validators::<T>::get();
		let position = set.iter().position(|v| v == who).ok_or(Error::<T>::NotValidator)?;
		// Counted over the whole set (no early exit), so that the call's weight is its worst
		// case: a validator whose keys were purged is never planned, and must not count as the
		// one that stays.
		let others_with_keys =
			set.iter().filter(|v| *v != who && T::SessionKeys::has_keys(v)).count();
		ensure!(others_with_keys > 0, Error::<T>::LastValidator);
		set.remove(position);
		let bond_release = CurrentSession::<T>::get().saturating_add(T::BondingDuration::get());
		Bonds::<T>::mutate(who, |bond| match bond {
			Some(bond) => bond.release_at = Some(bond_release),
			None => {
				defensive!("every validator is bonded");
			}
		});
		Self::put_set(set);
		Ok((Self::session_of_next_plan(), bond_release))
	}

	/// The planned validators that have session keys: those `pallet-session` can queue.
	fn with_keys() -> Vec<T::AccountId> {
		Validators::<T>::get().into_iter().filter(T::SessionKeys::has_keys).collect()
	}

	/// The pallet's invariants: a stored session length; a non-empty set of distinct validators
	/// within the bound, each bonded (at least the minimum unless slashed, no release
	/// scheduled); every bond held in full; slash records and offenders still authoring all
	/// bonded, offenders out of the planned set.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::InspectHold;
		ensure!(SessionLength::<T>::exists(), "the session length is not stored");
		let set = Validators::<T>::get();
		ensure!(!set.is_empty(), "the validator set is empty");
		for (index, who) in set.iter().enumerate() {
			ensure!(!set[..index].contains(who), "a validator is listed twice");
			let bond = Bonds::<T>::get(who).ok_or("a validator has no bond")?;
			ensure!(bond.release_at.is_none(), "a validator's bond is being released");
			// A slashed validator stays only as the last one with keys, below the minimum.
			ensure!(
				bond.amount >= T::MinimumBond::get() || SlashedFraction::<T>::contains_key(who),
				"a validator's bond is below the minimum"
			);
		}
		for (who, _) in SlashedFraction::<T>::iter() {
			ensure!(Bonds::<T>::contains_key(&who), "a slash record outlived its bond");
		}
		for (who, inactive_from) in Offenders::<T>::get() {
			ensure!(!set.contains(&who), "an offender is still planned");
			ensure!(
				inactive_from > CurrentSession::<T>::get(),
				"an offender that no longer authors is still disabled"
			);
			ensure!(Bonds::<T>::contains_key(&who), "an offender has no bond");
		}
		for (who, bond) in Bonds::<T>::iter() {
			ensure!(
				T::Currency::balance_on_hold(&HoldReason::ValidatorBond.into(), &who)
					== bond.amount,
				"a bond is not held in full"
			);
		}
		Ok(())
	}
}

impl<T: Config> pallet_session::SessionManager<T::AccountId> for Pallet<T> {
	fn new_session(new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		if !SetChanged::<T>::take() {
			return None;
		}
		let planned = Self::with_keys();
		if planned.is_empty() {
			// Validators need keys to be added, cannot leave as the last one and cannot purge
			// their keys; only root removing every planned validator's keys gets here, and
			// keeping the current set beats none.
			log::warn!(
				target: LOG_TARGET,
				"no planned validator has session keys; session {new_index} keeps the current set"
			);
			// Plan again at the next boundary, when keys may be back.
			SetChanged::<T>::put(true);
			return None;
		}
		Self::deposit_event(Event::SessionPlanned {
			session: new_index,
			validators: planned.len() as u32,
		});
		Some(planned)
	}

	fn new_session_genesis(_new_index: SessionIndex) -> Option<Vec<T::AccountId>> {
		let set = Validators::<T>::get().into_inner();
		(!set.is_empty()).then_some(set)
	}

	fn start_session(start_index: SessionIndex) {
		CurrentSession::<T>::put(start_index);
		Self::disable_offenders(start_index);
	}

	fn end_session(_end_index: SessionIndex) {}
}
