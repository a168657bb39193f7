//! Storage version 1: comparison rules per output tensor.
//!
//! Version 0 compared every output tensor of a model under one tolerance. Version 1 keeps one
//! rule per output tensor ([`veritensor_primitives::OutputRule`]). A version-0 tolerance becomes
//! the same tolerance on every output tensor, so that no model's comparison changes by itself;
//! the runtime may state better rules for models it knows (`Corrections`), such as a label that
//! must be the argmax of the model's own probabilities. Exact-hash rules are unchanged.

use crate::{pallet::*, types::*, ModelStatus};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use frame_support::{
	migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade,
	weights::Weight,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::ConstU32;
use sp_runtime::traits::Saturating;
use veritensor_primitives::{
	model::MAX_ENGINE_VERSION_LEN, ComparisonRule, Engine, IoSchema, ModelFormat, ModelHash,
	OutputRule,
};

/// Storage as version 0 wrote it.
pub mod v0 {
	use super::*;

	/// A comparison rule of version 0.
	#[derive(Encode, Decode, Clone, PartialEq, Eq, Debug)]
	pub enum ComparisonRule {
		ExactHash { engine: Engine, version: BoundedVec<u8, ConstU32<MAX_ENGINE_VERSION_LEN>> },
		Tolerance { agree: u32, slash: u32 },
	}

	/// A model's spec of version 0.
	#[derive(Encode, Decode)]
	pub struct ModelSpec<T: Config> {
		pub artifact_hash: ModelHash,
		pub artifact_size: u64,
		pub format: ModelFormat,
		pub schema: IoSchema,
		pub comparison: ComparisonRule,
		pub price_per_worker: BalanceOf<T>,
		pub owner_royalty: BalanceOf<T>,
		pub uris: Uris<T>,
		pub metadata: ModelMetadata<T>,
		pub supersedes: Option<ModelHash>,
	}

	/// A model's record of version 0.
	#[derive(Encode, Decode)]
	pub struct ModelRecord<T: Config> {
		pub owner: T::AccountId,
		pub spec: ModelSpec<T>,
		pub status: ModelStatus<BlockNumberFor<T>>,
		pub deposit: BalanceOf<T>,
		pub open_jobs: u32,
	}
}

/// The version-1 rule of a version-0 one over `outputs` output tensors.
pub fn translate_rule(rule: v0::ComparisonRule, outputs: usize) -> ComparisonRule {
	match rule {
		v0::ComparisonRule::ExactHash { engine, version } => {
			ComparisonRule::ExactHash { engine, version }
		}
		v0::ComparisonRule::Tolerance { agree, slash } => {
			ComparisonRule::PerOutput(BoundedVec::truncate_from(
				(0..outputs).map(|_| OutputRule::Tolerance { agree, slash }).collect(),
			))
		}
	}
}

/// Rewrites every model's comparison rule per output tensor; see the module's docs.
/// `Corrections` names models whose rule the runtime states instead, each applied only if it
/// suits the model's outputs.
pub struct InnerMigrateV0ToV1<T, Corrections>(core::marker::PhantomData<(T, Corrections)>);

impl<T: Config, Corrections: Get<Vec<(ModelHash, ComparisonRule)>>> UncheckedOnRuntimeUpgrade
	for InnerMigrateV0ToV1<T, Corrections>
{
	fn on_runtime_upgrade() -> Weight {
		let corrections = Corrections::get();
		let mut translated = 0u64;
		let before = Models::<T>::iter_keys().count();
		Models::<T>::translate::<v0::ModelRecord<T>, _>(|model, old| {
			translated.saturating_inc();
			let spec = old.spec;
			let correction = corrections
				.iter()
				.find(|(corrected, _)| *corrected == model)
				.and_then(|(_, rule)| {
					let fits = rule.check(&spec.schema.outputs).is_ok();
					if !fits {
						frame_support::defensive!("a corrected rule fits its model's outputs");
					}
					fits.then(|| rule.clone())
				});
			let comparison = correction
				.unwrap_or_else(|| translate_rule(spec.comparison, spec.schema.outputs.len()));
			Some(ModelRecord {
				owner: old.owner,
				spec: ModelSpec {
					artifact_hash: spec.artifact_hash,
					artifact_size: spec.artifact_size,
					format: spec.format,
					schema: spec.schema,
					comparison,
					price_per_worker: spec.price_per_worker,
					owner_royalty: spec.owner_royalty,
					uris: spec.uris,
					metadata: spec.metadata,
					supersedes: spec.supersedes,
				},
				status: old.status,
				deposit: old.deposit,
				open_jobs: old.open_jobs,
			})
		});
		if Models::<T>::iter_keys().count() < before {
			frame_support::defensive!("models unreadable in the migration to version 1");
		}
		T::DbWeight::get().reads_writes(translated.saturating_add(before as u64), translated)
	}

	#[cfg(feature = "try-runtime")]
	fn post_upgrade(_state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
		Pallet::<T>::do_try_state()
	}
}

/// The migration from storage version 0 to 1, run once (the version is checked and set).
pub type MigrateV0ToV1<T, Corrections> = VersionedMigration<
	0,
	1,
	InnerMigrateV0ToV1<T, Corrections>,
	Pallet<T>,
	<T as frame_system::Config>::DbWeight,
>;
