// Bootstrap file: replaced by scripts/benchmark-pallet.sh pallet_jobs.
#![allow(missing_docs)]
use core::marker::PhantomData;
use frame_support::weights::{constants::ParityDbWeight, Weight};

/// The weight of each of `pallet_jobs`'s calls and hooks.
pub trait WeightInfo {
	fn submit() -> Weight;
	fn count_eligible() -> Weight;
	fn load_candidates() -> Weight;
	fn cancel() -> Weight;
	fn submit_results(n: u32) -> Weight;
	fn claim() -> Weight;
	fn on_initialize_base() -> Weight;
	fn expire_job() -> Weight;
	fn assign_job() -> Weight;
	fn prune_result() -> Weight;
}

pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	fn submit() -> Weight {
		<() as WeightInfo>::submit()
	}
	fn count_eligible() -> Weight {
		<() as WeightInfo>::count_eligible()
	}
	fn load_candidates() -> Weight {
		<() as WeightInfo>::load_candidates()
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
	fn expire_job() -> Weight {
		<() as WeightInfo>::expire_job()
	}
	fn assign_job() -> Weight {
		<() as WeightInfo>::assign_job()
	}
	fn prune_result() -> Weight {
		<() as WeightInfo>::prune_result()
	}
}
impl WeightInfo for () {
	fn submit() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn count_eligible() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn load_candidates() -> Weight {
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
	fn expire_job() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn assign_job() -> Weight {
		ParityDbWeight::get().reads(1)
	}
	fn prune_result() -> Weight {
		ParityDbWeight::get().reads(1)
	}
}
