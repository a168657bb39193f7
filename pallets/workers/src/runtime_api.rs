//! Worker staking's runtime API, for operators' tools, explorers and the node.

use crate::WorkerInfo;
use alloc::vec::Vec;
use veritensor_primitives::{traits::Candidate, ModelHash, WorkerId};

sp_api::decl_runtime_apis! {
	/// Reads worker staking.
	pub trait WorkersApi<AccountId: codec::Codec, Balance: codec::Codec, BlockNumber: codec::Codec> {
		/// A worker's operator, settings in effect now, open assignments and record of service.
		fn worker(worker: WorkerId) -> Option<WorkerInfo<AccountId, Balance, BlockNumber>>;

		/// The workers eligible now for a job of `model`, with their operators' stakes.
		fn candidates(model: ModelHash) -> Vec<Candidate<AccountId, Balance>>;
	}
}
