//! The per-block work of the hooks: jobs drawn and expired when due, old results pruned, and
//! the weight all of it takes.

use crate::{pallet::*, types::*, WeightInfo};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;
use veritensor_primitives::{
	traits::{Outcome, SlashAmount, SlashReason, WorkerStaking},
	JobId,
};

impl<T: Config> Pallet<T> {
	/// The hooks' work at block `now`: note the parent's VRF output, expire what is due, draw
	/// the workers of what is due, prune old results. Returns the weight used.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		Self::record_parent_vrf();
		let expired = Self::expire_due(now);
		let (assigned, models) = Self::assign_due(now);
		let visited = Self::prune_results(now);
		let mut weight = T::WeightInfo::on_initialize_base();
		if expired > 0 {
			weight.saturating_accrue(T::WeightInfo::expire_jobs(expired));
		}
		if assigned > 0 {
			// `assign_jobs` covers one model's candidates; each further model reads its own.
			weight.saturating_accrue(T::WeightInfo::assign_jobs(assigned));
			weight.saturating_accrue(
				T::WeightInfo::count_eligible().saturating_mul(models.saturating_sub(1) as u64),
			);
		}
		if visited > 0 {
			weight.saturating_accrue(T::WeightInfo::prune_results(visited));
		}
		weight
	}

	/// Ends the jobs whose deadline passed; returns how many were due.
	pub(crate) fn expire_due(now: BlockNumberFor<T>) -> u32 {
		let expiring = ExpiryQueue::<T>::take(now);
		for job in &expiring {
			Self::expire(*job);
		}
		expiring.len() as u32
	}

	/// Ends a job whose deadline passed without a result: each assigned worker is slashed for a
	/// no-show, the submitter refunded in full.
	fn expire(job_id: JobId) {
		let Some(job) = Jobs::<T>::get(job_id) else { return };
		if let JobState::Assigned { workers, .. } = &job.state {
			let exposure = T::Workers::max_exposure();
			for worker in workers {
				if T::Workers::slash(
					worker,
					SlashAmount::Fixed(T::NoShowSlash::get()),
					SlashReason::NoShow,
					None,
				)
				.is_err()
				{
					log!(warn, "no-show of job {job_id}: worker gone");
				}
				T::Workers::note_released(worker, exposure, Outcome::Missed);
				WorkerJobs::<T>::remove(worker, job_id);
			}
		}
		Self::refund(job_id, job, Refund::Expired);
	}

	/// Removes results older than the retention period, in job order, at most
	/// `MaxPrunedPerBlock` ids a block. Returns how many ids it looked at.
	pub(crate) fn prune_results(now: BlockNumberFor<T>) -> u32 {
		let mut cursor = PruneCursor::<T>::get();
		let next = NextJobId::<T>::get();
		let mut visited = 0;
		while visited < T::MaxPrunedPerBlock::get() && cursor < next {
			if let Some(result) = Results::<T>::get(cursor) {
				if result.settled_at.saturating_add(T::ResultRetention::get()) > now {
					break;
				}
				Results::<T>::remove(cursor);
			} else if Results::<T>::contains_key(cursor) {
				// Stored in an older format it can no longer be read in (see `migrations::v1`).
				Results::<T>::remove(cursor);
			} else if Jobs::<T>::contains_key(cursor) {
				break;
			}
			cursor = cursor.saturating_add(1);
			visited += 1;
		}
		PruneCursor::<T>::put(cursor);
		visited
	}
}
