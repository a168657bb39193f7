//! The job market's runtime API, for dApps and for workers' off-chain workers.

use alloc::vec::Vec;
use veritensor_primitives::{JobId, ModelHash, WorkerId};

sp_api::decl_runtime_apis! {
	/// Reads the job market.
	pub trait JobsApi<Balance: codec::Codec, Job: codec::Codec, JobResult: codec::Codec, Input: codec::Codec> {
		/// What a job of `model` with `k` workers costs now (`max_fee` must cover it), or `None`
		/// if the model takes no jobs or `k` is unsupported.
		fn quote(model: ModelHash, k: u32) -> Option<Balance>;

		/// An open job: its price, escrow, deadline, and state (queued, or its workers).
		fn job(job: JobId) -> Option<Job>;

		/// An open job's input.
		fn input(job: JobId) -> Option<Input>;

		/// A settled job's result, until it is pruned.
		fn result(job: JobId) -> Option<JobResult>;

		/// The open jobs assigned to `worker`.
		fn open_assignments(worker: WorkerId) -> Vec<JobId>;
	}
}
