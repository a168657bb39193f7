//! The registry as other pallets, the runtime API and `try_state` see it.

use crate::{pallet::*, BalanceOf, ModelRecord, ModelStatus};
use alloc::vec::Vec;
use frame_support::{defensive, ensure, pallet_prelude::DispatchResult};
use veritensor_primitives::{
	traits::{ModelRegistry, ModelTerms},
	ModelHash,
};

impl<T: Config> ModelRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn terms_for_new_job(model: &ModelHash) -> Option<ModelTerms<T::AccountId, BalanceOf<T>>> {
		let record = Models::<T>::get(model)?;
		(record.status == ModelStatus::Listed).then(|| ModelTerms {
			owner: record.owner,
			price_per_worker: record.spec.price_per_worker,
			owner_royalty: record.spec.owner_royalty,
			schema: record.spec.schema,
			comparison: record.spec.comparison,
		})
	}

	fn schema(model: &ModelHash) -> Option<veritensor_primitives::IoSchema> {
		Models::<T>::get(model).map(|record| record.spec.schema)
	}

	fn uris(model: &ModelHash) -> alloc::vec::Vec<alloc::vec::Vec<u8>> {
		Models::<T>::get(model)
			.map(|record| record.spec.uris.into_iter().map(|uri| uri.into_inner()).collect())
			.unwrap_or_default()
	}

	fn acquire(model: &ModelHash) -> DispatchResult {
		Models::<T>::try_mutate(model, |record| {
			let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.status == ModelStatus::Listed, Error::<T>::NotUsable);
			record.open_jobs =
				record.open_jobs.checked_add(1).ok_or(Error::<T>::TooManyOpenJobs)?;
			Ok(())
		})
	}

	fn release(model: &ModelHash) {
		let deposit_due = Models::<T>::mutate(model, |record| match record {
			Some(record) => {
				if record.open_jobs == 0 {
					defensive!("a job ended for a model with no open job");
				}
				record.open_jobs = record.open_jobs.saturating_sub(1);
				record.status == ModelStatus::Delisted && record.open_jobs == 0
			}
			None => {
				defensive!("a job ended for an unknown model");
				false
			}
		});
		if deposit_due {
			Pallet::<T>::return_delisted_deposit(*model);
		}
	}
}

/// One page of models, for the runtime API.
#[derive(Clone, PartialEq, Eq, Debug, codec::Encode, codec::Decode, scale_info::TypeInfo)]
pub struct ModelPage {
	/// The models found, in storage order.
	pub models: Vec<(ModelHash, ModelStatus)>,
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
		status: Option<ModelStatus>,
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
			if status.is_none_or(|status| status == record.status) {
				models.push((hash, record.status));
				if models.len() == limit {
					break;
				}
			}
		}
		let next = iter.next().and(last);
		ModelPage { models, next }
	}

	/// Checks the registry's invariants: every owner's held deposits equal the deposits its
	/// records state, and each record's status agrees with its history and job count.
	#[cfg(any(feature = "try-runtime", test))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use alloc::collections::btree_map::BTreeMap;
		use frame_support::traits::fungible::InspectHold;
		use sp_runtime::traits::{Saturating, Zero};

		let mut recorded: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (hash, record) in Models::<T>::iter() {
			ensure!(hash == record.spec.artifact_hash, "record stored under another hash");
			let total = recorded.entry(record.owner.clone()).or_insert_with(Zero::zero);
			*total = total.saturating_add(record.deposit);

			let history = &record.history;
			let consistent = match record.status {
				ModelStatus::Proposed => {
					history.listed.is_none()
						&& history.deprecated.is_none()
						&& history.delisted.is_none()
						&& record.open_jobs == 0
				}
				ModelStatus::Listed => {
					history.listed.is_some()
						&& history.deprecated.is_none()
						&& history.delisted.is_none()
				}
				ModelStatus::Deprecated => {
					history.listed.is_some()
						&& history.deprecated.is_some()
						&& history.delisted.is_none()
				}
				ModelStatus::Delisted => {
					history.listed.is_some()
						&& history.delisted.is_some()
						&& (record.open_jobs > 0 || record.deposit.is_zero())
				}
			};
			ensure!(consistent, "a model's status disagrees with its history, jobs or deposit");
		}
		for (owner, total) in recorded {
			let held = T::Currency::balance_on_hold(&HoldReason::ModelDeposit.into(), &owner);
			ensure!(held == total, "held model deposits differ from recorded deposits");
		}
		Ok(())
	}
}

impl<T: Config> ModelRecord<T> {
	/// The record of a model listed from the start, without a deposit (genesis models).
	pub fn listed_at_genesis(owner: T::AccountId, spec: crate::ModelSpec<T>) -> Self {
		use sp_runtime::traits::Zero;
		ModelRecord {
			owner,
			spec,
			status: ModelStatus::Listed,
			history: crate::StatusHistory {
				proposed: Zero::zero(),
				listed: Some(Zero::zero()),
				deprecated: None,
				delisted: None,
			},
			deposit: Zero::zero(),
			open_jobs: 0,
		}
	}
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// Lists a small model under `model` without a deposit, as genesis does. For the benchmarks
	/// of pallets that need a listed model.
	pub fn list_for_benchmarks(owner: T::AccountId, model: ModelHash) {
		Self::list_for_benchmarks_with(owner, model, None)
	}

	/// [`Self::list_for_benchmarks`] with the given schema instead of a one-number model.
	pub fn list_for_benchmarks_with(
		owner: T::AccountId,
		model: ModelHash,
		schema: Option<veritensor_primitives::IoSchema>,
	) {
		use crate::{Description, ModelMetadata, ModelSpec};
		use sp_runtime::traits::Zero;
		use veritensor_primitives::{
			tensor::{ElementType, TensorSpec},
			ComparisonRule, IoSchema, ModelFormat,
		};
		let tensor = || TensorSpec {
			name: b"x".to_vec().try_into().expect("one byte fits any name bound; qed"),
			elem: ElementType::I32,
			shape: alloc::vec![1].try_into().expect("rank one fits; qed"),
			frac_bits: 0,
		};
		fn one<S: frame_support::traits::Get<u32>>(
			bytes: &[u8],
		) -> Option<frame_support::BoundedVec<u8, S>> {
			bytes.to_vec().try_into().ok()
		}
		let spec = ModelSpec::<T> {
			artifact_hash: model,
			artifact_size: 1,
			format: ModelFormat::Onnx,
			schema: schema.unwrap_or_else(|| IoSchema {
				inputs: alloc::vec![tensor()].try_into().expect("one tensor fits; qed"),
				outputs: alloc::vec![tensor()].try_into().expect("one tensor fits; qed"),
			}),
			comparison: ComparisonRule::Tolerance { agree: 0, slash: 0 },
			price_per_worker: Zero::zero(),
			owner_royalty: Zero::zero(),
			uris: one(b"https://m")
				.and_then(|uri| alloc::vec![uri].try_into().ok())
				.unwrap_or_default(),
			metadata: ModelMetadata {
				name: one(b"m").unwrap_or_default(),
				description: Description::Text(Default::default()),
				licence: one(b"MIT").unwrap_or_default(),
			},
			supersedes: None,
		};
		Models::<T>::insert(model, ModelRecord::listed_at_genesis(owner, spec));
	}
}
