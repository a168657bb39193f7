//! Quorum jobs (k of 3 or 5): each member commits blind, then reveals, and the runtime compares
//! the revealed findings under the model's comparison rule (see
//! [`veritensor_primitives::quorum`]).
//!
//! 1. At the draw the quorum opens: members commit until [`Quorum::commit_end`]
//!    ([`Config::CommitWindow`] blocks).
//! 2. Reveals open when every member has committed, or at the commit window's end. Then members
//!    that have not committed are no-shows: slashed the job's no-show slash and, once and only
//!    if the deadline leaves another commit window and the reveal window, replaced by a fresh
//!    draw (of operators not in the quorum), who get a commit window of their own.
//! 3. Members reveal until the deadline; the quorum is decided as soon as every committed
//!    member has revealed, or when the deadline passes.
//! 4. The decision pays the members that agree with the canonical answer, returns the other
//!    shares to the submitter, and records the slashes (`Wrong`, `Unrevealed`: an assignment's
//!    full exposure each), applied when the dispute window ends; their exposure stays covered
//!    until then. A `Wrong` member may appeal meanwhile (see `appeal.rs`), so such a result
//!    settles provisionally: the agreeing members' earnings accrue at the window's end. No
//!    strict majority among revealed findings: the job goes to a referee quorum (see
//!    `audit.rs`). The quorum's own slashes go to the treasury (those an appeal's referees
//!    decide, to the audit pool, which pays them): agreeing members earn nothing from them, so
//!    that colluders gain nothing by outvoting an honest minority.
//!
//! The functions here return the weight of the decisions they made, zero when they made none:
//! their own work is weighed by the callers' benchmarks (`end_commit_windows`, `expire_jobs`).

use crate::{pallet::*, settlement::Settlement, types::*};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{defensive, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	output_hash,
	quorum::{decide, Verdict},
	traits::{Outcome, SlashAmount, SlashReason, WorkerStaking},
	ComparisonRule, JobId, WorkerId,
};

/// Domain separator of a replacement draw's randomness.
const REPLACE_DOMAIN: &[u8] = b"veritensor:replace:v1";

impl<T: Config> Pallet<T> {
	/// Opens the quorum of `job`, drawn now with `k` members.
	pub(crate) fn open_quorum(job: JobId, k: u32, now: BlockNumberFor<T>) {
		let commit_end = now.saturating_add(T::CommitWindow::get().into());
		Quorums::<T>::insert(
			job,
			Quorum {
				commit_end,
				reveals_open: false,
				replaced: false,
				commitments: BoundedVec::truncate_from(alloc::vec![None; k as usize]),
			},
		);
		Self::queue_commit_end(job, commit_end);
	}

	/// Queues `job`'s commit window to end at `commit_end`.
	pub(crate) fn queue_commit_end(job: JobId, commit_end: BlockNumberFor<T>) {
		if CommitQueue::<T>::try_mutate(commit_end, |queue| queue.try_push(job)).is_err() {
			// Never full: at most the jobs drawn in one block and those replaced in one block
			// end their window together. The deadline still ends the job.
			defensive!("the commit queue holds every quorum drawn or replaced in a block");
		}
	}

	/// Notes member `member`'s commitment; opens reveals if it was the last.
	pub(crate) fn note_commitment(
		job: JobId,
		worker: &WorkerId,
		member: u32,
		commitment: H256,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		let deadline = Jobs::<T>::get(job).map(|record| record.deadline).unwrap_or(now);
		let quorum = Quorums::<T>::try_mutate(job, |quorum| {
			let quorum = quorum.as_mut().ok_or(Error::<T>::NotQuorumJob)?;
			let slot =
				quorum.commitments.get_mut(member as usize).ok_or(Error::<T>::NotAssignedWorker)?;
			*slot = Some(commitment);
			// An audited worker's reveal waits for the audit's decision.
			if quorum.commitments.iter().all(Option::is_some)
				&& !Self::hold_reveals_for_audit(job, deadline, now)
			{
				quorum.reveals_open = true;
			}
			Ok::<_, DispatchError>(quorum.clone())
		})?;
		Self::deposit_event(Event::Committed { job, worker: worker.clone() });
		if quorum.reveals_open {
			let committed = quorum.commitments.len() as u32;
			Self::deposit_event(Event::RevealsOpened { job, committed });
		}
		Ok(())
	}

	/// Keeps member `member`'s revealed finding; decides the quorum if every committed member
	/// has now revealed. Returns the weight of the decision, if it made one.
	pub(crate) fn note_reveal(
		job_id: JobId,
		job: Job<T>,
		worker: &WorkerId,
		member: u32,
		finding: Finding<T>,
	) -> Result<Option<Weight>, DispatchError> {
		Reveals::<T>::insert(job_id, member, RevealedFinding::from(finding));
		Self::deposit_event(Event::Revealed { job: job_id, worker: worker.clone() });
		let quorum = Quorums::<T>::get(job_id).ok_or(Error::<T>::NotQuorumJob)?;
		let all_revealed = quorum.commitments.iter().enumerate().all(|(index, commitment)| {
			commitment.is_none() || Reveals::<T>::contains_key(job_id, index as u32)
		});
		if !all_revealed {
			return Ok(None);
		}
		Self::decide_quorum(job_id, job).map(Some)
	}

	/// Ends the commit windows due at `now`; returns how many were due, how many models'
	/// candidates their replacements asked for, and the weight of the quorums decided at once
	/// (nobody committed).
	pub(crate) fn end_commit_windows(now: BlockNumberFor<T>) -> (u32, u32, Weight) {
		let due = CommitQueue::<T>::take(now);
		if due.is_empty() {
			// Nothing beyond the caller's benchmarked base, which covers reading the queue.
			return (0, 0, Weight::zero());
		}
		let seed = Self::draw_seed();
		let mut pools = BTreeMap::new();
		// The start of a sum: each term added below is a benchmarked decision weight.
		let mut decided = Weight::zero();
		for job in &due {
			decided.saturating_accrue(Self::end_commit_window(*job, now, &seed, &mut pools));
		}
		(due.len() as u32, pools.len() as u32, decided)
	}

	/// Ends `job_id`'s commit window if it ends now: no-shows slashed and replaced once if the
	/// deadline allows, else reveals opened. Returns what this weighs beyond
	/// `end_commit_windows`, whose benchmark slashes and replaces a no-show of every job: the
	/// quorum's decision if it was decided at once (nobody committed), else nothing.
	fn end_commit_window(
		job_id: JobId,
		now: BlockNumberFor<T>,
		seed: &[u8; 32],
		pools: &mut BTreeMap<veritensor_primitives::ModelHash, Vec<CandidateOf<T>>>,
	) -> Weight {
		// Left as it is (gone, reveals open, a later window, an audit deciding): only reads,
		// within what `end_commit_windows` measures for every job.
		let Some(mut quorum) = Quorums::<T>::get(job_id) else { return Weight::zero() };
		if quorum.reveals_open || quorum.commit_end != now {
			return Weight::zero();
		}
		// An audited worker that committed waits for its audit's decision, which draws the
		// auditor's own commit window or opens reveals.
		if Audits::<T>::get(job_id)
			.is_some_and(|audit| matches!(audit.stage, AuditStage::Deciding { .. }))
		{
			return Weight::zero();
		}
		let Some(mut job) = Jobs::<T>::get(job_id) else { return Weight::zero() };
		let JobState::Assigned { mut workers, at } = job.state.clone() else {
			return Weight::zero();
		};
		let absent = Self::slash_no_shows(job_id, &job, &workers, &quorum);
		// An audited worker's replacement must leave room for its audit too.
		let audit_room = match Audits::<T>::get(job_id) {
			Some(audit) if audit.stage == AuditStage::Working => {
				T::CommitWindow::get().saturating_add(crate::audit::decision_delay::<T>())
			}
			_ => 0,
		};
		let room = now
			.saturating_add(T::CommitWindow::get().into())
			.saturating_add(T::RevealWindow::get().into())
			.saturating_add(audit_room.into());
		if !absent.is_empty() && !quorum.replaced && room <= job.deadline {
			let mut operators = Self::excluded_operators(job_id, &workers);
			let random = sp_io::hashing::blake2_256(&(REPLACE_DOMAIN, seed, job_id).encode());
			let pool = Self::pool(pools, &job.model);
			let fresh = Self::draw_workers(pool, &mut operators, absent.len() as u32, random);
			if !fresh.is_empty() {
				let mut replaced = Vec::new();
				for (slot, worker) in absent.iter().zip(&fresh) {
					if let Some(place) = workers.get_mut(*slot) {
						replaced.push(core::mem::replace(place, worker.clone()));
					}
					WorkerJobs::<T>::insert(worker, job_id, ());
				}
				quorum.replaced = true;
				quorum.commit_end = now.saturating_add(T::CommitWindow::get().into());
				let commit_end = quorum.commit_end;
				job.state = JobState::Assigned { workers, at };
				Jobs::<T>::insert(job_id, job);
				Quorums::<T>::insert(job_id, quorum);
				Self::queue_commit_end(job_id, commit_end);
				Self::deposit_event(Event::NoShowsReplaced {
					job: job_id,
					replaced,
					by: fresh,
					commit_end,
				});
				// The replacement is what `end_commit_windows` measures.
				return Weight::zero();
			}
		}
		quorum.reveals_open = true;
		let committed = quorum.commitments.iter().filter(|c| c.is_some()).count() as u32;
		Quorums::<T>::insert(job_id, quorum);
		Self::deposit_event(Event::RevealsOpened { job: job_id, committed });
		if committed == 0 {
			return Self::decide_in_hook(job_id, job);
		}
		// Slashes and the opening of reveals: within `end_commit_windows`.
		Weight::zero()
	}

	/// Slashes and releases the members of `job_id` without a commitment (each once: it leaves
	/// the worker's assignments); returns their places.
	fn slash_no_shows(
		job_id: JobId,
		job: &Job<T>,
		workers: &[WorkerId],
		quorum: &Quorum<T>,
	) -> Vec<usize> {
		let mut absent = Vec::new();
		for (index, worker) in workers.iter().enumerate() {
			let committed = quorum.commitments.get(index).copied().flatten().is_some();
			if committed || !WorkerJobs::<T>::contains_key(worker, job_id) {
				continue;
			}
			Self::slash_no_show(job_id, job, worker);
			absent.push(index);
		}
		absent
	}

	/// Ends a quorum job whose deadline has passed: members that never committed are
	/// no-shows, and the quorum is decided with the findings revealed. Returns the weight of
	/// the decision.
	pub(crate) fn expire_quorum(job_id: JobId, job: Job<T>) -> Weight {
		// Not a quorum job: `expire` ends it, its work measured by `expire_jobs`.
		let Some(quorum) = Quorums::<T>::get(job_id) else { return Weight::zero() };
		if let JobState::Assigned { workers, .. } = &job.state {
			Self::slash_no_shows(job_id, &job, workers, &quorum);
		}
		Self::decide_in_hook(job_id, job)
	}

	/// Decides a quorum in a hook, all or nothing: a decision that fails leaves no trace (and
	/// should never fail: the escrow it pays from is held).
	fn decide_in_hook(job_id: JobId, job: Job<T>) -> Weight {
		frame_support::storage::with_storage_layer(|| Self::decide_quorum(job_id, job))
			.unwrap_or_else(|error| {
				defensive!("a quorum's decision pays from held escrow", error);
				// Rolled back, but the work was done: charged as the most the decision weighs
				// (the job is still stored, as the layer put it back).
				Self::decision_bound(job_id)
			})
	}

	/// Decides a quorum from its revealed findings, pays and records it; see the module's docs.
	/// Returns the weight of the decision (outputs of the size revealed).
	pub(crate) fn decide_quorum(job_id: JobId, job: Job<T>) -> Result<Weight, DispatchError> {
		let quorum = Quorums::<T>::take(job_id).ok_or(Error::<T>::NotQuorumJob)?;
		let JobState::Assigned { workers, .. } = job.state.clone() else {
			return Err(Error::<T>::NotAssigned.into());
		};
		let findings: Vec<Option<RevealedFinding<T>>> =
			(0..workers.len() as u32).map(|member| Reveals::<T>::take(job_id, member)).collect();
		if Referrals::<T>::contains_key(job_id) {
			return Self::decide_referral(job_id, job, quorum, &workers, findings);
		}
		if Audits::<T>::contains_key(job_id) {
			return Self::decide_audited(job_id, job, quorum, &workers, findings);
		}
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, ComparisonRule::ExactHash { .. });
		let ballots = crate::audit::ballots::<T>(&quorum, &findings);
		let decision = decide(&rule, pinned, &ballots, job.k);
		let largest = Self::largest_finding(&findings);

		let now = frame_system::Pallet::<T>::block_number();
		let dispute_end = now.saturating_add(T::DisputeWindow::get());
		let exposure = T::Workers::max_exposure();
		let canonical = decision.canonical.and_then(|index| {
			Some((index, workers.get(index)?.clone(), findings.get(index)?.clone()?))
		});
		let pays = matches!(canonical, Some((_, _, RevealedFinding::Output { .. })));
		// No strict majority among revealed findings: a referee quorum judges them, so their
		// assignments stay open.
		let escalate = canonical.is_none() && findings.iter().any(Option::is_some);
		let inline_input = !RemoteInputs::<T>::contains_key(job_id);
		let mut earners = Vec::new();
		let mut slashed = false;
		for ((worker, verdict), finding) in workers.iter().zip(&decision.verdicts).zip(&findings) {
			if let (Some(finding), true) = (finding, inline_input) {
				let refused = matches!(finding, RevealedFinding::CannotExecute { .. });
				T::Workers::note_answer(worker, &job.model, refused);
			}
			let outcome = match verdict {
				Verdict::Agreed if pays => {
					match Self::earner(worker) {
						Ok(earner) => earners.push(earner),
						Err(_) => {
							defensive!("an assigned worker stays registered");
						}
					}
					Some(Outcome::Completed)
				}
				_ if escalate && finding.is_some() => None,
				Verdict::Agreed | Verdict::Abstained => Some(Outcome::Failed),
				Verdict::Differed => Some(Outcome::Voided),
				// Exposure kept until the slash is applied.
				Verdict::Wrong | Verdict::Unrevealed => {
					slashed = true;
					None
				}
				// Released when the commit window ended.
				Verdict::NoShow => None,
			};
			if let Some(outcome) = outcome {
				T::Workers::note_released(worker, exposure, outcome);
			}
			WorkerJobs::<T>::remove(worker, job_id);
		}

		let parties: Vec<(WorkerId, RevealedFinding<T>)> = workers
			.iter()
			.cloned()
			.zip(findings.iter().cloned())
			.filter_map(|(worker, finding)| Some((worker, finding?)))
			.collect();
		let canonical_record = match canonical {
			Some((_, worker, RevealedFinding::Output { output, signature })) => {
				let hash = match &output {
					Payload::Inline(tensors) => output_hash(tensors),
					Payload::Remote { hash, .. } => *hash,
				};
				let contested: Vec<(WorkerId, RevealedFinding<T>)> = workers
					.iter()
					.zip(&decision.verdicts)
					.zip(&findings)
					.filter(|((_, verdict), _)| **verdict == Verdict::Wrong)
					.filter_map(|((member, _), finding)| Some((member.clone(), finding.clone()?)))
					.collect();
				let canonical_party =
					(worker.clone(), RevealedFinding::Output { output: output.clone(), signature });
				let settlement =
					Settlement { worker: worker.clone(), output, output_hash: hash, signature };
				// A member slashed for a wrong result may appeal until the dispute window ends:
				// the findings its referees would judge are kept that long, and the earnings
				// held. (Referees compare inline outputs only.)
				let inline = matches!(settlement.output, Payload::Inline(_));
				if contested.is_empty() || !inline {
					let payees: Vec<_> = earners.into_iter().map(|earner| earner.payee).collect();
					Self::settle(job_id, job, &payees, settlement)?;
				} else {
					Self::keep_for_appeal(job_id, canonical_party, contested);
					Self::settle_provisionally(job_id, job, earners, settlement)?;
				}
				Some((worker, Some(hash)))
			}
			Some((_, worker, RevealedFinding::CannotExecute { reason })) => {
				let kept = Self::minimum_charge(&job);
				Self::refund_keeping(job_id, job, Refund::CannotExecute(reason), kept)?;
				Self::queue_for_pruning(job_id, now);
				Some((worker, None))
			}
			None if escalate => {
				// The decision is pruned with the job's result, or with its refund; with no
				// referee to draw, the job ended here.
				Self::escalate(job_id, job, RefereeCause::QuorumSplit, parties)?;
				if !Jobs::<T>::contains_key(job_id) {
					Self::queue_for_pruning(job_id, now);
				}
				None
			}
			None => {
				Self::refund(job_id, job, Refund::Expired);
				Self::queue_for_pruning(job_id, now);
				None
			}
		};
		let verdicts: Vec<(WorkerId, Verdict)> =
			workers.iter().cloned().zip(decision.verdicts.iter().copied()).collect();
		Decisions::<T>::insert(
			job_id,
			QuorumDecision {
				decided_at: now,
				canonical: canonical_record.clone(),
				verdicts: BoundedVec::truncate_from(verdicts.clone()),
				slash: exposure,
				dispute_end,
			},
		);
		if slashed {
			Self::queue_dispute_end(job_id);
		}
		Self::deposit_event(Event::QuorumDecided {
			job: job_id,
			canonical: canonical_record.map(|(worker, _)| worker),
			verdicts,
			dispute_end,
		});
		Ok(Self::decision_weight(workers.len() as u32, largest))
	}

	/// Applies the slashes of the quorums whose dispute window has ended, and refunds the
	/// disputed ones, oldest first, at most `MaxDisputeEndsPerBlock` a block. Returns how many
	/// were done.
	pub(crate) fn end_disputes(now: BlockNumberFor<T>) -> u32 {
		let (mut first, next) = DisputeQueueRange::<T>::get();
		let mut done = 0u32;
		while done < T::MaxDisputeEndsPerBlock::get() && first < next {
			if let Some(job) = DisputeQueue::<T>::get(first) {
				match Decisions::<T>::get(job) {
					Some(decision) if decision.dispute_end > now => break,
					Some(decision) => {
						let ended = frame_support::storage::with_storage_layer(|| {
							Self::end_dispute(job, decision)
						});
						if let Err(error) = ended {
							defensive!("a dispute's refund pays from held escrow", error);
						}
					}
					None => {
						defensive!("a decision outlives its dispute window");
					}
				}
				DisputeQueue::<T>::remove(first);
			} else {
				defensive!("every position of the dispute queue's range is filled");
			}
			first.saturating_inc();
			done.saturating_inc();
		}
		if done > 0 {
			DisputeQueueRange::<T>::put((first, next));
		}
		done
	}

	/// Applies a decided quorum's slashes, and refunds it if it is disputed.
	fn end_dispute(job_id: JobId, decision: QuorumDecision<T>) -> DispatchResult {
		let exposure = T::Workers::max_exposure();
		let mut slashed = Vec::new();
		// An appeal hands the wrong results' slashes to its referees.
		let appealed = Appeals::<T>::contains_key(job_id);
		for (worker, verdict) in &decision.verdicts {
			let reason = match verdict {
				Verdict::Wrong if appealed => continue,
				Verdict::Wrong => SlashReason::WrongResult,
				Verdict::Unrevealed => SlashReason::CommitWithoutReveal,
				_ => continue,
			};
			let taken = T::Workers::slash(worker, SlashAmount::Fixed(decision.slash), reason, None)
				.unwrap_or_else(|_| {
					log!(warn, "quorum slash of job {job_id}: worker gone");
					Zero::zero()
				});
			T::Workers::note_released(worker, exposure, Outcome::Missed);
			slashed.push((worker.clone(), taken));
		}
		if !slashed.is_empty() {
			Self::deposit_event(Event::QuorumSlashesApplied { job: job_id, slashed });
		}
		if let Some(job) = Jobs::<T>::get(job_id) {
			if matches!(job.state, JobState::Disputed { .. }) {
				// Every revealed output is public by now: a dispute costs the minimum fee, so
				// that a job made to split its quorum (an input served to one member only) does
				// not buy an output for nothing.
				let kept = Self::minimum_charge(&job);
				Self::refund_keeping(job_id, job, Refund::Disputed, kept)?;
			}
		}
		Ok(())
	}
}
