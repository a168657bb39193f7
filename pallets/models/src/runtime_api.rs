//! The registry's runtime API, for wallets, explorers and the node.

use crate::{ModelPage, StatusKind};
use veritensor_primitives::ModelHash;

sp_api::decl_runtime_apis! {
	/// Reads the model registry.
	pub trait ModelsApi<Record: codec::Codec> {
		/// The record of `model`, if it is proposed or registered.
		fn model(model: ModelHash) -> Option<Record>;

		/// Up to `limit` (at most 256) models with `status` (any status if `None`), after
		/// `start_after` in storage order; continue from the page's `next`.
		fn models(
			status: Option<StatusKind>,
			start_after: Option<ModelHash>,
			limit: u32,
		) -> ModelPage;
	}
}
