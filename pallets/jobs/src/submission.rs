//! Taking a job in: its price and quote, the checks of its input against the model's schema,
//! the count of eligible operators, and the queues and escrow a submission fills.

use crate::{asset, pallet::*, types::*};
use alloc::vec::Vec;
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, UniqueSaturatedInto, Zero},
	DispatchError, Perbill,
};
use veritensor_primitives::{
	input_hash,
	traits::{ModelRegistry, ModelTerms, WorkerStaking},
	IoSchema, JobId, ModelHash, TensorError, TensorSpec, VerificationTerms, WorkerId,
};

/// Bytes of the SCALE compact encoding of `value`.
fn compact_len(value: u32) -> u32 {
	<codec::Compact<u32> as codec::CompactLen<u32>>::compact_len(&value) as u32
}

/// How many blocks after its usual draw a job may be drawn when that draw is full (of jobs or
/// of models). It absorbs a burst larger than one draw takes, and makes filling a draw to keep
/// others' jobs out cost three draws' worth of paid jobs; each later draw tried costs a
/// submission two more reads, in its weight.
pub const MAX_LATER_DRAWS: u32 = 2;
// The draw is found by the search that checks and expiries share, which looks this far at most.
const _: () = assert!(MAX_LATER_DRAWS <= crate::audit::CHECK_SLIDE);

/// What a submission's weight depends on, besides its input's size.
pub(crate) struct SubmissionCost {
	/// Whether it counted the model's eligible operators (the first submission for the model
	/// in its block does; the others read the count).
	pub counted: bool,
	/// How many full draws it passed over, at most [`MAX_LATER_DRAWS`].
	pub later_draws: u32,
	/// How many blocks later than asked its deadline is (each a full expiry queue passed over),
	/// at most [`crate::audit::CHECK_SLIDE`].
	pub later_deadline: u32,
}

/// Why a payload does not fit a schema.
pub(crate) enum PayloadError {
	/// A remote payload without a URI.
	EmptyUri,
	/// Inline tensors that break the schema.
	Tensor(TensorError),
}

impl<T: Config> Pallet<T> {
	/// Whether the market settles jobs verified as `terms` say: 1, 3 or 5 workers within
	/// `MaxWorkersPerJob`, an audit for one worker only.
	pub fn supports(terms: &VerificationTerms) -> bool {
		terms.is_supported() && terms.replicas <= T::MaxWorkersPerJob::get()
	}

	/// What a job of `model` verified as `terms` say costs now, and how it splits (an audit's
	/// premium is on top of the split); `None` if the model takes no jobs, the terms are
	/// unsupported, or the model's outputs cannot be compared on chain (a quorum's or an
	/// audit's: they do not all fit inline).
	pub fn quote(
		model: &ModelHash,
		terms: &VerificationTerms,
	) -> Option<(PriceOf<T>, BalanceOf<T>)> {
		if !Self::supports(terms) {
			return None;
		}
		let model_terms = T::Models::terms_for_new_job(model)?;
		if terms.commits() && !Self::outputs_fit_inline(&model_terms.schema) {
			return None;
		}
		let (price, cost) = Self::price(&model_terms, terms.replicas);
		let premium =
			if terms.audited { Self::audit_premium(price.per_worker).1 } else { Zero::zero() };
		Some((price, cost.saturating_add(premium)))
	}

	/// The rate at which an audited job of `model` is audited now; `None` if the model takes
	/// no jobs.
	pub fn audit_rate(model: &ModelHash) -> Option<Perbill> {
		let terms = T::Models::terms_for_new_job(model)?;
		Some(Self::audit_premium(terms.price_per_worker).0)
	}

	/// The rate at which a job whose worker is paid `per_worker` is audited, and the premium it
	/// pays into the audit pool for it (the rate times the price: what its audit costs in
	/// expectation).
	pub fn audit_premium(per_worker: BalanceOf<T>) -> (Perbill, BalanceOf<T>) {
		let rate = veritensor_primitives::audit_rate(
			per_worker.unique_saturated_into(),
			T::Workers::max_exposure().unique_saturated_into(),
			T::AuditRateFloor::get(),
		);
		(rate, rate.mul_ceil(per_worker))
	}

	/// The price of a job of `k` workers under `terms`, and its cost: the workers' price, the
	/// royalty, the protocol fee and the result's storage, raised to the minimum fee by the
	/// protocol's share.
	fn price(terms: &ModelTerms<T::AccountId, BalanceOf<T>>, k: u32) -> (PriceOf<T>, BalanceOf<T>) {
		let base =
			terms.price_per_worker.saturating_mul(k.into()).saturating_add(terms.owner_royalty);
		let mut protocol = T::ProtocolFee::get() * base;
		let storage =
			T::ResultBytePrice::get().saturating_mul(Self::result_bytes(&terms.schema).into());
		let mut cost = base.saturating_add(protocol).saturating_add(storage);
		if cost < T::MinFee::get() {
			protocol = protocol.saturating_add(T::MinFee::get().saturating_sub(cost));
			cost = T::MinFee::get();
		}
		let price = Price {
			per_worker: terms.price_per_worker,
			owner: terms.owner.clone(),
			royalty: terms.owner_royalty,
			protocol,
			storage,
			no_show_slash: Self::no_show_slash(terms.price_per_worker),
		};
		(price, cost)
	}

	/// What a worker whose price for a job is `per_worker` is slashed for a no-show: the
	/// multiple of that price, at least the floor, at most an assignment's exposure.
	pub fn no_show_slash(per_worker: BalanceOf<T>) -> BalanceOf<T> {
		per_worker
			.saturating_mul(T::NoShowSlashMultiple::get().into())
			.max(T::NoShowSlashFloor::get())
			.min(T::Workers::max_exposure())
	}

	/// Whether every output tensor of `schema` fits inline: then results must be inline.
	pub(crate) fn outputs_fit_inline(schema: &IoSchema) -> bool {
		schema
			.outputs
			.iter()
			.all(|spec| spec.wire_size().is_some_and(|size| size <= T::MaxInlineTensorBytes::get()))
	}

	/// The most bytes a result of a model with `schema` takes in state: the record's fixed
	/// fields and the largest output the schema allows (inline tensors if they fit, else a
	/// hash and the longest URI).
	pub fn result_bytes(schema: &IoSchema) -> u32 {
		let fixed = ModelHash::max_encoded_len()
			.saturating_add(WorkerId::max_encoded_len())
			.saturating_add(H256::max_encoded_len())
			.saturating_add(sp_core::sr25519::Signature::max_encoded_len())
			.saturating_add(bool::max_encoded_len())
			.saturating_add(BlockNumberFor::<T>::max_encoded_len())
			// The payload's variant.
			.saturating_add(1);
		let output = if Self::outputs_fit_inline(schema) {
			schema.outputs.iter().fold(compact_len(schema.outputs.len() as u32), |sum, spec| {
				let data = spec.wire_size().unwrap_or(u32::MAX);
				// Element type, shape (length and dimensions), fraction bits, data (length and
				// bytes).
				let tensor = 1u32
					.saturating_add(compact_len(spec.shape.len() as u32))
					.saturating_add(4u32.saturating_mul(spec.shape.len() as u32))
					.saturating_add(1)
					.saturating_add(compact_len(data))
					.saturating_add(data);
				sum.saturating_add(tensor)
			})
		} else {
			(H256::max_encoded_len() as u32)
				.saturating_add(compact_len(T::MaxUriLen::get()))
				.saturating_add(T::MaxUriLen::get())
		};
		(fixed as u32).saturating_add(output)
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

	/// Checks and queues a job of `submitter`'s and holds its escrow; says what the
	/// submission's weight depends on.
	pub(crate) fn do_submit(
		submitter: T::AccountId,
		model: ModelHash,
		input: Payload<T>,
		verification: VerificationTerms,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<SubmissionCost, DispatchError> {
		let k = verification.replicas;
		ensure!(Self::supports(&verification), Error::<T>::UnsupportedK);
		let terms = T::Models::terms_for_new_job(&model).ok_or(Error::<T>::ModelNotUsable)?;
		// A quorum or an audit compares outputs on chain: they must travel inline.
		ensure!(
			!verification.commits() || Self::outputs_fit_inline(&terms.schema),
			Error::<T>::QuorumNeedsInlineOutputs
		);
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
		ensure!(
			!verification.commits() || deadline >= T::MinQuorumDeadline::get(),
			Error::<T>::DeadlineTooSoon
		);
		ensure!(deadline <= T::MaxDeadline::get(), Error::<T>::DeadlineTooLate);
		let (price, cost) = Self::price(&terms, k);
		let audit = verification.audited.then(|| {
			let (rate, premium) = Self::audit_premium(price.per_worker);
			Audit::<T> { rate, premium, stage: AuditStage::Working }
		});
		let cost = cost.saturating_add(audit.as_ref().map_or(Zero::zero(), |audit| audit.premium));
		ensure!(max_fee >= cost, Error::<T>::FeeTooLow);
		let (eligible, counted) = Self::eligible_operators(&model);
		// An audit that finds a contradiction needs three referees of operators other than
		// the worker's and the auditor's: without them a cheater could never be slashed.
		let needed = if verification.audited { REFEREES.saturating_add(2) } else { k };
		ensure!(eligible >= needed, Error::<T>::NotEnoughWorkers);

		let job = NextJobId::<T>::get();
		NextJobId::<T>::put(job.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let now = frame_system::Pallet::<T>::block_number();
		let later_draws = Self::later_draws_allowed(deadline, verification.commits());
		let assign_at = Self::queue_for_draw(job, model, now, later_draws)?;
		// A deadline block whose expiries are full moves the job's deadline later, never
		// earlier: its workers keep at least the time asked for.
		let asked = now.saturating_add(deadline);
		let deadline =
			Self::queue_submission_expiry(job, asked).ok_or(Error::<T>::ExpiryQueueFull)?;
		let weighed = SubmissionCost {
			counted,
			later_draws: assign_at
				.saturating_sub(now.saturating_add(T::AssignmentDelay::get().into()))
				.unique_saturated_into(),
			later_deadline: deadline.saturating_sub(asked).unique_saturated_into(),
		};
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
		if let Some(audit) = audit {
			Audits::<T>::insert(job, audit);
		}
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
		Ok(weighed)
	}

	/// How many blocks after its usual one a job's draw may move to when that block's draw is
	/// full: at most [`MAX_LATER_DRAWS`]; no later than the workers' eligibility delay after the
	/// submission's block, so that a worker registered in a later block is never drawn (one
	/// registered in that same block can be, at the latest such draw); and only as far as the
	/// job's `deadline` (relative) exceeds the least allowed for its kind, so that a job still
	/// has its full minimum time after its draw.
	pub(crate) fn later_draws_allowed(deadline: BlockNumberFor<T>, commits: bool) -> u32 {
		let least = if commits { T::MinQuorumDeadline::get() } else { T::MinDeadline::get() };
		let room: u32 = deadline.saturating_sub(least).unique_saturated_into();
		let eligibility_room =
			T::Workers::eligibility_delay().saturating_sub(T::AssignmentDelay::get());
		room.min(eligibility_room).min(MAX_LATER_DRAWS)
	}

	/// Queues `job` of `model` for the first draw, from block `now + AssignmentDelay` and up to
	/// `later_draws` blocks after it, with room for one more job and for its model; returns the
	/// draw's block. A burst of submissions past one draw's bound goes to the next draws instead
	/// of failing after its fees are paid.
	fn queue_for_draw(
		job: JobId,
		model: ModelHash,
		now: BlockNumberFor<T>,
		later_draws: u32,
	) -> Result<BlockNumberFor<T>, Error<T>> {
		let first = now.saturating_add(T::AssignmentDelay::get().into());
		let last = first.saturating_add(later_draws.into());
		Self::first_with_room(first, last, |assign_at| {
			let mut queue = AssignmentQueue::<T>::get(assign_at);
			if queue.try_push(job).is_err() {
				return false;
			}
			let mut models = AssignmentModels::<T>::get(assign_at);
			let counted = match models.iter_mut().find(|(queued, _)| *queued == model) {
				Some((_, jobs)) => {
					jobs.saturating_inc();
					true
				}
				None => models.try_push((model, 1)).is_ok(),
			};
			if counted {
				AssignmentQueue::<T>::insert(assign_at, queue);
				AssignmentModels::<T>::insert(assign_at, models);
			}
			counted
		})
		.ok_or(Error::<T>::AssignmentQueueFull)
	}

	/// Takes a queued job out of the queues of its draw at `assign_at` and of its deadline;
	/// frees its model's place in the draw if it was that model's last job there.
	pub(crate) fn unqueue(job_id: JobId, assign_at: BlockNumberFor<T>, job: &Job<T>) {
		AssignmentQueue::<T>::mutate(assign_at, |queue| queue.retain(|queued| *queued != job_id));
		AssignmentModels::<T>::mutate(assign_at, |models| {
			if let Some((_, jobs)) = models.iter_mut().find(|(model, _)| *model == job.model) {
				jobs.saturating_dec();
			}
			models.retain(|(_, jobs)| *jobs > 0);
		});
		ExpiryQueue::<T>::mutate(job.deadline.saturating_add(1u32.into()), |queue| {
			queue.retain(|queued| *queued != job_id)
		});
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
