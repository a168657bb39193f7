//! The operator ledger: how an operator's bond is read, changed and written back. It is the only
//! code that writes [`Operators`], and every write moves the bond hold (through `asset.rs`) by
//! exactly what it changes in the record, so the record and the money cannot drift apart.

use crate::{asset, pallet::*, types::*};
use frame_support::{defensive, pallet_prelude::*, traits::Imbalance};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Saturating, Zero},
	DispatchError,
};

impl<T: Config> OperatorLedger<T> {
	/// A new ledger of `operator` with `active` bonded, not stored yet: [`Self::update`] stores it
	/// and holds the bond. The draw weighs the new stake only after the eligibility delay.
	pub(crate) fn open(operator: T::AccountId, active: BalanceOf<T>) -> Self {
		Self::open_from(operator, active, Pallet::<T>::effective_from())
	}

	/// [`Self::open`], the draw weighing the stake from block `from` on (genesis: block 0).
	pub(crate) fn open_from(
		operator: T::AccountId,
		active: BalanceOf<T>,
		from: BlockNumberFor<T>,
	) -> Self {
		let mut stake = Delayed::new(Zero::zero());
		stake.schedule(from, active);
		Self {
			operator: Some(operator),
			active,
			unbonding: Default::default(),
			stake,
			workers: Default::default(),
			slashed: Zero::zero(),
		}
	}

	/// The ledger of `operator`.
	///
	/// Fails with `NotBonded` if the operator has none.
	pub fn get(operator: &T::AccountId) -> Result<Self, Error<T>> {
		let mut ledger = Operators::<T>::get(operator).ok_or(Error::<T>::NotBonded)?;
		ledger.operator = Some(operator.clone());
		Ok(ledger)
	}

	/// The ledger of a registered worker's operator, which exists as long as the worker does.
	pub(crate) fn of_registered(operator: &T::AccountId) -> Result<Self, Error<T>> {
		Self::get(operator).inspect_err(|_| {
			defensive!("a registered worker's operator has a ledger");
		})
	}

	/// Whether `operator` has a ledger.
	pub fn exists(operator: &T::AccountId) -> bool {
		Operators::<T>::contains_key(operator)
	}

	/// Stores the ledger and moves the operator's bond hold by what this write changes in
	/// [`Self::slashable`]: the difference is held from its free balance when the bond grew,
	/// released when it shrank. A write that changes no amount touches no money.
	///
	/// Fails with `InsufficientBalance` if a larger bond cannot be held; nothing is written then.
	pub(crate) fn update(self) -> DispatchResult {
		let operator = self.operator_or_defensive()?;
		Self::move_hold(&operator, self.slashable())?;
		Operators::<T>::insert(&operator, self);
		Ok(())
	}

	/// Moves `operator`'s bond hold by the change from its stored ledger's slashable funds to
	/// `wanted`. Moving by the change, never to the total, keeps an earlier difference between
	/// hold and record from being settled out of the operator's free funds.
	fn move_hold(operator: &T::AccountId, wanted: BalanceOf<T>) -> DispatchResult {
		let recorded = Operators::<T>::get(operator)
			.map(|stored| stored.slashable())
			.unwrap_or_else(Zero::zero);
		if wanted == recorded {
			return Ok(());
		}
		if asset::bonded::<T>(operator) != recorded {
			defensive!("an operator's bond hold differs from its ledger");
		}
		if wanted > recorded {
			asset::hold_bond::<T>(operator, wanted.saturating_sub(recorded))
		} else {
			asset::release_bond::<T>(operator, recorded.saturating_sub(wanted));
			Ok(())
		}
	}

	/// Slashes up to `amount` of the bond (the active part first, then the unbonding chunks, the
	/// latest to unlock first) and stores the ledger. The hold and the record lose the same
	/// amount in one step, which cannot fail; the slashed funds come back as a credit.
	pub(crate) fn slash(&mut self, amount: BalanceOf<T>) -> Result<CreditOf<T>, DispatchError> {
		let operator = self.operator_or_defensive()?;
		let credit = asset::slash_bonded::<T>(&operator, amount.min(self.slashable()));
		self.deduct_slash(credit.peek());
		Operators::<T>::insert(&operator, &*self);
		Ok(credit)
	}

	/// Removes the ledger of an operator with nothing bonded, nothing unbonding and no worker, and
	/// releases what the stored ledger still held.
	pub(crate) fn close(self) -> DispatchResult {
		if !self.is_empty() {
			defensive!("only an empty ledger is closed");
			return Err(Error::<T>::InsufficientBond.into());
		}
		let operator = self.operator_or_defensive()?;
		Self::move_hold(&operator, Zero::zero())?;
		Operators::<T>::remove(&operator);
		Payees::<T>::remove(&operator);
		Ok(())
	}

	/// Whether nothing is bonded, nothing unbonding and no worker registered.
	pub fn is_empty(&self) -> bool {
		self.active.is_zero() && self.unbonding.is_empty() && self.workers.is_empty()
	}

	fn operator_or_defensive(&self) -> Result<T::AccountId, DispatchError> {
		self.operator.clone().ok_or_else(|| {
			defensive!("a ledger is read with `get` or made with `open` before it is written");
			Error::<T>::NotBonded.into()
		})
	}

	/// Funds being unbonded.
	pub fn unbonding_total(&self) -> BalanceOf<T> {
		self.unbonding
			.iter()
			.fold(BalanceOf::<T>::zero(), |sum, chunk| sum.saturating_add(chunk.value))
	}

	/// Takes up to `amount` out of the unbonding chunks, the latest to unlock first, and drops
	/// the chunks it empties.
	pub fn take_from_unbonding(&mut self, amount: BalanceOf<T>) {
		let mut missing = amount;
		for chunk in self.unbonding.iter_mut().rev() {
			let taken = missing.min(chunk.value);
			chunk.value = chunk.value.saturating_sub(taken);
			missing = missing.saturating_sub(taken);
			if missing.is_zero() {
				break;
			}
		}
		self.unbonding.retain(|chunk| !chunk.value.is_zero());
	}

	/// Everything a slash can reach: the active bond and the funds being unbonded.
	pub fn slashable(&self) -> BalanceOf<T> {
		self.active.saturating_add(self.unbonding_total())
	}

	/// Schedules the draw to weigh the new active bond after the eligibility delay.
	pub(crate) fn schedule_stake(&mut self) {
		self.stake.promote(frame_system::Pallet::<T>::block_number());
		self.stake.schedule(Pallet::<T>::effective_from(), self.active);
	}

	/// Takes `amount` out of the bond, the active part first, then the unbonding chunks (the
	/// latest to unlock first); the stake the draw weighs falls with it at once.
	fn deduct_slash(&mut self, amount: BalanceOf<T>) {
		let from_active = amount.min(self.active);
		self.active = self.active.saturating_sub(from_active);
		self.take_from_unbonding(amount.saturating_sub(from_active));
		let active = self.active;
		self.stake.apply_now(|stake| *stake = (*stake).min(active));
		self.slashed = self.slashed.saturating_add(amount);
	}
}
