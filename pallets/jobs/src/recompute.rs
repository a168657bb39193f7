//! Challenges the runtime settles itself.
//!
//! A model listed as executable is one the runtime runs (see `pallet-models`): its exact rule
//! pins the interpreter, so the output any honest worker computes is the runtime's. A challenge
//! of such a model's provisional result, whose input is inline (stored for the dispute window),
//! needs no referees: the runtime runs the model on the stored input in the challenge's own
//! call and compares the canonical hashes.
//!
//! - **different** (the worker is wrong): the worker is slashed an assignment's exposure, the
//!   bounty to the challenger; the submitter gets all it paid back and the runtime's output; the
//!   call is free (the worker's slash pays for the resolution);
//! - **the same** (the worker is right): the result is final at once (its earnings accrue now,
//!   not at the window's end), and the challenger pays the call's weight, the run included, and
//!   forfeits the minimum fee to the treasury, so a challenge against an honest worker is
//!   always a loss.
//!
//! A run that fails (the model's bound was lowered under it since its listing, or its inputs
//! make the interpreter fail as they would any worker's) leaves the challenge to referees, as
//! for any other model.

use crate::{asset, pallet::*, types::*, WeightInfo};
use frame_support::{pallet_prelude::*, weights::Weight};
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	output_hash,
	traits::{ExecutionError, ModelRegistry, SlashAmount, SlashReason, WorkerStaking},
	JobId,
};

impl<T: Config> Pallet<T> {
	/// The weight a challenge declares before it knows its model: a settlement by a run of the
	/// costliest model the runtime may run (the referees' path weighs less).
	pub fn challenge_weight_bound() -> Weight {
		T::WeightInfo::challenge().max(Self::recompute_weight(T::Models::max_execution_weight()))
	}

	/// The weight of a challenge settled by a run weighing `execution`: the challenge's checks
	/// and hold, a won challenge's decision (slash, refund and replaced result, a superset of
	/// what follows a run: no referees to pay), and the run, measured per unit of the
	/// interpreter's cost model in `pallet-models`.
	pub fn recompute_weight(execution: Weight) -> Weight {
		T::WeightInfo::challenge()
			.saturating_add(T::WeightInfo::decide_challenge())
			.saturating_add(execution)
	}

	/// Runs `job_id`'s model on its stored inline input, as the referee of a challenge.
	pub(crate) fn recompute(
		job_id: JobId,
		provisional: &Provisional<T>,
	) -> Result<InlineTensors<T>, ExecutionError> {
		let Some(Payload::Inline(inputs)) = Inputs::<T>::get(job_id) else {
			return Err(ExecutionError::BadInput);
		};
		let outputs = T::Models::execute(&provisional.job.model, &inputs)?;
		InlineTensors::<T>::try_from(outputs).map_err(|_| ExecutionError::Failed)
	}

	/// Settles `challenger`'s challenge of `job_id`'s provisional result (whose canonical hash
	/// is `worker_hash`) on the runtime's `outputs` (see the module's docs). The challenger's
	/// minimum fee is held. Returns whether the challenge won.
	pub(crate) fn settle_by_recomputation(
		challenger: T::AccountId,
		job_id: JobId,
		provisional: Provisional<T>,
		worker_hash: H256,
		outputs: InlineTensors<T>,
	) -> Result<bool, DispatchError> {
		let recomputed_hash = output_hash(&outputs);
		let upheld = recomputed_hash == worker_hash;
		let fee = T::MinFee::get();
		let model = provisional.job.model;
		let worker = provisional.worker.clone();
		let (returned, reward) = if upheld {
			let forfeited =
				Challenge { challenger: challenger.clone(), deposit: fee, claimed: worker_hash };
			let returned = Self::return_deposit_less_fee(&forfeited)?;
			Self::drop_input(job_id, &model);
			Self::make_final(job_id, provisional);
			(returned, Zero::zero())
		} else {
			let pool_before = asset::pool_balance::<T>();
			let _ = T::Workers::slash_operator(
				&provisional.operator,
				&worker,
				SlashAmount::Fixed(T::Workers::max_exposure()),
				SlashReason::WrongResult,
				Some(Self::audit_pool()),
			)
			.inspect_err(|_| {
				log!(warn, "challenge of job {job_id}: the worker's operator is gone");
			});
			let bounty = asset::pool_balance::<T>().saturating_sub(pool_before);
			let reward = asset::draw_from_pool::<T>(bounty);
			Self::accrue(&challenger, reward);
			let refunded = Self::refund_submitter(&provisional);
			Results::<T>::mutate(job_id, |result| {
				if let Some(result) = result {
					// The replaced worker stays named (see `Overturned`).
					result.output = Payload::Inline(outputs);
					result.output_hash = recomputed_hash;
					result.single_worker = false;
				}
			});
			Overturned::<T>::insert(job_id, worker.clone());
			Provisionals::<T>::remove(job_id);
			Self::drop_input(job_id, &model);
			let returned = asset::release_deposit::<T>(&challenger, fee)?;
			Self::deposit_event(Event::Overturned { job: job_id, worker, refunded });
			(returned, reward)
		};
		Self::deposit_event(Event::Recomputed {
			job: job_id,
			challenger: challenger.clone(),
			output_hash: recomputed_hash,
			upheld,
		});
		Self::deposit_event(Event::ChallengeEnded {
			job: job_id,
			challenger,
			won: !upheld,
			returned,
			reward,
		});
		Ok(!upheld)
	}
}
