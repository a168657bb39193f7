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
//!
//! A contradicted audit or a split quorum of such a model is escalated to referees as any
//! other, but until its referees are drawn anyone may settle it at once with
//! [`Pallet::settle_by_execution`]: the runtime's output takes the referees' place. Each party
//! whose output differs is slashed; the job settles on a party's output that equals the
//! runtime's (its signed receipt holds), else the submitter gets the runtime's output for
//! nothing. The call is free when it catches a party, and the caller pays its weight when it
//! does not (a split that was nobody's fault). The referees stay the fallback when nobody calls.

use crate::audit::Decided;
use crate::{asset, pallet::*, types::*, WeightInfo};
use alloc::vec::Vec;
use frame_support::{
	dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo, WithPostDispatchInfo},
	pallet_prelude::*,
	weights::Weight,
};
use sp_core::H256;
use sp_runtime::traits::Zero;
use veritensor_primitives::{
	output_hash,
	quorum::{judge, Ballot, Verdict},
	tensor::MAX_TENSORS,
	traits::{ExecutionError, ModelRegistry},
	ComparisonRule, JobId, WorkerId,
};

/// What [`Pallet::run_as_referee`] did.
pub(crate) enum RefereeRun<T: Config> {
	/// Nothing: the runtime does not run the model, or the job's input is remote.
	NotRun,
	/// A run of this weight failed.
	Failed(Weight),
	/// A run of this weight gave these outputs.
	Ran(Weight, InlineTensors<T>),
}

impl<T: Config> Pallet<T> {
	/// The weight a challenge declares before it knows its model: a settlement by a run of the
	/// costliest model the runtime may run (the referees' path weighs less).
	pub fn challenge_weight_bound() -> Weight {
		let most = Self::largest_inline_output();
		T::WeightInfo::challenge()
			.max(Self::recompute_weight(T::Models::max_execution_weight(), most))
	}

	/// The most bytes an inline output holds.
	fn largest_inline_output() -> u32 {
		T::MaxInlineTensorBytes::get().saturating_mul(MAX_TENSORS)
	}

	/// The weight of a challenge settled by a run weighing `execution`, the worker's output
	/// `bytes` long: the challenge's checks and hold, a won challenge's decision (slash, refund
	/// and replaced result, a superset of what follows a run: no referees to pay), the run
	/// (measured per unit of the interpreter's cost model in `pallet-models`), and the
	/// comparison of the run's output with the worker's.
	pub fn recompute_weight(execution: Weight, bytes: u32) -> Weight {
		T::WeightInfo::challenge()
			.saturating_add(T::WeightInfo::decide_challenge())
			.saturating_add(Self::runtime_judgement_weight(1, bytes))
			.saturating_add(execution)
	}

	/// What judging `parties` findings of at most `bytes` against the runtime's output adds to
	/// a decision benchmarked with referees: reading the job's input, hashing the runtime's
	/// output and comparing it with each party's (two comparisons' worth each).
	pub(crate) fn runtime_judgement_weight(parties: u32, bytes: u32) -> Weight {
		let comparisons = parties.saturating_add(1).saturating_mul(2);
		T::WeightInfo::compare_outputs(bytes)
			.saturating_mul(comparisons.into())
			.saturating_add(T::DbWeight::get().reads(1))
	}

	/// The weight of a run of `job_id`'s `model` if the runtime can settle its disputes itself:
	/// it runs the model and the job's input is inline.
	pub(crate) fn runnable(
		job_id: JobId,
		model: &veritensor_primitives::ModelHash,
	) -> Option<Weight> {
		T::Models::execution_weight(model)
			.filter(|_| matches!(Inputs::<T>::get(job_id), Some(Payload::Inline(_))))
	}

	/// The weight [`Pallet::appeal`] declares: an appeal settled by the costliest run.
	pub fn appeal_weight_bound() -> Weight {
		let bound = Self::appeal_recompute_weight(
			T::Models::max_execution_weight(),
			T::MaxWorkersPerJob::get(),
			Self::largest_inline_output(),
		);
		T::WeightInfo::appeal().max(bound)
	}

	/// The weight of an appeal of `parties` kept findings of at most `bytes`, settled by a run
	/// weighing `execution`: the appeal's checks, the decision of an appeal (its largest
	/// quorum's slashes and refund; no referees to pay), the run, and the parties' comparison
	/// with the run's output.
	pub fn appeal_recompute_weight(execution: Weight, parties: u32, bytes: u32) -> Weight {
		T::WeightInfo::appeal()
			.saturating_add(T::WeightInfo::decide_appeal())
			.saturating_add(Self::runtime_judgement_weight(parties, bytes))
			.saturating_add(execution)
	}

	/// Whether `finding` is an output whose canonical hash is `hash`.
	pub(crate) fn finding_is(finding: &RevealedFinding<T>, hash: H256) -> bool {
		matches!(finding, RevealedFinding::Output { output, .. } if Self::finding_hash(output) == hash)
	}

	/// Runs `job_id`'s `model` as the referee of `who`'s challenge or appeal, if the runtime
	/// runs it and the input is inline, with `who`'s minimum fee held. A run that fails
	/// releases the fee: the referees judge instead.
	pub(crate) fn run_as_referee(
		who: &T::AccountId,
		job_id: JobId,
		model: &veritensor_primitives::ModelHash,
	) -> Result<RefereeRun<T>, DispatchError> {
		let Some(execution) = Self::runnable(job_id, model) else { return Ok(RefereeRun::NotRun) };
		asset::hold_deposit::<T>(who, T::MinFee::get())
			.map_err(|_| Error::<T>::InsufficientDeposit)?;
		match Self::recompute(job_id, model) {
			Ok(outputs) => Ok(RefereeRun::Ran(execution, outputs)),
			Err(error) => {
				log!(info, "job {job_id}: the runtime could not run it ({error:?}), referees will");
				asset::release_deposit::<T>(who, T::MinFee::get())?;
				Ok(RefereeRun::Failed(execution))
			}
		}
	}

	/// The finding a dispute settled by the runtime's `outputs` settles on: a party's own signed
	/// output where one equals the runtime's, else the runtime's output named after `name` (a
	/// party whose signature it carries, which does not match: see `Overturned`).
	pub(crate) fn runtime_canonical(
		parties: &[(WorkerId, RevealedFinding<T>)],
		outputs: &InlineTensors<T>,
		name: &WorkerId,
	) -> (WorkerId, RevealedFinding<T>) {
		let recomputed_hash = output_hash(outputs);
		let signed = |worker: &WorkerId| {
			parties.iter().find_map(|(party, finding)| match finding {
				RevealedFinding::Output { signature, .. } if party == worker => Some(*signature),
				_ => None,
			})
		};
		parties
			.iter()
			.find(|(_, finding)| Self::finding_is(finding, recomputed_hash))
			.cloned()
			.unwrap_or_else(|| {
				let signature = signed(name).unwrap_or_else(|| {
					defensive!("a dispute's named party revealed an output");
					sp_core::sr25519::Signature::from_raw([0; 64])
				});
				let finding =
					RevealedFinding::Output { output: Payload::Inline(outputs.clone()), signature };
				(name.clone(), finding)
			})
	}

	/// Runs `job_id`'s model on its stored inline input, as a referee.
	pub(crate) fn recompute(
		job_id: JobId,
		model: &veritensor_primitives::ModelHash,
	) -> Result<InlineTensors<T>, ExecutionError> {
		let Some(Payload::Inline(inputs)) = Inputs::<T>::get(job_id) else {
			return Err(ExecutionError::BadInput);
		};
		let outputs = T::Models::execute(model, &inputs)?;
		InlineTensors::<T>::try_from(outputs).map_err(|_| ExecutionError::Failed)
	}

	/// The weight [`Pallet::settle_by_execution`] declares: the largest decision (every member
	/// a party, outputs of the most bytes inline) and the costliest run.
	pub fn escalation_settlement_bound() -> Weight {
		let bytes = Self::largest_inline_output();
		Self::escalation_settlement_weight(
			T::MaxWorkersPerJob::get(),
			bytes,
			T::Models::max_execution_weight(),
		)
	}

	/// The weight of settling an escalation of `parties` with outputs of `bytes` by a run
	/// weighing `execution`: the checks (a challenge's, which read as much), the decision of a
	/// quorum of the parties and the runtime as its canonical member, and the run.
	pub(crate) fn escalation_settlement_weight(
		parties: u32,
		bytes: u32,
		execution: Weight,
	) -> Weight {
		T::WeightInfo::challenge()
			.saturating_add(Self::decision_weight(parties.saturating_add(1), bytes))
			.saturating_add(T::DbWeight::get().reads(1))
			.saturating_add(execution)
	}

	/// Settles `job_id`'s escalation by the runtime's run (see the module's docs), at
	/// `caller`'s request.
	pub(crate) fn do_settle_by_execution(
		caller: T::AccountId,
		job_id: JobId,
	) -> DispatchResultWithPostInfo {
		let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		ensure!(matches!(job.state, JobState::Escalated { .. }), Error::<T>::NotEscalated);
		let referral = Referrals::<T>::get(job_id).ok_or(Error::<T>::NotEscalated)?;
		ensure!(
			matches!(referral.cause, RefereeCause::AuditContradicted | RefereeCause::QuorumSplit),
			Error::<T>::NotEscalated
		);
		let execution = Self::runnable(job_id, &job.model).ok_or(Error::<T>::NotRunByTheRuntime)?;
		let parties: Vec<(WorkerId, RevealedFinding<T>)> =
			(0..referral.parties).filter_map(|party| Parties::<T>::get(job_id, party)).collect();
		let largest =
			parties.iter().map(|(_, finding)| Self::finding_bytes(finding)).max().unwrap_or(0);
		// Named, if no party's output is the runtime's, after the first party with an output
		// (an escalation always has one: parties that all cannot execute agree).
		let first_output = parties
			.iter()
			.find(|(_, finding)| matches!(finding, RevealedFinding::Output { .. }))
			.map(|(worker, _)| worker.clone())
			.ok_or(Error::<T>::NotEscalated)?;
		let used = Self::escalation_settlement_weight(referral.parties, largest, execution);
		let outputs = Self::recompute(job_id, &job.model).map_err(|error| {
			log!(info, "job {job_id}: the runtime could not run it ({error:?})");
			Error::<T>::NotRunByTheRuntime.with_weight(used)
		})?;
		let recomputed_hash = output_hash(&outputs);
		let someone_right =
			parties.iter().any(|(_, finding)| Self::finding_is(finding, recomputed_hash));
		let canonical = Self::runtime_canonical(&parties, &outputs, &first_output);
		let replaced = (!someone_right).then_some(first_output);
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, ComparisonRule::ExactHash { .. });
		let caught = parties.iter().any(|(_, finding)| {
			judge(
				&rule,
				pinned,
				&crate::audit::ballot::<T>(finding),
				Some(&Ballot::Output(&outputs)),
			) == Verdict::Wrong
		});
		let decided = Decided {
			canonical,
			ballot: Ballot::Output(&outputs),
			referees: Vec::new(),
			slashed: Vec::new(),
			by_runtime: true,
		};
		Self::judge_parties(job_id, job, &referral, parties, decided)?;
		if let Some(worker) = replaced {
			Overturned::<T>::insert(job_id, worker);
		}
		Self::deposit_event(Event::Recomputed {
			job: job_id,
			challenger: caller,
			output_hash: recomputed_hash,
			upheld: !caught,
		});
		let pays_fee = if caught { Pays::No } else { Pays::Yes };
		Ok(PostDispatchInfo { actual_weight: Some(used), pays_fee })
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
		let mut slashed = Vec::new();
		let (returned, reward) = if upheld {
			let forfeited =
				Challenge { challenger: challenger.clone(), deposit: fee, claimed: worker_hash };
			let returned = Self::return_deposit_less_fee(&forfeited)?;
			Self::drop_input(job_id, &model);
			Self::make_final(job_id, provisional);
			(returned, Zero::zero())
		} else {
			let (taken, bounty) = Self::slash_challenged(job_id, &provisional);
			slashed.push((worker.clone(), taken));
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
		let outcome = RefereeOutcome::Recomputed { upheld };
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
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
