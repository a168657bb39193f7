//! Reads for the runtime API: one model's record, and the registry page by page with a bounded
//! scan per call.

use crate::{Config, ModelRecord, Models, Pallet, StatusKind};
use alloc::vec::Vec;
use veritensor_primitives::ModelHash;

/// One page of models, for the runtime API.
#[derive(Clone, PartialEq, Eq, Debug, codec::Encode, codec::Decode, scale_info::TypeInfo)]
pub struct ModelPage {
	/// The models found, in storage order, with their status.
	pub models: Vec<(ModelHash, StatusKind)>,
	/// Where the next page starts (pass it as `start_after`), if the scan stopped early.
	pub next: Option<ModelHash>,
}

/// Most models one page returns.
pub const MAX_PAGE: u32 = 256;

impl<T: Config> Pallet<T> {
	/// A model's record.
	pub fn model(model: ModelHash) -> Option<ModelRecord<T>> {
		Models::<T>::get(model)
	}

	/// Up to `limit` (at most [`MAX_PAGE`]) models with `status` (any status if `None`), after
	/// `start_after` in storage order. Scans at most four times the page size, so a call's cost
	/// is bounded whatever the registry's size; continue from `next`.
	pub fn models_page(
		status: Option<StatusKind>,
		start_after: Option<ModelHash>,
		limit: u32,
	) -> ModelPage {
		let limit = limit.min(MAX_PAGE) as usize;
		let scan_budget = limit.saturating_mul(4).max(1);
		let mut iter = match start_after {
			Some(after) => Models::<T>::iter_from(Models::<T>::hashed_key_for(after)),
			None => Models::<T>::iter(),
		};
		let mut models = Vec::new();
		let mut last = None;
		for _ in 0..scan_budget {
			let Some((hash, record)) = iter.next() else {
				return ModelPage { models, next: None };
			};
			last = Some(hash);
			let kind = record.status.kind();
			if status.is_none_or(|status| status == kind) {
				models.push((hash, kind));
				if models.len() == limit {
					break;
				}
			}
		}
		let next = iter.next().and(last);
		ModelPage { models, next }
	}
}
