// Bootstrap file: replaced by scripts/benchmark-pallet.sh pallet_jobs.
#![allow(missing_docs)]
use core::marker::PhantomData;
use frame_support::weights::{constants::ParityDbWeight, Weight};

/// The weight of each of `pallet_jobs`'s calls and hooks.
pub trait WeightInfo {
	fn submit() -> Weight;
	fn count_eligible() -> Weight;
	fn cancel() -> Weight;
	fn submit_results(n: u32) -> Weight;
	fn claim() -> Weight;
	fn on_initialize_base() -> Weight;
	fn expire_jobs(n: u32) -> Weight;
	fn assign_jobs(n: u32) -> Weight;
	fn prune_results(n: u32) -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit() -> Weight {
		<() as WeightInfo>::submit()
	}
	fn count_eligible() -> Weight {
		<() as WeightInfo>::count_eligible()
	}
	fn cancel() -> Weight {
		<() as WeightInfo>::cancel()
	}
	fn submit_results(n: u32) -> Weight {
		<() as WeightInfo>::submit_results(n)
	}
	fn claim() -> Weight {
		<() as WeightInfo>::claim()
	}
	fn on_initialize_base() -> Weight {
		<() as WeightInfo>::on_initialize_base()
	}
	fn expire_jobs(n: u32) -> Weight {
		<() as WeightInfo>::expire_jobs(n)
	}
	fn assign_jobs(n: u32) -> Weight {
		<() as WeightInfo>::assign_jobs(n)
	}
	fn prune_results(n: u32) -> Weight {
		<() as WeightInfo>::prune_results(n)
	}
}
impl WeightInfo for () {
	fn submit() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn count_eligible() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn cancel() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn submit_results(n: u32) -> Weight {
		ParityDbWeight::get().reads(n as u64 + 1)
	}
	fn claim() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn on_initialize_base() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn expire_jobs(n: u32) -> Weight {
		ParityDbWeight::get().reads(n as u64)
	}
	fn assign_jobs(n: u32) -> Weight {
		ParityDbWeight::get().reads(n as u64)
	}
	fn prune_results(n: u32) -> Weight {
		ParityDbWeight::get().reads(n as u64)
	}
}
