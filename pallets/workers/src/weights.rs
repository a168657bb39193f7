// Bootstrap file: replaced by scripts/benchmark-pallet.sh pallet_workers.
#![allow(missing_docs)]
use frame_support::weights::{constants::ParityDbWeight, Weight};
use core::marker::PhantomData;

/// The weight of each of `pallet_workers`'s calls and hooks.
pub trait WeightInfo {
	fn bond() -> Weight;
	fn bond_extra() -> Weight;
	fn unbond() -> Weight;
	fn withdraw_unbonded() -> Weight;
	fn rebond() -> Weight;
	fn register() -> Weight;
	fn update() -> Weight;
	fn chill() -> Weight;
	fn resume() -> Weight;
	fn unregister() -> Weight;
	fn slash() -> Weight;
	fn candidates() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn bond() -> Weight { ParityDbWeight::get().reads(1) }
	fn bond_extra() -> Weight { ParityDbWeight::get().reads(1) }
	fn unbond() -> Weight { ParityDbWeight::get().reads(1) }
	fn withdraw_unbonded() -> Weight { ParityDbWeight::get().reads(1) }
	fn rebond() -> Weight { ParityDbWeight::get().reads(1) }
	fn register() -> Weight { ParityDbWeight::get().reads(1) }
	fn update() -> Weight { ParityDbWeight::get().reads(1) }
	fn chill() -> Weight { ParityDbWeight::get().reads(1) }
	fn resume() -> Weight { ParityDbWeight::get().reads(1) }
	fn unregister() -> Weight { ParityDbWeight::get().reads(1) }
	fn slash() -> Weight { ParityDbWeight::get().reads(1) }
	fn candidates() -> Weight { ParityDbWeight::get().reads(1) }
}
impl WeightInfo for () {
	fn bond() -> Weight { ParityDbWeight::get().reads(1) }
	fn bond_extra() -> Weight { ParityDbWeight::get().reads(1) }
	fn unbond() -> Weight { ParityDbWeight::get().reads(1) }
	fn withdraw_unbonded() -> Weight { ParityDbWeight::get().reads(1) }
	fn rebond() -> Weight { ParityDbWeight::get().reads(1) }
	fn register() -> Weight { ParityDbWeight::get().reads(1) }
	fn update() -> Weight { ParityDbWeight::get().reads(1) }
	fn chill() -> Weight { ParityDbWeight::get().reads(1) }
	fn resume() -> Weight { ParityDbWeight::get().reads(1) }
	fn unregister() -> Weight { ParityDbWeight::get().reads(1) }
	fn slash() -> Weight { ParityDbWeight::get().reads(1) }
	fn candidates() -> Weight { ParityDbWeight::get().reads(1) }
}
