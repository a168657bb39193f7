//! The per-block work of the hooks: jobs drawn and expired when due, old results pruned, and
//! the weight all of it takes.

use crate::{
	pallet::*,
	queue::{ChunkedQueue, PositionQueue, Taking},
	types::*,
	WeightInfo,
};
use frame_support::{defensive, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::Saturating;
use veritensor_primitives::{
	traits::{Outcome, SlashAmount, SlashReason, WorkerStaking},
	JobId, WorkerId,
};

/// The queue of results to prune.
pub(crate) type PruneQueueOf<T> =
	ChunkedQueue<PruneChunks<T>, PruneChunkCursor<T>, (JobId, BlockNumberFor<T>)>;

/// The results an upgraded chain still had queued to prune one entry per job.
pub(crate) type UnchunkedPruneQueueOf<T> =
	PositionQueue<PruneQueue<T>, PruneQueueRange<T>, (JobId, BlockNumberFor<T>)>;

impl<T: Config> Pallet<T> {
	/// The hooks' work at block `now`: note the parent's VRF output, expire what is due, draw
	/// the workers of what is due, end dispute windows, make provisional results final, prune
	/// old results. Returns the weight used.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		Self::record_parent_vrf();
		let (due, expired, decided) = Self::expire_due(now);
		let (commit_ends, replacement_models, decided_at_commit_end) =
			Self::end_commit_windows(now);
		let (checks, check_models, checks_ended) = Self::draw_checks(now);
		let (assigned, models) = Self::assign_due(now);
		let disputes = Self::end_disputes(now);
		let finalized = Self::finalize_due(now);
		let (pruned, unchunked) = Self::prune_results(now);
		let mut weight = T::WeightInfo::on_initialize_base();
		weight.saturating_accrue(decided);
		weight.saturating_accrue(decided_at_commit_end);
		weight.saturating_accrue(checks_ended);
		if expired > 0 {
			weight.saturating_accrue(T::WeightInfo::expire_jobs(expired));
		}
		// Most due entries belong to jobs that ended long before their deadline (settled,
		// cancelled, refunded) or wait for a later one: each is one read of `Jobs`, never the
		// slashes and refund `expire_jobs` measures for a job that expires. Without the expired
		// jobs' base, taking the queue's entry is one more write.
		let left_alone = due.saturating_sub(expired);
		if left_alone > 0 {
			let take = if expired == 0 { 1 } else { 0 };
			weight.saturating_accrue(T::DbWeight::get().reads_writes(left_alone.into(), take));
		}
		if commit_ends > 0 {
			// `end_commit_windows` covers one model's candidates; each further model reads its
			// own.
			weight.saturating_accrue(T::WeightInfo::end_commit_windows(commit_ends));
			weight.saturating_accrue(
				T::WeightInfo::count_eligible()
					.saturating_mul(replacement_models.saturating_sub(1) as u64),
			);
		}
		if checks > 0 {
			// `draw_checks` covers one model's candidates; each further model reads its own.
			weight.saturating_accrue(T::WeightInfo::draw_checks(checks));
			weight.saturating_accrue(
				T::WeightInfo::count_eligible()
					.saturating_mul(check_models.saturating_sub(1) as u64),
			);
		}
		if disputes > 0 {
			weight.saturating_accrue(T::WeightInfo::end_disputes(disputes));
		}
		if finalized.taken > 0 {
			// Every entry that made no quorum's result final is weighed as a single worker's
			// result (an entry challenged or gone costs less).
			let singles = finalized.taken.saturating_sub(finalized.quorums);
			if singles > 0 {
				// `finalize_results` releases one model; each further model is written too.
				weight.saturating_accrue(T::WeightInfo::finalize_results(singles));
				let further = finalized.models.saturating_sub(1);
				if further > 0 {
					weight.saturating_accrue(T::WeightInfo::release_models(further));
				}
				// It accrues to one payee and one owner; each further account is written too.
				let further = finalized.accounts.saturating_sub(2);
				if further > 0 {
					weight.saturating_accrue(T::WeightInfo::accrue_earnings(further));
				}
			}
			if finalized.quorums > 0 {
				weight.saturating_accrue(T::WeightInfo::finalize_quorum_results(finalized.quorums));
			}
			// An entry of the queue of one entry per job is one more read and write.
			let unchunked = finalized.unchunked.into();
			weight.saturating_accrue(T::DbWeight::get().reads_writes(unchunked, unchunked));
		}
		if assigned > 0 {
			// `assign_jobs` covers one model's candidates; each further model reads its own.
			weight.saturating_accrue(T::WeightInfo::assign_jobs(assigned));
			weight.saturating_accrue(
				T::WeightInfo::count_eligible().saturating_mul(models.saturating_sub(1) as u64),
			);
		}
		// `on_initialize_base` reads the prune queue's cursor; each result pruned costs more.
		if pruned > 0 {
			weight.saturating_accrue(T::WeightInfo::prune_results(pruned));
			// An entry of the queue of one entry per job is one more read and write.
			weight.saturating_accrue(
				T::DbWeight::get().reads_writes(unchunked.into(), unchunked.into()),
			);
		}
		weight
	}

	/// Ends the jobs whose deadline passed; returns how many entries were due, how many of
	/// them expired here (the rest were left as they are), and the weight of the quorums this
	/// decided.
	pub(crate) fn expire_due(now: BlockNumberFor<T>) -> (u32, u32, Weight) {
		let expiring = ExpiryQueue::<T>::take(now);
		// The start of a sum: each term added below is a benchmarked decision weight.
		let mut decided = Weight::zero();
		let mut expired = 0u32;
		for job in &expiring {
			if let Some(weight) = Self::expire(*job) {
				decided.saturating_accrue(weight);
				expired.saturating_inc();
			}
		}
		(expiring.len() as u32, expired, decided)
	}

	/// Ends a job whose deadline passed without a result: each assigned worker is slashed for a
	/// no-show, the submitter refunded in full. A quorum job is decided with what its members
	/// revealed (see [`crate::quorum`]); a disputed one waits for its dispute window. Returns
	/// what the expiry weighs beyond `expire_jobs`, whose benchmark expires every job with its
	/// no-show slashes and refund: a quorum's decision, or a referral's ending; nothing else.
	/// `None` where the job is left as it is (gone, disputed, or with a later deadline): only
	/// its read, which the caller weighs.
	fn expire(job_id: JobId) -> Option<Weight> {
		let job = Jobs::<T>::get(job_id)?;
		if matches!(job.state, JobState::Disputed { .. }) {
			// Its dispute window decides it.
			return None;
		}
		// An escalated job's deadline moved to its referees' and was queued again.
		let now = frame_system::Pallet::<T>::block_number();
		if job.deadline.saturating_add(1u32.into()) != now {
			// Its later expiry decides it.
			return None;
		}
		if Quorums::<T>::contains_key(job_id) {
			return Some(Self::expire_quorum(job_id, job));
		}
		if matches!(job.state, JobState::Escalated { .. }) {
			// Never: the referees are drawn long before their deadline.
			defensive!("an escalated job's referees are drawn before its deadline");
			let ending = Referrals::<T>::get(job_id)
				.map(|referral| Self::unresolved_ending_weight(&referral));
			Self::end_unresolved(job_id, job);
			return Some(ending.unwrap_or_else(T::WeightInfo::decide_challenge));
		}
		if let JobState::Assigned { workers, .. } = &job.state {
			for worker in workers {
				Self::slash_no_show(job_id, &job, worker);
			}
		}
		Self::refund(job_id, job, Refund::Expired);
		// The slashes and the refund are what `expire_jobs` measures for every job.
		Some(Weight::zero())
	}

	/// Slashes `worker` for not answering `job_id` (the no-show slash fixed at submission) and
	/// ends its assignment.
	pub(crate) fn slash_no_show(job_id: JobId, job: &Job<T>, worker: &WorkerId) {
		let slash = SlashAmount::Fixed(job.price.no_show_slash);
		if T::Workers::slash(worker, slash, SlashReason::NoShow, None).is_err() {
			log!(warn, "no-show of job {job_id}: worker gone");
		}
		T::Workers::note_released(worker, T::Workers::max_exposure(), Outcome::Missed);
		WorkerJobs::<T>::remove(worker, job_id);
	}

	/// Queues `job`'s decided quorum to have its dispute window closed (slashes applied, a
	/// dispute refunded) when the window ends, in the order decided.
	pub(crate) fn queue_dispute_end(job: JobId) {
		DisputeQueueRange::<T>::mutate(|(_, next)| {
			DisputeQueue::<T>::insert(*next, job);
			next.saturating_inc();
		});
	}

	/// Queues the result of a job settled at block `settled_at` (now, or earlier in a
	/// migration) to be pruned once its retention ends.
	pub(crate) fn queue_for_pruning(job: JobId, settled_at: BlockNumberFor<T>) {
		PruneQueueOf::<T>::push((job, settled_at));
	}

	/// Removes the results whose retention has ended, oldest first, at most
	/// `MaxPrunedPerBlock` a block. Results are queued in settlement order, so the first one
	/// still within its retention ends the work (whatever the retention is, even after an
	/// upgrade changes it). Returns how many were removed, and how many of them came from the
	/// queue of one entry per job.
	pub(crate) fn prune_results(now: BlockNumberFor<T>) -> (u32, u32) {
		let retention = T::ResultRetention::get();
		let limit = T::MaxPrunedPerBlock::get();
		let mut prune = |(job, settled_at): (JobId, BlockNumberFor<T>)| {
			if settled_at.saturating_add(retention) > now {
				return Taking::NotDue;
			}
			Self::forget_result(job);
			Taking::Taken
		};
		let unchunked = UnchunkedPruneQueueOf::<T>::take_due(limit, &mut prune);
		// While older results wait there, none of the chunks' is due.
		let chunked = if UnchunkedPruneQueueOf::<T>::is_empty() {
			PruneQueueOf::<T>::take_due(limit.saturating_sub(unchunked), &mut prune)
		} else {
			0
		};
		(unchunked.saturating_add(chunked), unchunked)
	}

	/// Forgets a job's result and what was kept with it.
	fn forget_result(job: JobId) {
		Results::<T>::remove(job);
		Decisions::<T>::remove(job);
		Appeals::<T>::remove(job);
		Overturned::<T>::remove(job);
	}
}
