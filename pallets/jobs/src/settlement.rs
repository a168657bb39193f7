//! How a job ends and who earns what: answers checked, costs collected, earnings accrued and
//! claimed, escrow refunded. The one place earnings are decided.

use crate::{
	answers::{Checked, CheckedAnswer, CheckedFinding},
	asset,
	pallet::*,
	types::*,
};
use frame_support::{defensive, pallet_prelude::*, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	traits::{ModelRegistry, Outcome, WorkerStaking},
	JobId, ModelHash, WorkerId,
};

/// An accepted output, as settlement stores it.
pub(crate) struct Settlement<T: Config> {
	pub worker: WorkerId,
	pub output: Payload<T>,
	pub output_hash: H256,
	pub signature: sp_core::sr25519::Signature,
}

impl<T: Config> Pallet<T> {
	/// What a settled job of `job` pays in total.
	pub(crate) fn job_cost(job: &Job<T>) -> BalanceOf<T> {
		job.price
			.per_worker
			.saturating_mul(job.k.into())
			.saturating_add(job.price.royalty)
			.saturating_add(job.price.protocol)
			.saturating_add(job.price.storage)
	}

	/// Applies a checked answer of `worker`, whose earnings accrue to `payee`. Returns the
	/// weight of the quorum decision it made, if any.
	pub(crate) fn accept_answer(
		worker: &WorkerId,
		payee: &T::AccountId,
		checked: CheckedAnswer<T>,
	) -> Result<Option<Weight>, DispatchError> {
		let CheckedAnswer { job_id, job, kind } = checked;
		let finding = match kind {
			Checked::Direct(finding) => finding,
			Checked::Commit { member, commitment } => {
				Self::note_commitment(job_id, worker, member, commitment)?;
				return Ok(None);
			}
			Checked::Reveal { member, revealed, .. } => {
				return Self::note_reveal(job_id, job, worker, member, revealed);
			}
		};
		let exposure = T::Workers::max_exposure();
		if !RemoteInputs::<T>::contains_key(job_id) {
			let refused = matches!(finding, CheckedFinding::CannotExecute { .. });
			T::Workers::note_answer(worker, &job.model, refused);
		}
		match finding {
			CheckedFinding::CannotExecute { reason } => {
				T::Workers::note_released(worker, exposure, Outcome::Failed);
				WorkerJobs::<T>::remove(worker, job_id);
				// The job took a place in a draw and a worker's time: it costs the minimum fee,
				// so that jobs made to fail (an input server that refuses) are not free.
				let kept = Self::minimum_charge(&job);
				Self::refund_keeping(job_id, job, Refund::CannotExecute(reason), kept)?;
			}
			CheckedFinding::Output { output, output_hash, signature } => {
				T::Workers::note_released(worker, exposure, Outcome::Completed);
				WorkerJobs::<T>::remove(worker, job_id);
				let signature = signature.into();
				let answer = Settlement { worker: worker.clone(), output, output_hash, signature };
				let earner = Earner {
					worker: worker.clone(),
					operator: T::Workers::operator(worker).ok_or(Error::<T>::NotWorkerAccount)?,
					payee: payee.clone(),
				};
				Self::settle_provisionally(job_id, job, alloc::vec![earner], answer)?;
			}
		}
		Ok(None)
	}

	/// Pays for a job with an accepted result and stores the result: each of `payees` (one per
	/// worker paid) earns the per-worker price, the owner its royalty, the treasury the
	/// protocol fee and the storage charge; unpaid workers' shares go back to the submitter.
	pub(crate) fn settle(
		job_id: JobId,
		job: Job<T>,
		payees: &[T::AccountId],
		answer: Settlement<T>,
	) -> DispatchResult {
		let cost = Self::held_cost(&job, payees.len() as u32);
		asset::collect_cost::<T>(&job.submitter, cost)?;
		let premium = Audits::<T>::get(job_id).map_or_else(Zero::zero, |audit| audit.premium);
		asset::collect_premium::<T>(&job.submitter, premium)?;
		let cost = cost.saturating_add(premium);
		let refunded = asset::release_escrow::<T>(&job.submitter, job.escrow.saturating_sub(cost))?;
		for payee in payees {
			Self::accrue(payee, job.price.per_worker);
		}
		Self::accrue(&job.price.owner, job.price.royalty);
		Self::accrue_chain_fees(&job.price);
		let single_worker = job.k == 1;
		Self::record_result(job_id, &job.model, answer, single_worker, cost, refunded, None);
		Ok(())
	}

	/// Stores `answer` as a job's result and returns the whole escrow to its submitter: the
	/// job's own workers were overturned by its referees, whose output the submitter gets for
	/// nothing.
	pub(crate) fn settle_free(job_id: JobId, job: Job<T>, answer: Settlement<T>) -> DispatchResult {
		let refunded = asset::release_escrow::<T>(&job.submitter, job.escrow)?;
		Self::record_result(job_id, &job.model, answer, false, Zero::zero(), refunded, None);
		Ok(())
	}

	/// Stores a settled job's result for the retention period, closes the job and reports it:
	/// the submitter paid `cost` and got `refunded` back. A provisional result's job keeps its
	/// input and its model until `provisional_until`.
	pub(crate) fn record_result(
		job_id: JobId,
		model: &ModelHash,
		answer: Settlement<T>,
		single_worker: bool,
		cost: BalanceOf<T>,
		refunded: BalanceOf<T>,
		provisional_until: Option<BlockNumberFor<T>>,
	) {
		let Settlement { worker, output, output_hash, signature } = answer;
		let now = frame_system::Pallet::<T>::block_number();
		Results::<T>::insert(
			job_id,
			JobResult {
				model: *model,
				worker: worker.clone(),
				output,
				output_hash,
				signature,
				single_worker,
				settled_at: now,
			},
		);
		Self::queue_for_pruning(job_id, now);
		match provisional_until {
			Some(_) => Self::close_keeping_input(job_id),
			None => Self::close(job_id, model),
		}
		Self::deposit_event(Event::Settled {
			job: job_id,
			worker,
			output_hash,
			single_worker,
			cost,
			refunded,
			provisional_until,
		});
	}

	/// Returns a job's whole escrow to its submitter and closes it.
	pub(crate) fn refund(job_id: JobId, job: Job<T>, reason: Refund) {
		let amount =
			asset::release_escrow_up_to::<T>(&job.submitter, job.escrow).unwrap_or_else(|_| {
				defensive!("an open job's escrow is held");
				Zero::zero()
			});
		Self::close(job_id, &job.model);
		Self::deposit_event(Event::Refunded {
			job: job_id,
			submitter: job.submitter,
			amount,
			kept: Zero::zero(),
			reason,
		});
	}

	/// What a job that ends without a result by its submitter's doing (cancelled, or not
	/// executable) still costs: the minimum fee, never more than the job itself.
	pub(crate) fn minimum_charge(job: &Job<T>) -> BalanceOf<T> {
		T::MinFee::get().min(Self::job_cost(job))
	}

	/// Ends a job without a result, keeping `kept` of its escrow for the treasury and returning
	/// the rest to its submitter.
	pub(crate) fn refund_keeping(
		job_id: JobId,
		job: Job<T>,
		reason: Refund,
		kept: BalanceOf<T>,
	) -> DispatchResult {
		asset::collect_cost::<T>(&job.submitter, kept)?;
		Self::accrue(&T::TreasuryAccount::get(), kept);
		let amount = asset::release_escrow::<T>(&job.submitter, job.escrow.saturating_sub(kept))?;
		Self::close(job_id, &job.model);
		Self::deposit_event(Event::Refunded {
			job: job_id,
			submitter: job.submitter,
			amount,
			kept,
			reason,
		});
		Ok(())
	}

	/// Forgets an ended job and lets its model go.
	pub(crate) fn close(job_id: JobId, model: &ModelHash) {
		Self::close_keeping_input(job_id);
		if Referrals::<T>::take(job_id).is_some() {
			// At most one party per member of the job.
			let _ = Parties::<T>::clear_prefix(job_id, T::MaxWorkersPerJob::get(), None);
		}
		Self::drop_input(job_id, model);
	}

	/// Forgets an ended job's record, keeping what a challenge of its result needs: its input
	/// and its hold on its model.
	pub(crate) fn close_keeping_input(job_id: JobId) {
		Jobs::<T>::remove(job_id);
		Audits::<T>::remove(job_id);
	}

	/// Drops a job's input and lets its model go: nothing can ask for them again.
	pub(crate) fn drop_input(job_id: JobId, model: &ModelHash) {
		Inputs::<T>::remove(job_id);
		RemoteInputs::<T>::remove(job_id);
		T::Models::release(model);
	}

	/// Accrues a settled job's protocol fee (the block author's share to it, the rest to the
	/// treasury) and its storage charge (to the treasury).
	pub(crate) fn accrue_chain_fees(price: &PriceOf<T>) {
		let mut treasury = price.protocol.saturating_add(price.storage);
		if let Some(author) = T::BlockAuthor::get() {
			let share = T::AuthorShare::get().mul_floor(price.protocol);
			treasury = treasury.saturating_sub(share);
			Self::accrue(&author, share);
		}
		Self::accrue(&T::TreasuryAccount::get(), treasury);
	}

	/// Adds `amount` to what `who` may claim.
	pub(crate) fn accrue(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		Claimable::<T>::mutate(who, |claimable| {
			*claimable = Some(claimable.unwrap_or_default().saturating_add(amount));
		});
	}

	/// Pays `beneficiary` all it may claim from the pot.
	pub(crate) fn do_claim(beneficiary: T::AccountId) -> DispatchResult {
		let amount = Claimable::<T>::get(&beneficiary).ok_or(Error::<T>::NothingToClaim)?;
		ensure!(!amount.is_zero(), Error::<T>::NothingToClaim);
		asset::pay_out::<T>(&beneficiary, amount).map_err(|_| Error::<T>::ClaimFailed)?;
		Claimable::<T>::remove(&beneficiary);
		Self::deposit_event(Event::Claimed { who: beneficiary, amount });
		Ok(())
	}
}
