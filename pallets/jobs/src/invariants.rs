//! The pallet's invariants, checked by `try_state` and after every unit test.

use crate::{
	asset,
	challenge::{FinalizeQueueOf, UnchunkedFinalizeQueueOf},
	hooks::{PruneQueueOf, UnchunkedPruneQueueOf},
	pallet::*,
	types::*,
};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::pallet_prelude::*;
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	quorum::Verdict,
	traits::{ModelRegistry, WorkerStaking},
	JobId, ModelHash, WorkerId,
};

impl<T: Config> Pallet<T> {
	/// Checks the pallet's invariants:
	/// - every submitter's escrow hold equals the escrow of its open jobs;
	/// - every open job has an input, is in its queue or has registered workers noted as
	///   assigned to it, and has no result yet; a job marked remote has a remote input;
	/// - every open job is in the expiry queue of its deadline, and its model is registered;
	/// - each model's open jobs, as the registry counts them, are its open jobs here;
	/// - each worker's open assignments, as worker staking counts them, are its `WorkerJobs`;
	/// - each draw's model counts are its queued jobs' models;
	/// - the prune queue holds every result once, in the order their retention ends, and
	///   names only jobs that exist or existed;
	/// - an open quorum has one commitment place per member, reveals only of committed members
	///   after reveals opened, its commit window queued, and its no-shows alone off the
	///   workers' lists; a disputed job has its decision;
	/// - a decided quorum's slashed members keep an open assignment (their exposure) until
	///   the slash is applied, for at most an assignment's exposure;
	/// - a provisional result has its result and its input, an open job exactly while it is
	///   challenged or appealed (then in a referee quorum's hands: one party for a challenge),
	///   a place in the finalize queue until then, and its challenger's deposit held; a
	///   quorum's has its decision, ending with the window, and the findings an appeal judges;
	/// - the pallet's account holds at least everything claimable and every provisional
	///   result's held cost; the audit pool never falls below the existential deposit.
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut disputed = alloc::vec::Vec::new();
		let mut open_per_model: BTreeMap<ModelHash, u32> = BTreeMap::new();
		let mut draws: BTreeMap<_, BTreeMap<ModelHash, u32>> = BTreeMap::new();
		for (job_id, job) in Jobs::<T>::iter() {
			let sum = escrow.entry(job.submitter.clone()).or_default();
			*sum = sum.saturating_add(job.escrow);
			*open_per_model.entry(job.model).or_default() += 1;
			ensure!(T::Models::schema(&job.model).is_some(), "an open job of an unknown model");
			// A disputed job outlives its deadline: its dispute window ends it.
			ensure!(
				matches!(job.state, JobState::Disputed { .. })
					|| ExpiryQueue::<T>::get(job.deadline.saturating_add(1u32.into()))
						.contains(&job_id),
				"an open job missing from its expiry queue"
			);
			if let JobState::Queued { assign_at } = &job.state {
				*draws.entry(*assign_at).or_default().entry(job.model).or_default() += 1;
			}
			let input = Inputs::<T>::get(job_id).ok_or("an open job without input")?;
			// Jobs submitted before the mark existed have none; they close within a deadline.
			ensure!(
				!RemoteInputs::<T>::contains_key(job_id) || matches!(input, Payload::Remote { .. }),
				"a job marked remote has an inline input"
			);
			let challenged = Referrals::<T>::get(job_id).is_some_and(|referral| {
				matches!(referral.cause, RefereeCause::Challenged | RefereeCause::Appealed)
			});
			if challenged {
				// Its money is the provisional cost in the pot and the challenger's deposit.
				ensure!(job.escrow.is_zero(), "a challenged job holding escrow");
				ensure!(Provisionals::<T>::contains_key(job_id), "a challenge of no result");
			} else {
				ensure!(!Results::<T>::contains_key(job_id), "a job both open and settled");
				ensure!(job.escrow >= Self::job_cost(&job), "an escrow below the job's cost");
			}
			match &job.state {
				JobState::Queued { assign_at } => ensure!(
					AssignmentQueue::<T>::get(assign_at).contains(&job_id),
					"a queued job missing from its queue"
				),
				JobState::Assigned { workers, .. } => {
					let quorum = Quorums::<T>::get(job_id);
					ensure!(
						quorum.is_some() == Self::commits(job_id, &job),
						"a job that commits without its quorum, or a quorum of a job that does not"
					);
					for (index, worker) in workers.iter().enumerate() {
						ensure!(
							T::Workers::worker_account(worker).is_some(),
							"an assignment of an unregistered worker"
						);
						let listed = WorkerJobs::<T>::contains_key(worker, job_id);
						match &quorum {
							// A quorum's no-show leaves the worker's list once slashed; a member
							// that committed stays until the decision.
							Some(quorum) => ensure!(
								listed
									|| quorum.commitments.get(index).copied().flatten().is_none(),
								"a committed member missing from the worker's list"
							),
							None => ensure!(listed, "an assignment missing from the worker's list"),
						}
					}
					if let Some(quorum) = quorum {
						Self::check_quorum(job_id, &job, workers.len(), &quorum)?;
					}
				}
				JobState::Disputed { until } => {
					let decision =
						Decisions::<T>::get(job_id).ok_or("a dispute without its decision")?;
					ensure!(decision.dispute_end == *until, "a dispute ends off its decision");
					ensure!(
						!Quorums::<T>::contains_key(job_id),
						"a disputed job still open to votes"
					);
					disputed.push(job_id);
				}
				JobState::Escalated { draw_at } => {
					ensure!(Referrals::<T>::contains_key(job_id), "an escalation without referral");
					ensure!(
						CheckQueue::<T>::get(draw_at).contains(&job_id),
						"an escalation missing from its draw's queue"
					);
					ensure!(!Quorums::<T>::contains_key(job_id), "an escalated job open to votes");
				}
			}
			if let Some(audit) = Audits::<T>::get(job_id) {
				ensure!(job.k == 1, "an audit of more than one worker");
				if let AuditStage::Deciding { at } = audit.stage {
					ensure!(
						CheckQueue::<T>::get(at).contains(&job_id),
						"an audit's decision missing from its queue"
					);
				}
			}
		}
		for (submitter, sum) in &escrow {
			let held = asset::escrow_held::<T>(submitter);
			ensure!(held == *sum, "escrow held differs from open jobs' escrow");
		}
		let held_costs = Self::check_provisionals(&mut open_per_model)?;
		for (model, open) in &open_per_model {
			ensure!(
				T::Models::open_jobs(model) == Some(*open),
				"a model's open jobs differ from the registry's count"
			);
		}
		for (block, stored) in AssignmentModels::<T>::iter() {
			let stored: BTreeMap<ModelHash, u32> = stored.into_iter().collect();
			let counted = draws.remove(&block).unwrap_or_default();
			ensure!(stored == counted, "a draw's model counts differ from its queued jobs");
		}
		ensure!(draws.is_empty(), "queued jobs of a draw without model counts");
		for (job_id, _, _) in Reveals::<T>::iter() {
			ensure!(Quorums::<T>::contains_key(job_id), "a reveal of no open quorum");
		}
		for job_id in Quorums::<T>::iter_keys() {
			let job = Jobs::<T>::get(job_id).ok_or("a quorum of no open job")?;
			ensure!(
				matches!(job.state, JobState::Assigned { .. }) && Self::commits(job_id, &job),
				"a quorum of a job that is not an assigned job that commits"
			);
		}
		for job_id in Audits::<T>::iter_keys() {
			ensure!(Jobs::<T>::contains_key(job_id), "an audit of no open job");
		}
		let mut assignments: BTreeMap<WorkerId, u32> = BTreeMap::new();
		// A referee quorum's parties keep their exposure until it decides; a challenged
		// result's worker holds none (its bond stays slashable through the window).
		for (job_id, referral) in Referrals::<T>::iter() {
			ensure!(Jobs::<T>::contains_key(job_id), "a referral of no open job");
			for party in 0..referral.parties {
				let (worker, _) =
					Parties::<T>::get(job_id, party).ok_or("a referral without its party")?;
				// An appeal's first party is the canonical member, paid already; its others are
				// the wrong members, whose slashes wait for the referees.
				let holds = match referral.cause {
					RefereeCause::Challenged => false,
					RefereeCause::Appealed => party > 0,
					RefereeCause::AuditContradicted | RefereeCause::QuorumSplit => true,
				};
				if holds {
					*assignments.entry(worker).or_default() += 1;
				}
			}
			ensure!(
				Parties::<T>::iter_key_prefix(job_id).count() as u32 == referral.parties,
				"parties beyond a referral's count"
			);
		}
		for (job_id, _, _) in Parties::<T>::iter() {
			let appealable =
				Provisionals::<T>::get(job_id).is_some_and(|provisional| provisional.job.k > 1);
			ensure!(
				Referrals::<T>::contains_key(job_id) || appealable,
				"a party of no referral nor appealable result"
			);
		}
		// A decided quorum's slashed members keep their exposure until the dispute window ends.
		let (first, next) = DisputeQueueRange::<T>::get();
		ensure!(first <= next, "the dispute queue's range is reversed");
		let mut last_end = None;
		let mut pending = alloc::collections::BTreeSet::new();
		for position in first..next {
			let job = DisputeQueue::<T>::get(position).ok_or("a gap in the dispute queue")?;
			let decision = Decisions::<T>::get(job).ok_or("a pending dispute without decision")?;
			// In the order decided (the window's length may change with an upgrade).
			ensure!(
				last_end.is_none_or(|last| last <= decision.decided_at),
				"the dispute queue is out of order"
			);
			last_end = Some(decision.decided_at);
			pending.insert(job);
			ensure!(
				decision.slash <= T::Workers::max_exposure(),
				"a deferred slash beyond an assignment's exposure"
			);
			// An appeal's referees release the wrong members' exposure (counted above).
			let appealed = Appeals::<T>::contains_key(job);
			for (worker, verdict) in &decision.verdicts {
				if verdict.is_slashed() && !(appealed && *verdict == Verdict::Wrong) {
					*assignments.entry(worker.clone()).or_default() += 1;
				}
			}
		}
		ensure!(
			DisputeQueue::<T>::iter_keys().count() as u64 == next - first,
			"the dispute queue holds entries outside its range"
		);
		for job in &disputed {
			ensure!(pending.contains(job), "a disputed job missing from the dispute queue");
		}
		for (worker, job_id, ()) in WorkerJobs::<T>::iter() {
			let job = Jobs::<T>::get(job_id).ok_or("an assignment of a closed job")?;
			let assigned = matches!(&job.state, JobState::Assigned { workers, .. } if workers.contains(&worker));
			ensure!(assigned, "an assignment the job does not name");
			*assignments.entry(worker).or_default() += 1;
		}
		for (worker, open) in &assignments {
			ensure!(
				T::Workers::open_assignments(worker) == Some(*open),
				"a worker's open assignments differ from its assigned jobs"
			);
		}
		Self::check_prune_queue()?;
		let claimable = Claimable::<T>::iter_values()
			.fold(BalanceOf::<T>::zero(), |sum, amount| sum.saturating_add(amount));
		ensure!(
			asset::pot_balance::<T>() >= claimable.saturating_add(held_costs),
			"the pallet's account holds less than is claimable and held for provisional results"
		);
		ensure!(
			asset::pool_balance::<T>() >= asset::minimum_balance::<T>(),
			"the audit pool fell below the existential deposit"
		);
		Ok(())
	}

	/// Whether `job`'s workers commit before they reveal: a quorum, an audited job, or a
	/// referee quorum.
	fn commits(job_id: JobId, job: &Job<T>) -> bool {
		job.k > 1 || Audits::<T>::contains_key(job_id) || Referrals::<T>::contains_key(job_id)
	}

	/// The provisional results' part of [`Self::do_try_state`]: counts their hold on their
	/// models into `open_per_model` and returns the costs the pot holds for them.
	fn check_provisionals(
		open_per_model: &mut BTreeMap<ModelHash, u32>,
	) -> Result<BalanceOf<T>, sp_runtime::TryRuntimeError> {
		let mut held = BalanceOf::<T>::zero();
		let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		let mut unchallenged = alloc::collections::BTreeSet::new();
		for (job_id, provisional) in Provisionals::<T>::iter() {
			ensure!(Results::<T>::contains_key(job_id), "a provisional result without its result");
			ensure!(Inputs::<T>::contains_key(job_id), "a provisional result without its input");
			let paid = provisional.earners.len() as u32;
			ensure!(paid >= 1 && paid <= provisional.job.k, "a provisional result's earners");
			held = held.saturating_add(Self::held_cost(&provisional.job, paid));
			let appealable = provisional.job.k > 1;
			if appealable {
				let decision =
					Decisions::<T>::get(job_id).ok_or("a quorum's result without its decision")?;
				ensure!(
					decision.dispute_end == provisional.until,
					"an appeal window off its dispute"
				);
				let wrong =
					decision.verdicts.iter().filter(|(_, verdict)| *verdict == Verdict::Wrong);
				ensure!(
					Parties::<T>::iter_key_prefix(job_id).count() == wrong.count() + 1,
					"an appealable result without the findings its referees would judge"
				);
			}
			match &provisional.challenge {
				Some(challenge) => {
					let referral =
						Referrals::<T>::get(job_id).ok_or("a challenge without its referral")?;
					let expected = if appealable {
						ensure!(Appeals::<T>::contains_key(job_id), "an appeal without its mark");
						RefereeCause::Appealed
					} else {
						ensure!(referral.parties == 1, "a challenge of more than one party");
						RefereeCause::Challenged
					};
					ensure!(referral.cause == expected, "a challenge judged as something else");
					ensure!(Jobs::<T>::contains_key(job_id), "a challenge without its job");
					let sum = deposits.entry(challenge.challenger.clone()).or_default();
					*sum = sum.saturating_add(challenge.deposit);
				}
				None => {
					ensure!(!Jobs::<T>::contains_key(job_id), "an unchallenged result still open");
					*open_per_model.entry(provisional.job.model).or_default() += 1;
					unchallenged.insert(job_id);
				}
			}
		}
		for (challenger, sum) in &deposits {
			ensure!(
				asset::deposit_held::<T>(challenger) == *sum,
				"a challenger's deposit held differs from its open challenges"
			);
		}
		for job_id in Inputs::<T>::iter_keys() {
			ensure!(
				Jobs::<T>::contains_key(job_id) || Provisionals::<T>::contains_key(job_id),
				"an input of neither an open job nor a provisional result"
			);
		}
		let mut last_until = None;
		for (job_id, until) in Self::finalize_queue_entries()? {
			ensure!(last_until.is_none_or(|last| last <= until), "the finalize queue out of order");
			last_until = Some(until);
			if let Some(provisional) = Provisionals::<T>::get(job_id) {
				ensure!(provisional.until == until, "a provisional result queued off its window");
			}
			unchallenged.remove(&job_id);
		}
		ensure!(unchallenged.is_empty(), "a provisional result missing from the finalize queue");
		for job_id in Overturned::<T>::iter_keys() {
			ensure!(Results::<T>::contains_key(job_id), "an overturned result that is gone");
		}
		Ok(held)
	}

	/// The entries of the finalize queue, first to last: those queued one per job, then those
	/// in chunks.
	pub(crate) fn finalize_queue_entries(
	) -> Result<Vec<(JobId, BlockNumberFor<T>)>, sp_runtime::TryRuntimeError> {
		let mut entries = UnchunkedFinalizeQueueOf::<T>::entries()?;
		entries.extend(FinalizeQueueOf::<T>::entries()?);
		Ok(entries)
	}

	/// The entries of the prune queue, first to last: those queued one per job, then those in
	/// chunks.
	pub(crate) fn prune_queue_entries(
	) -> Result<Vec<(JobId, BlockNumberFor<T>)>, sp_runtime::TryRuntimeError> {
		let mut entries = UnchunkedPruneQueueOf::<T>::entries()?;
		entries.extend(PruneQueueOf::<T>::entries()?);
		Ok(entries)
	}

	/// The prune queue's part of [`Self::do_try_state`].
	fn check_prune_queue() -> Result<(), sp_runtime::TryRuntimeError> {
		let next_job = NextJobId::<T>::get();
		let mut last_settled = None;
		let mut queued = alloc::collections::BTreeSet::new();
		for (job, settled_at) in Self::prune_queue_entries()? {
			ensure!(job < next_job, "the prune queue names a job not yet submitted");
			ensure!(
				last_settled.is_none_or(|last| last <= settled_at),
				"the prune queue is out of settlement order"
			);
			ensure!(queued.insert(job), "a job queued twice for pruning");
			last_settled = Some(settled_at);
		}
		for job in Results::<T>::iter_keys() {
			ensure!(queued.contains(&job), "a result not queued for pruning");
		}
		for job in Decisions::<T>::iter_keys() {
			// A split quorum's decision is queued when its referees end the job.
			ensure!(
				queued.contains(&job) || Referrals::<T>::contains_key(job),
				"a quorum decision not queued for pruning"
			);
		}
		for job in &queued {
			ensure!(
				Results::<T>::contains_key(job) || Decisions::<T>::contains_key(job),
				"the prune queue names a job with nothing to prune"
			);
		}
		Ok(())
	}

	/// An open quorum's part of [`Self::do_try_state`]: one commitment place per member,
	/// reveals only of committed members once reveals are open, and a commit window that is
	/// queued to end while commitments are taken.
	fn check_quorum(
		job_id: JobId,
		job: &Job<T>,
		members: usize,
		quorum: &Quorum<T>,
	) -> Result<(), sp_runtime::TryRuntimeError> {
		let expected = if Referrals::<T>::contains_key(job_id) {
			REFEREES
		} else {
			match Audits::<T>::get(job_id).map(|audit| audit.stage) {
				Some(AuditStage::Audited) => 2,
				Some(stage) => {
					ensure!(
						!quorum.reveals_open || stage == AuditStage::Unaudited,
						"an audited worker's reveals open before its audit's decision"
					);
					1
				}
				None => job.k,
			}
		};
		ensure!(
			quorum.commitments.len() == members && members as u32 == expected,
			"a quorum's commitments do not match its members"
		);
		for (member, _) in Reveals::<T>::iter_prefix(job_id) {
			ensure!(quorum.reveals_open, "a reveal before reveals opened");
			let committed = quorum.commitments.get(member as usize).copied().flatten().is_some();
			ensure!(committed, "a reveal without a commitment");
		}
		let deciding = Audits::<T>::get(job_id)
			.is_some_and(|audit| matches!(audit.stage, AuditStage::Deciding { .. }));
		if !quorum.reveals_open && !deciding {
			ensure!(
				CommitQueue::<T>::get(quorum.commit_end).contains(&job_id),
				"an open commit window missing from its queue"
			);
			ensure!(
				quorum.commit_end > frame_system::Pallet::<T>::block_number(),
				"a commit window past its end"
			);
		} else if let JobState::Assigned { workers, .. } = &job.state {
			// Once reveals are open, a member without a commitment was released as a no-show.
			for (index, worker) in workers.iter().enumerate() {
				let committed = quorum.commitments.get(index).copied().flatten().is_some();
				ensure!(
					committed || !WorkerJobs::<T>::contains_key(worker, job_id),
					"a no-show still holds its assignment after reveals opened"
				);
			}
		}
		Ok(())
	}
}
