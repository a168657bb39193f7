//! Offences: slashing an offender's bond, paying its reporters, disabling and removing it.

use crate::*;
use alloc::vec::Vec;
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Balanced, BalancedHold},
		tokens::imbalance::OnUnbalanced,
		Imbalance,
	},
};
use sp_runtime::{
	traits::{Saturating, Zero},
	Perbill,
};
use sp_staking::offence::{OffenceDetails, OnOffenceHandler};

impl<T: Config> Pallet<T> {
	/// Brings `who`'s slash to `fraction` of its bond (the greater of the offence's fraction and
	/// [`Config::EquivocationSlash`]) for an offence in `session`, pays the reporters and takes
	/// the offender out of the set. Nothing is slashed twice: only what `fraction` adds to the
	/// fraction already slashed from the current bond.
	pub(crate) fn punish(
		who: &T::AccountId,
		reporters: &[T::AccountId],
		offence_fraction: Perbill,
		session: SessionIndex,
	) {
		let Some(mut bond) = Bonds::<T>::get(who) else {
			// Bonds outlast the key-ownership record offences are proven against.
			log::warn!(target: LOG_TARGET, "offender {who:?} in session {session} has no bond");
			return;
		};
		let fraction = offence_fraction.max(T::EquivocationSlash::get());
		let already = SlashedFraction::<T>::get(who).unwrap_or_default();
		if fraction > already {
			// What is left is (1 - already) of the bond the slashes started from; taking
			// (fraction - already) / (1 - already) of it brings the total to `fraction`.
			let of_rest = Perbill::from_rational(
				fraction.saturating_sub(already).deconstruct(),
				Perbill::one().saturating_sub(already).deconstruct(),
			);
			let amount = of_rest.mul_ceil(bond.amount);
			let (credit, missing) =
				T::Currency::slash(&HoldReason::ValidatorBond.into(), who, amount);
			if !missing.is_zero() {
				defensive!("a bond is held in full");
			}
			let slashed = credit.peek();
			bond.amount = bond.amount.saturating_sub(slashed);
			Bonds::<T>::insert(who, &bond);
			SlashedFraction::<T>::insert(who, fraction);
			let reward = Self::pay_reporters(credit, who, reporters);
			Self::deposit_event(Event::OffenderSlashed {
				who: who.clone(),
				session,
				fraction,
				amount: slashed,
				reward,
			});
		}
		Self::remove_offender(who, fraction);
	}

	/// Pays [`Config::ReporterShare`] of `credit` to the reporters in equal parts (an offender
	/// gets nothing for reporting itself) and the rest to [`Config::Slashed`]; returns the
	/// reporters' total.
	fn pay_reporters(
		credit: CreditOf<T>,
		offender: &T::AccountId,
		reporters: &[T::AccountId],
	) -> BalanceOf<T> {
		let paid: Vec<&T::AccountId> = reporters.iter().filter(|r| *r != offender).collect();
		if paid.is_empty() {
			T::Slashed::on_unbalanced(credit);
			return Zero::zero();
		}
		let reward = T::ReporterShare::get() * credit.peek();
		let (mut reward_credit, mut rest) = credit.split(reward);
		let each = reward / (paid.len() as u32).into();
		let mut total = BalanceOf::<T>::zero();
		for reporter in paid {
			let (part, remainder) = reward_credit.split(each);
			reward_credit = remainder;
			let amount = part.peek();
			match T::Currency::resolve(reporter, part) {
				Ok(()) => total = total.saturating_add(amount),
				// A reporter that cannot receive it (below the existential deposit) forfeits
				// its part to the treasury.
				Err(unpaid) => rest = rest.merge(unpaid),
			}
		}
		T::Slashed::on_unbalanced(rest.merge(reward_credit));
		total
	}

	/// Disables `who` now and takes it out of the planned set, unless no other validator with
	/// keys would stay.
	fn remove_offender(who: &T::AccountId, severity: Perbill) {
		T::Disabling::disable(who, severity);
		let (inactive_from, removed) = match Self::take_out(who) {
			Ok((inactive_from, bond_release)) => (inactive_from, Some(bond_release)),
			// It left or was removed already and may still author for a session or two.
			Err(_) => match Bonds::<T>::get(who).and_then(|bond| bond.release_at) {
				Some(release_at) => (
					release_at
						.saturating_sub(T::BondingDuration::get())
						.saturating_add(SESSIONS_UNTIL_ACTIVE),
					None,
				),
				// The last validator with keys: it stays, so that the chain goes on.
				None => return,
			},
		};
		if inactive_from <= CurrentSession::<T>::get() {
			return;
		}
		Offenders::<T>::mutate(|offenders| {
			offenders.retain(|(offender, _)| offender != who);
			if offenders.try_push((who.clone(), inactive_from)).is_err() {
				defensive!("offenders that still author are validators, at most MaxValidators");
			}
		});
		if let Some(bond_release) = removed {
			Self::deposit_event(Event::OffenderRemoved {
				who: who.clone(),
				inactive_from,
				bond_release,
			});
		}
	}

	/// At the start of `session`, forgets offenders that no longer author and disables the
	/// others again.
	pub(crate) fn disable_offenders(session: SessionIndex) {
		let mut offenders = Offenders::<T>::get();
		if offenders.is_empty() {
			return;
		}
		offenders.retain(|(_, inactive_from)| *inactive_from > session);
		for (who, _) in offenders.iter() {
			let severity = SlashedFraction::<T>::get(who).unwrap_or_default();
			T::Disabling::disable(who, severity);
		}
		Offenders::<T>::put(offenders);
	}
}

impl<T: Config, FullIdentification>
	OnOffenceHandler<T::AccountId, (T::AccountId, FullIdentification), Weight> for Pallet<T>
{
	/// `offenders` are all those reported for the same slot, earlier ones again; [`Pallet::punish`]
	/// slashes each only for what a greater fraction adds. The offence's own fraction counts only
	/// when validators offend together: a lone offender, most likely an operator who ran its
	/// keys on two nodes, loses [`Config::EquivocationSlash`], however small the set.
	fn on_offence(
		offenders: &[OffenceDetails<T::AccountId, (T::AccountId, FullIdentification)>],
		slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		let together = offenders.len() > 1;
		for (details, fraction) in offenders.iter().zip(slash_fraction) {
			let fraction = if together { *fraction } else { Perbill::zero() };
			Self::punish(&details.offender.0, &details.reporters, fraction, session);
		}
		T::WeightInfo::punish().saturating_mul(offenders.len() as u64)
	}
}
