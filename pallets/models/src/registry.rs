//! The registry as the job market sees it: the terms of listed models, and the open-job count
//! that keeps a model with open jobs from losing its record or deposit.

use crate::{BalanceOf, Config, Error, ExecutionError, Models, Pallet, StatusKind, WeightInfo};
use frame_support::{
	defensive, ensure,
	pallet_prelude::{DispatchResult, Weight},
	traits::Get,
};
use veritensor_primitives::{
	traits::{ModelRegistry, ModelTerms},
	IoSchema, ModelHash, Tensor,
};

impl<T: Config> ModelRegistry<T::AccountId, BalanceOf<T>> for Pallet<T> {
	fn terms_for_new_job(model: &ModelHash) -> Option<ModelTerms<T::AccountId, BalanceOf<T>>> {
		let record = Models::<T>::get(model)?;
		(record.status.kind() == StatusKind::Listed).then(|| ModelTerms {
			owner: record.owner,
			price_per_worker: record.spec.price_per_worker,
			owner_royalty: record.spec.owner_royalty,
			schema: record.spec.schema,
			comparison: record.spec.comparison,
		})
	}

	fn schema(model: &ModelHash) -> Option<IoSchema> {
		Models::<T>::get(model).map(|record| record.spec.schema)
	}

	fn uris(model: &ModelHash) -> alloc::vec::Vec<alloc::vec::Vec<u8>> {
		Models::<T>::get(model)
			.map(|record| record.spec.uris.into_iter().map(|uri| uri.into_inner()).collect())
			.unwrap_or_default()
	}

	fn comparison(model: &ModelHash) -> Option<veritensor_primitives::ComparisonRule> {
		Models::<T>::get(model).map(|record| record.spec.comparison)
	}

	fn acquire(model: &ModelHash) -> DispatchResult {
		Models::<T>::try_mutate(model, |record| {
			let record = record.as_mut().ok_or(Error::<T>::UnknownModel)?;
			ensure!(record.status.kind() == StatusKind::Listed, Error::<T>::NotUsable);
			record.open_jobs =
				record.open_jobs.checked_add(1).ok_or(Error::<T>::TooManyOpenJobs)?;
			Ok(())
		})
	}

	fn open_jobs(model: &ModelHash) -> Option<u32> {
		Models::<T>::get(model).map(|record| record.open_jobs)
	}

	fn release(model: &ModelHash) {
		let deposit_due = Models::<T>::mutate(model, |record| match record {
			Some(record) => {
				if record.open_jobs == 0 {
					defensive!("a job ended for a model with no open job");
				}
				record.open_jobs = record.open_jobs.saturating_sub(1);
				record.status.kind() == StatusKind::Delisted && record.open_jobs == 0
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

	fn execution_weight(model: &ModelHash) -> Option<Weight> {
		let pinned = Models::<T>::get(model)?.spec.comparison;
		let executable = Pallet::<T>::execution_cost(model)?;
		// Not run: a model pinned to another interpreter version than this runtime's (listed
		// before an upgrade changed it), whose honest workers may compute otherwise, and one
		// listed under higher bounds than today's, whose run may weigh more than
		// `max_execution_weight` (see `execute`).
		let within_bounds = executable.cost <= T::MaxExecutionCost::get()
			&& executable.memory <= u64::from(T::MaxExecutionMemory::get())
			&& executable.bytes <= T::MaxExecutableBytes::get();
		(pinned == Pallet::<T>::interpreter_rule() && within_bounds)
			.then(|| T::WeightInfo::execute(executable.bytes, cost_component(executable.cost)))
	}

	fn max_execution_weight() -> Weight {
		T::WeightInfo::execute(
			T::MaxExecutableBytes::get(),
			cost_component(T::MaxExecutionCost::get()),
		)
	}

	fn execute<B: Get<u32>>(
		model: &ModelHash,
		inputs: &[Tensor<B>],
	) -> Result<alloc::vec::Vec<Tensor<B>>, ExecutionError> {
		let spec = Models::<T>::get(model).ok_or(ExecutionError::NotExecutable)?.spec;
		ensure!(spec.comparison == Pallet::<T>::interpreter_rule(), ExecutionError::NotExecutable);
		let executable = Pallet::<T>::execution_cost(model).ok_or(ExecutionError::NotExecutable)?;
		ensure!(executable.bytes <= T::MaxExecutableBytes::get(), ExecutionError::TooCostly);
		Pallet::<T>::execute(model, &spec.schema, inputs)
	}
}

/// A cost as the weight function's component (costs above `u32::MAX` are never listed: the
/// bound on a run's weight keeps them far below).
fn cost_component(cost: u64) -> u32 {
	u32::try_from(cost).unwrap_or(u32::MAX)
}

#[cfg(feature = "runtime-benchmarks")]
impl<T: Config> Pallet<T> {
	/// Lists a small model under `model` without a deposit, as genesis does. For the benchmarks
	/// of pallets that need a listed model.
	pub fn list_for_benchmarks(owner: T::AccountId, model: ModelHash) {
		Self::list_for_benchmarks_with(owner, model, None)
	}

	/// [`Self::list_for_benchmarks`] with the given schema instead of a one-number model. Its
	/// outputs are compared by tolerance (of zero): element by element, the costliest rule.
	pub fn list_for_benchmarks_with(
		owner: T::AccountId,
		model: ModelHash,
		schema: Option<IoSchema>,
	) {
		use crate::{Description, ModelMetadata, ModelRecord, ModelSpec};
		use sp_runtime::traits::Zero;
		use veritensor_primitives::{
			tensor::{ElementType, TensorSpec},
			ComparisonRule, ModelFormat, OutputRule,
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
		let schema = schema.unwrap_or_else(|| IoSchema {
			inputs: alloc::vec![tensor()].try_into().expect("one tensor fits; qed"),
			outputs: alloc::vec![tensor()].try_into().expect("one tensor fits; qed"),
		});
		let spec = ModelSpec::<T> {
			artifact_hash: model,
			artifact_size: 1,
			format: ModelFormat::Onnx,
			comparison: ComparisonRule::PerOutput(
				schema
					.outputs
					.iter()
					.map(|_| OutputRule::Tolerance { agree: 0, slash: 0 })
					.collect::<alloc::vec::Vec<_>>()
					.try_into()
					.expect("one rule per output tensor fits; qed"),
			),
			schema,
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
