//! Taking a job in: its price and quote, the checks of its input against the model's schema,
//! the count of eligible operators, and the queues and escrow a submission fills.

use crate::{asset, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{traits::Saturating, DispatchError};
use veritensor_primitives::{
	input_hash,
	traits::{ModelRegistry, ModelTerms, WorkerStaking},
	JobId, ModelHash, TensorError, TensorSpec,
};

/// The largest k the market settles today: single-worker jobs.
pub const SUPPORTED_K: u32 = 1;

/// Why a payload does not fit a schema.
pub(crate) enum PayloadError {
	/// A remote payload without a URI.
	EmptyUri,
	/// Inline tensors that break the schema.
	Tensor(TensorError),
}

impl<T: Config> Pallet<T> {
	/// What a job of `model` with `k` workers costs now, and how it splits; `None` if the model
	/// takes no jobs or `k` is unsupported.
	pub fn quote(model: &ModelHash, k: u32) -> Option<(PriceOf<T>, BalanceOf<T>)> {
		if k == 0 || k > SUPPORTED_K.min(T::MaxWorkersPerJob::get()) {
			return None;
		}
		T::Models::terms_for_new_job(model).map(|terms| Self::price(&terms, k))
	}

	/// The price of a job of `k` workers under `terms`, and its cost: the workers' price, the
	/// royalty and the protocol fee, raised to the minimum fee by the protocol's share.
	fn price(terms: &ModelTerms<T::AccountId, BalanceOf<T>>, k: u32) -> (PriceOf<T>, BalanceOf<T>) {
		let base =
			terms.price_per_worker.saturating_mul(k.into()).saturating_add(terms.owner_royalty);
		let mut protocol = T::ProtocolFee::get() * base;
		let mut cost = base.saturating_add(protocol);
		if cost < T::MinFee::get() {
			protocol = protocol.saturating_add(T::MinFee::get().saturating_sub(cost));
			cost = T::MinFee::get();
		}
		let price = Price {
			per_worker: terms.price_per_worker,
			owner: terms.owner.clone(),
			royalty: terms.owner_royalty,
			protocol,
		};
		(price, cost)
	}

	/// Checks a payload against one side of a schema; returns its canonical hash.
	pub(crate) fn check_payload(
		payload: &Payload<T>,
		specs: &[TensorSpec],
		hash: fn(&[veritensor_primitives::Tensor<T::MaxInlineTensorBytes>]) -> H256,
	) -> Result<H256, PayloadError> {
		match payload {
			Payload::Inline(tensors) => {
				veritensor_primitives::tensor::check_tensors(tensors, specs)
					.map_err(PayloadError::Tensor)?;
				Ok(hash(tensors))
			}
			Payload::Remote { hash, uri } => {
				if uri.is_empty() {
					return Err(PayloadError::EmptyUri);
				}
				Ok(*hash)
			}
		}
	}

	/// Checks and queues a job of `submitter`'s and holds its escrow; returns its id and
	/// whether this call counted the model's eligible operators.
	pub(crate) fn do_submit(
		submitter: T::AccountId,
		model: ModelHash,
		input: Payload<T>,
		k: u32,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<(JobId, bool), DispatchError> {
		ensure!(
			k > 0 && k <= SUPPORTED_K.min(T::MaxWorkersPerJob::get()),
			Error::<T>::UnsupportedK
		);
		let terms = T::Models::terms_for_new_job(&model).ok_or(Error::<T>::ModelNotUsable)?;
		let input_hash =
			Self::check_payload(&input, &terms.schema.inputs, input_hash).map_err(|error| {
				match error {
					PayloadError::EmptyUri => Error::<T>::EmptyUri,
					PayloadError::Tensor(TensorError::CountMismatch) => {
						Error::<T>::InputCountMismatch
					}
					PayloadError::Tensor(TensorError::TypeMismatch) => {
						Error::<T>::InputTypeMismatch
					}
					PayloadError::Tensor(TensorError::ShapeMismatch) => {
						Error::<T>::InputShapeMismatch
					}
					PayloadError::Tensor(TensorError::FracBitsMismatch) => {
						Error::<T>::InputFracBitsMismatch
					}
					PayloadError::Tensor(TensorError::LengthMismatch | TensorError::BadBool) => {
						Error::<T>::InputMalformed
					}
				}
			})?;
		ensure!(deadline >= T::MinDeadline::get(), Error::<T>::DeadlineTooSoon);
		ensure!(deadline <= T::MaxDeadline::get(), Error::<T>::DeadlineTooLate);
		let (price, cost) = Self::price(&terms, k);
		ensure!(max_fee >= cost, Error::<T>::FeeTooLow);
		let (eligible, counted) = Self::eligible_operators(&model);
		ensure!(eligible >= k, Error::<T>::NotEnoughWorkers);

		let job = NextJobId::<T>::get();
		NextJobId::<T>::put(job.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let now = frame_system::Pallet::<T>::block_number();
		let assign_at = now.saturating_add(T::AssignmentDelay::get().into());
		let deadline = now.saturating_add(deadline);
		AssignmentQueue::<T>::try_mutate(assign_at, |queue| queue.try_push(job))
			.map_err(|_| Error::<T>::AssignmentQueueFull)?;
		AssignmentModels::<T>::try_mutate(assign_at, |models| {
			if models.contains(&model) {
				Ok(())
			} else {
				models.try_push(model)
			}
		})
		.map_err(|_| Error::<T>::AssignmentQueueFull)?;
		ExpiryQueue::<T>::try_mutate(deadline.saturating_add(1u32.into()), |queue| {
			queue.try_push(job)
		})
		.map_err(|_| Error::<T>::ExpiryQueueFull)?;
		T::Models::acquire(&model)?;
		asset::hold_escrow::<T>(&submitter, max_fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		Jobs::<T>::insert(
			job,
			Job {
				submitter: submitter.clone(),
				model,
				input_hash,
				k,
				price,
				escrow: max_fee,
				submitted_at: now,
				deadline,
				state: JobState::Queued { assign_at },
			},
		);
		if matches!(input, Payload::Remote { .. }) {
			RemoteInputs::<T>::insert(job, ());
		}
		Inputs::<T>::insert(job, input);
		Self::deposit_event(Event::Submitted {
			job,
			submitter,
			model,
			k,
			cost,
			escrow: max_fee,
			assign_at,
			deadline,
		});
		Ok((job, counted))
	}

	/// How many distinct operators have workers eligible for `model` in this block, counted
	/// once per block and model; and whether this call counted them.
	pub fn eligible_operators(model: &ModelHash) -> (u32, bool) {
		let now = frame_system::Pallet::<T>::block_number();
		if let Some((counted_at, count)) = EligibleOperators::<T>::get(model) {
			if counted_at == now {
				return (count, false);
			}
		}
		let mut operators: Vec<T::AccountId> = Vec::new();
		for candidate in T::Workers::candidates(model, T::Workers::max_exposure()) {
			if !operators.contains(&candidate.operator) {
				operators.push(candidate.operator);
			}
		}
		let count = operators.len() as u32;
		EligibleOperators::<T>::insert(model, (now, count));
		(count, true)
	}
}
