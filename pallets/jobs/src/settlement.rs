//! How a job ends and who earns what: answers checked, costs collected, earnings accrued and
//! claimed, escrow refunded. The one place earnings are decided.

use crate::{asset, pallet::*, submission::PayloadError, types::*};
use frame_support::{defensive, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	output_hash,
	traits::{ModelRegistry, Outcome, WorkerStaking},
	JobId, ModelHash, Receipt, TensorError, WorkerId,
};

impl<T: Config> Pallet<T> {
	/// What a settled job of `job` pays in total.
	pub(crate) fn job_cost(job: &Job<T>) -> BalanceOf<T> {
		job.price
			.per_worker
			.saturating_mul(job.k.into())
			.saturating_add(job.price.royalty)
			.saturating_add(job.price.protocol)
	}

	/// Checks and applies one answer from `who`.
	pub(crate) fn accept_answer(who: &T::AccountId, submission: Submission<T>) -> DispatchResult {
		let Submission { job: job_id, worker, answer } = submission;
		let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		let JobState::Assigned { workers, .. } = &job.state else {
			return Err(Error::<T>::NotAssigned.into());
		};
		ensure!(workers.contains(&worker), Error::<T>::NotAssignedWorker);
		ensure!(
			T::Workers::worker_account(&worker).as_ref() == Some(who),
			Error::<T>::NotWorkerAccount
		);
		let exposure = T::Workers::max_exposure();
		match answer {
			Answer::CannotExecute { reason } => {
				T::Workers::note_released(&worker, exposure, Outcome::Failed);
				WorkerJobs::<T>::remove(&worker, job_id);
				Self::refund(job_id, job, Refund::CannotExecute(reason));
			}
			Answer::Output { output, signature } => {
				let schema = T::Models::schema(&job.model).ok_or_else(|| {
					defensive!("a model with open jobs stays registered");
					Error::<T>::ModelNotUsable
				})?;
				let output_hash = Self::check_payload(&output, &schema.outputs, output_hash)
					.map_err(|error| match error {
						PayloadError::EmptyUri => Error::<T>::EmptyUri,
						PayloadError::Tensor(TensorError::CountMismatch) => {
							Error::<T>::OutputCountMismatch
						}
						PayloadError::Tensor(_) => Error::<T>::OutputMismatch,
					})?;
				let receipt = Receipt {
					genesis_hash: frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()),
					job_id,
					model: job.model,
					input_hash: job.input_hash,
					output_hash,
					worker: worker.clone(),
				};
				ensure!(receipt.verify(&signature), Error::<T>::BadReceipt);
				T::Workers::note_released(&worker, exposure, Outcome::Completed);
				WorkerJobs::<T>::remove(&worker, job_id);
				Self::settle(job_id, job, worker, who, output, output_hash)?;
			}
		}
		Ok(())
	}

	/// Pays for a job with an accepted result and stores the result.
	fn settle(
		job_id: JobId,
		job: Job<T>,
		worker: WorkerId,
		worker_account: &T::AccountId,
		output: Payload<T>,
		output_hash: H256,
	) -> DispatchResult {
		let cost = Self::job_cost(&job);
		asset::collect_cost::<T>(&job.submitter, cost)?;
		let refunded = asset::release_escrow::<T>(&job.submitter, job.escrow.saturating_sub(cost))?;
		Self::accrue(worker_account, job.price.per_worker.saturating_mul(job.k.into()));
		Self::accrue(&job.price.owner, job.price.royalty);
		Self::accrue(&T::TreasuryAccount::get(), job.price.protocol);
		let now = frame_system::Pallet::<T>::block_number();
		let single_worker = job.k == 1;
		Results::<T>::insert(
			job_id,
			JobResult {
				model: job.model,
				worker: worker.clone(),
				output: output.clone(),
				output_hash,
				single_worker,
				settled_at: now,
			},
		);
		Self::close(job_id, &job.model);
		Self::deposit_event(Event::Settled {
			job: job_id,
			worker,
			output_hash,
			output,
			single_worker,
			cost,
			refunded,
		});
		Ok(())
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
			reason,
		});
	}

	/// Forgets an ended job and lets its model go.
	fn close(job_id: JobId, model: &ModelHash) {
		Jobs::<T>::remove(job_id);
		Inputs::<T>::remove(job_id);
		T::Models::release(model);
	}

	/// Adds `amount` to what `who` may claim.
	fn accrue(who: &T::AccountId, amount: BalanceOf<T>) {
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
