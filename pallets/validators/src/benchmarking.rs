//! Benchmarks of every call, each in its worst case: a full set, the account at its end.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, EnsureOrigin, Get};
use frame_system::RawOrigin;
use sp_runtime::{traits::Saturating, Perbill};

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, T::MinimumBond::get().saturating_mul(10u32.into()));
	who
}

fn bonded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who = funded::<T>(name, index);
	Pallet::<T>::bond(RawOrigin::Signed(who.clone()).into(), T::MinimumBond::get())
		.expect("funded for the bond; qed");
	who
}

/// Fills the set up to `size` validators (keeping those already there); returns the last one.
fn set_of<T: Config>(size: u32) -> T::AccountId {
	let mut last = None;
	for index in Validators::<T>::get().len() as u32..size {
		let who = bonded::<T>("validator", index);
		T::BenchmarkHelper::set_session_keys(&who);
		Pallet::<T>::add_validator(
			T::GovernanceOrigin::try_successful_origin().expect("governance has an origin; qed"),
			who.clone(),
		)
		.expect("bonded, with keys, and there is room; qed");
		last = Some(who);
	}
	last.unwrap_or_else(|| Validators::<T>::get().last().cloned().expect("the set is not empty"))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let who = funded::<T>("candidate", 0);
		let amount = T::MinimumBond::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), amount);
		assert_eq!(Bonds::<T>::get(&who).map(|held| held.amount), Some(amount));
	}

	/// A former validator, at its release, with session keys to remove.
	#[benchmark]
	fn withdraw_bond() {
		let who = set_of::<T>(T::MaxValidators::get());
		Pallet::<T>::leave(RawOrigin::Signed(who.clone()).into())
			.expect("the other validators have keys; qed");
		let release_at = Bonds::<T>::get(&who)
			.and_then(|held| held.release_at)
			.expect("a leaver's release is scheduled; qed");
		CurrentSession::<T>::put(release_at);
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(Bonds::<T>::get(&who).is_none());
		assert!(!T::SessionKeys::has_keys(&who));
	}

	#[benchmark]
	fn add_validator() -> Result<(), BenchmarkError> {
		set_of::<T>(T::MaxValidators::get().saturating_sub(1));
		let who = bonded::<T>("candidate", 0);
		T::BenchmarkHelper::set_session_keys(&who);
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());
		assert!(Validators::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn remove_validator() -> Result<(), BenchmarkError> {
		let who = set_of::<T>(T::MaxValidators::get());
		let origin =
			T::GovernanceOrigin::try_successful_origin().map_err(|_| BenchmarkError::Weightless)?;
		#[extrinsic_call]
		_(origin as T::RuntimeOrigin, who.clone());
		assert!(!Validators::<T>::get().contains(&who));
		Ok(())
	}

	#[benchmark]
	fn leave() {
		let who = set_of::<T>(T::MaxValidators::get());
		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()));
		assert!(!Validators::<T>::get().contains(&who));
	}

	/// An offender at the end of a full set, slashed, a reporter paid, taken out of the set.
	#[benchmark]
	fn punish() {
		let who = set_of::<T>(T::MaxValidators::get());
		let reporter = funded::<T>("reporter", 0);
		let session = CurrentSession::<T>::get();
		#[block]
		{
			Pallet::<T>::punish(&who, &[reporter], Perbill::from_percent(50), session);
		}
		assert!(SlashedFraction::<T>::contains_key(&who));
		assert!(!Validators::<T>::get().contains(&who));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
