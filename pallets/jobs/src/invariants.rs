//! The pallet's invariants, checked by `try_state` and after every unit test.

use crate::{asset, pallet::*, types::*};
use alloc::collections::BTreeMap;
use frame_support::pallet_prelude::*;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::traits::WorkerStaking;

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants:
	/// - every submitter's escrow hold equals the escrow of its open jobs;
	/// - every open job has an input, is in its queue or has registered workers noted as
	///   assigned to it, and has no result yet; a job marked remote has a remote input;
	/// - the pallet's account holds at least everything claimable.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (job_id, job) in Jobs::<T>::iter() {
			let sum = escrow.entry(job.submitter.clone()).or_default();
			*sum = sum.saturating_add(job.escrow);
			let input = Inputs::<T>::get(job_id).ok_or("an open job without input")?;
			// Jobs submitted before the mark existed have none; they close within a deadline.
			ensure!(
				!RemoteInputs::<T>::contains_key(job_id) || matches!(input, Payload::Remote { .. }),
				"a job marked remote has an inline input"
			);
			ensure!(!Results::<T>::contains_key(job_id), "a job both open and settled");
			ensure!(job.escrow >= Self::job_cost(&job), "an escrow below the job's cost");
			match &job.state {
				JobState::Queued { assign_at } => ensure!(
					AssignmentQueue::<T>::get(assign_at).contains(&job_id),
					"a queued job missing from its queue"
				),
				JobState::Assigned { workers, .. } => {
					for worker in workers {
						ensure!(
							T::Workers::worker_account(worker).is_some(),
							"an assignment of an unregistered worker"
						);
						ensure!(
							WorkerJobs::<T>::contains_key(worker, job_id),
							"an assignment missing from the worker's list"
						);
					}
				}
			}
		}
		for (submitter, sum) in &escrow {
			let held = asset::escrow_held::<T>(submitter);
			ensure!(held == *sum, "escrow held differs from open jobs' escrow");
		}
		for (worker, job_id, ()) in WorkerJobs::<T>::iter() {
			let job = Jobs::<T>::get(job_id).ok_or("an assignment of a closed job")?;
			let assigned = matches!(&job.state, JobState::Assigned { workers, .. } if workers.contains(&worker));
			ensure!(assigned, "an assignment the job does not name");
		}
		let claimable = Claimable::<T>::iter_values()
			.fold(BalanceOf::<T>::zero(), |sum, amount| sum.saturating_add(amount));
		ensure!(
			asset::pot_balance::<T>() >= claimable,
			"the pallet's account holds less than is claimable"
		);
		Ok(())
	}
}
