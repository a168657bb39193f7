// PLACEHOLDER: replaced by scripts/benchmark-pallet.sh output before landing.
#![allow(missing_docs)]
use frame_support::weights::Weight;
use core::marker::PhantomData;
pub trait WeightInfo {
	fn bond() -> Weight;
	fn withdraw_bond() -> Weight;
	fn add_validator() -> Weight;
	fn remove_validator() -> Weight;
	fn leave() -> Weight;
}
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn bond() -> Weight { Weight::from_parts(1, 1) }
	fn withdraw_bond() -> Weight { Weight::from_parts(1, 1) }
	fn add_validator() -> Weight { Weight::from_parts(1, 1) }
	fn remove_validator() -> Weight { Weight::from_parts(1, 1) }
	fn leave() -> Weight { Weight::from_parts(1, 1) }
}
impl WeightInfo for () {
	fn bond() -> Weight { Weight::from_parts(1, 1) }
	fn withdraw_bond() -> Weight { Weight::from_parts(1, 1) }
	fn add_validator() -> Weight { Weight::from_parts(1, 1) }
	fn remove_validator() -> Weight { Weight::from_parts(1, 1) }
	fn leave() -> Weight { Weight::from_parts(1, 1) }
}
