//! Audited jobs and referee quorums.
//!
//! **Audits.** An audited job (one worker) opens a quorum of one: the worker commits blind.
//! Its commitment in block C queues the audit's decision at block C + D (D the assignment
//! delay), whose initialisation draws it, as the draw of workers does, from the VRF outputs of
//! blocks C+1 … C+D−1 (randomness that did not exist when the worker committed: biasing it
//! takes authoring all of those blocks) with the job's audit rate. Not audited: reveals open, the
//! worker reveals and the job settles on its word. Audited: a worker of another operator is
//! drawn as the job's second member and commits blind (the worker's output is still hidden
//! behind its commitment), then both reveal and are compared under the model's slash rule
//! ([`veritensor_primitives::quorum::audit`]). Consistent: the job settles, and the auditor is
//! paid its price from the audit pool. Contradicted: a referee quorum decides.
//!
//! **Referee quorums.** A contradicted audit, or a quorum without a strict majority, is
//! escalated: the parties' findings are kept, their assignments stay open (their exposure
//! covered), and three referees of operators that took no part in the job are drawn D blocks
//! later (again from randomness nobody had when the parties revealed). The referees commit and
//! reveal like any quorum, with one replacement of no-shows. Their strict majority gives the
//! canonical answer, and each party beyond the slash rule of it is slashed `WrongResult` at
//! once, its bounty to the audit pool. If the job's own result stands (the audited worker's
//! output, or a split quorum's members that agree with the referees) the job settles on it as
//! usual. If not and a party was slashed, the submitter gets the referees' output and pays
//! nothing; a split quorum with nobody wrong pays its price for the referees' output. Referees
//! that agree are paid: after an audit from the pool, after a split quorum from the shares of
//! the members the job does not pay, then from the pool. Without a referee majority, or
//! without three operators to draw, the job is refunded less the minimum fee (the parties'
//! outputs are public) and no party is slashed.

use crate::{asset, pallet::*, settlement::Settlement, types::*};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{defensive, pallet_prelude::*};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::{
	traits::{Bounded, Saturating, Zero},
	Perbill,
};
use veritensor_primitives::{
	output_hash,
	quorum::{audit, decide, judge, AuditFinding, Ballot, Verdict},
	traits::{ModelRegistry, Outcome, SlashAmount, SlashReason, WorkerStaking},
	ComparisonRule, JobId, ModelHash, WorkerId,
};

/// A referral's canonical output and who found it: the referees' majority or the runtime's own
/// run.
pub(crate) struct Decided<'a, T: Config> {
	/// The finding settled on if the job's own result does not stand, and whom it names.
	pub canonical: (WorkerId, RevealedFinding<T>),
	/// The canonical output, as the parties are judged against it.
	pub ballot: Ballot<'a, T::MaxInlineTensorBytes>,
	/// The referees that agreed with it, to be paid.
	pub referees: Vec<WorkerId>,
	/// Who was slashed already (referees), with what was taken.
	pub slashed: Vec<(WorkerId, BalanceOf<T>)>,
	/// Found by the runtime's run rather than by referees.
	pub by_runtime: bool,
}

/// Blocks from a commitment (or an escalation) to the draw that follows it: the assignment
/// delay D, so that the draw at block C + D takes the VRF outputs of blocks C+1 … C+D−1, none
/// of which existed when block C was built.
pub(crate) fn decision_delay<T: Config>() -> u32 {
	T::AssignmentDelay::get()
}

/// How many later blocks a check may move to when its block's queue is full: filling sixteen
/// blocks' queues takes 16 × `MaxJobsPerBlock` audited commitments or escalations, which only
/// assigned workers can make; an audit that still finds no block in time is not made, and an
/// escalation that finds none ends unresolved.
pub(crate) const CHECK_SLIDE: u32 = 16;

/// Domain separator of an audit's randomness.
const AUDIT_DOMAIN: &[u8] = b"veritensor:audit:v1";

/// Domain separator of a referee draw's randomness.
const REFEREE_DOMAIN: &[u8] = b"veritensor:referees:v1";

/// The ballots of a round's members, in draw order, from their commitments and reveals.
pub(crate) fn ballots<'a, T: Config>(
	quorum: &Quorum<T>,
	findings: &'a [Option<RevealedFinding<T>>],
) -> Vec<Ballot<'a, T::MaxInlineTensorBytes>> {
	findings
		.iter()
		.enumerate()
		.map(|(index, finding)| {
			let committed = quorum.commitments.get(index).copied().flatten().is_some();
			match finding {
				_ if !committed => Ballot::Absent,
				None => Ballot::Unrevealed,
				Some(finding) => ballot::<T>(finding),
			}
		})
		.collect()
}

/// A revealed finding's ballot.
pub(crate) fn ballot<T: Config>(
	finding: &RevealedFinding<T>,
) -> Ballot<'_, T::MaxInlineTensorBytes> {
	match finding {
		RevealedFinding::Output { output: Payload::Inline(tensors), .. } => Ballot::Output(tensors),
		// Refused when revealed: outputs compared on chain travel inline.
		RevealedFinding::Output { output: Payload::Remote { .. }, .. } => Ballot::Unrevealed,
		RevealedFinding::CannotExecute { reason } => Ballot::CannotExecute(*reason),
	}
}

/// Whether randomness `random` draws an audit at `rate`.
pub(crate) fn audit_drawn(rate: Perbill, random: &[u8; 32]) -> bool {
	let mut word = [0u8; 8];
	word.copy_from_slice(&random[..8]);
	// A uniform point in [0, 1e9): the rate is in parts per billion.
	let point = ((u64::from_le_bytes(word) >> 32) * 1_000_000_000) >> 32;
	point < rate.deconstruct() as u64
}

/// How many of a block's `MaxJobsPerBlock` expiries new jobs may take: three quarters. The
/// rest is kept for checks (referees' and audits' deadlines), so that a burst of submissions,
/// or someone paying to fill every block a referee quorum's deadline could go to, never leaves
/// an escalation or a challenge without referees, nor a cheating worker unslashed.
pub(crate) fn submission_expiries<T: Config>() -> u32 {
	let most = T::MaxJobsPerBlock::get();
	most.saturating_sub(most / 4)
}

impl<T: Config> Pallet<T> {
	/// The first block from `earliest` to `latest`, and within [`CHECK_SLIDE`] blocks of
	/// `earliest`, whose queue `push` finds room in (it pushes there). Checks, expiries and
	/// submissions' draws share it.
	pub(crate) fn first_with_room(
		earliest: BlockNumberFor<T>,
		latest: BlockNumberFor<T>,
		push: impl Fn(BlockNumberFor<T>) -> bool,
	) -> Option<BlockNumberFor<T>> {
		let mut at = earliest;
		for _ in 0..=CHECK_SLIDE {
			if at > latest {
				break;
			}
			if push(at) {
				return Some(at);
			}
			at.saturating_inc();
		}
		None
	}

	/// Queues `job`'s check (an audit's decision, a referee draw) at `earliest` or the first
	/// block after it with room, `latest` at the latest.
	fn queue_check(
		job: JobId,
		earliest: BlockNumberFor<T>,
		latest: BlockNumberFor<T>,
	) -> Option<BlockNumberFor<T>> {
		// Anyone can challenge, so challenges take at most half of a block's checks: a flood
		// of them never crowds out the audits and escalations that only assigned workers make.
		let challenge = Referrals::<T>::get(job)
			.is_some_and(|referral| referral.cause == RefereeCause::Challenged);
		let room =
			if challenge { T::MaxJobsPerBlock::get() / 2 } else { T::MaxJobsPerBlock::get() };
		Self::first_with_room(earliest, latest, |at| {
			CheckQueue::<T>::try_mutate(at, |queue| {
				if queue.len() as u32 >= room {
					return Err(());
				}
				queue.try_push(job).map_err(|_| ())
			})
			.is_ok()
		})
	}

	/// Queues `job`'s expiry (a check's: referees', an audit's) after `deadline`, or after the
	/// first of the next [`CHECK_SLIDE`] blocks with room; returns the deadline it got (`None` if
	/// all of them are full).
	pub(crate) fn queue_expiry(
		job: JobId,
		deadline: BlockNumberFor<T>,
	) -> Option<BlockNumberFor<T>> {
		Self::queue_expiry_within(job, deadline, T::MaxJobsPerBlock::get())
	}

	/// Queues a new job's expiry as [`Self::queue_expiry`] does, in the part of each block's
	/// expiries that submissions may take.
	pub(crate) fn queue_submission_expiry(
		job: JobId,
		deadline: BlockNumberFor<T>,
	) -> Option<BlockNumberFor<T>> {
		Self::queue_expiry_within(job, deadline, submission_expiries::<T>())
	}

	/// Queues `job`'s expiry in the first block from `deadline + 1` on (within [`CHECK_SLIDE`])
	/// with fewer than `room` expiries queued.
	fn queue_expiry_within(
		job: JobId,
		deadline: BlockNumberFor<T>,
		room: u32,
	) -> Option<BlockNumberFor<T>> {
		Self::first_with_room(deadline, BlockNumberFor::<T>::max_value(), |deadline| {
			let expiry = deadline.saturating_add(1u32.into());
			ExpiryQueue::<T>::try_mutate(expiry, |queue| {
				if queue.len() as u32 >= room {
					return Err(());
				}
				queue.try_push(job).map_err(|_| ())
			})
			.is_ok()
		})
	}

	/// Whether `job`'s reveals wait for its audit's decision now that its worker committed:
	/// then the decision is queued. A decision that could not leave the auditor its commit and
	/// reveal windows before the deadline (every block that could take it is full) is not
	/// made: the job is not audited, and reveals open now.
	pub(crate) fn hold_reveals_for_audit(
		job: JobId,
		deadline: BlockNumberFor<T>,
		now: BlockNumberFor<T>,
	) -> bool {
		let Some(mut audit) = Audits::<T>::get(job) else { return false };
		if audit.stage != AuditStage::Working {
			return false;
		}
		let latest = deadline
			.saturating_sub(T::CommitWindow::get().into())
			.saturating_sub(T::RevealWindow::get().into());
		let earliest = now.saturating_add(decision_delay::<T>().into());
		match Self::queue_check(job, earliest, latest) {
			Some(at) => {
				audit.stage = AuditStage::Deciding { at };
				Audits::<T>::insert(job, audit);
				true
			}
			None => {
				log!(warn, "job {job}: no block to decide its audit in time; not audited");
				audit.stage = AuditStage::Unaudited;
				Audits::<T>::insert(job, audit);
				Self::deposit_event(Event::AuditDecided { job, audited: false, auditor: None });
				false
			}
		}
	}

	/// The operators a draw for `job` must avoid besides `workers`': its parties', while a
	/// referee quorum judges them.
	pub(crate) fn excluded_operators(job: JobId, workers: &[WorkerId]) -> Vec<T::AccountId> {
		let mut operators: Vec<T::AccountId> =
			workers.iter().filter_map(T::Workers::operator).collect();
		if let Some(referral) = Referrals::<T>::get(job) {
			for party in 0..referral.parties {
				if let Some(operator) = Parties::<T>::get(job, party)
					.and_then(|(worker, _)| T::Workers::operator(&worker))
				{
					operators.push(operator);
				}
			}
			// Neither the challenged worker's operator (its key may be gone), nor a challenger
			// or a submitter that runs workers, judges a challenge whose outcome pays it; nor
			// any member of an appealed quorum (the majority's slash is at stake).
			if matches!(referral.cause, RefereeCause::Challenged | RefereeCause::Appealed) {
				if let Some(provisional) = Provisionals::<T>::get(job) {
					operators.push(provisional.operator);
					operators.extend(provisional.challenge.map(|challenge| challenge.challenger));
				}
				operators.extend(Jobs::<T>::get(job).map(|record| record.submitter));
			}
			// Every member of an appealed quorum: the majority's operators as recorded when
			// they were paid (a key may have left since), the others' (their keys cannot leave
			// while their slashes wait).
			if referral.cause == RefereeCause::Appealed {
				if let Some(provisional) = Provisionals::<T>::get(job) {
					operators.extend(provisional.earners.into_iter().map(|earner| earner.operator));
				}
				if let Some(decision) = Decisions::<T>::get(job) {
					operators.extend(
						decision
							.verdicts
							.iter()
							.filter_map(|(member, _)| T::Workers::operator(member)),
					);
				}
			}
		}
		operators
	}

	/// Draws the checks due at `now`: audits decided, referees drawn. Returns how many were
	/// due, how many models' candidates they asked for, and the weight of the referrals they
	/// ended for want of referees (beyond `draw_checks`).
	pub(crate) fn draw_checks(now: BlockNumberFor<T>) -> (u32, u32, Weight) {
		let due = CheckQueue::<T>::take(now);
		if due.is_empty() {
			// Nothing beyond the caller's benchmarked base, which covers reading the queue.
			return (0, 0, Weight::zero());
		}
		let seed = Self::draw_seed();
		let mut pools = BTreeMap::new();
		// The start of a sum: each term added below is a benchmarked ending's weight.
		let mut ended = Weight::zero();
		for job in &due {
			if Referrals::<T>::contains_key(job) {
				ended.saturating_accrue(Self::draw_referees(*job, now, &seed, &mut pools));
			} else {
				Self::decide_audit(*job, now, &seed, &mut pools);
			}
		}
		(due.len() as u32, pools.len() as u32, ended)
	}

	/// Decides whether to audit `job_id`, and draws its auditor if so.
	fn decide_audit(
		job_id: JobId,
		now: BlockNumberFor<T>,
		seed: &[u8; 32],
		pools: &mut BTreeMap<ModelHash, Vec<CandidateOf<T>>>,
	) {
		let Some(mut audit) = Audits::<T>::get(job_id) else { return };
		if audit.stage != (AuditStage::Deciding { at: now }) {
			return;
		}
		let (Some(mut job), Some(mut quorum)) = (Jobs::<T>::get(job_id), Quorums::<T>::get(job_id))
		else {
			return;
		};
		let JobState::Assigned { mut workers, at } = job.state.clone() else { return };
		let random = sp_io::hashing::blake2_256(&(AUDIT_DOMAIN, seed, job_id).encode());
		let audited = audit_drawn(audit.rate, &random);
		// Never short of room after a deadline of `MinQuorumDeadline`; a check moved by a full
		// queue may be.
		let room = now
			.saturating_add(T::CommitWindow::get().into())
			.saturating_add(T::RevealWindow::get().into())
			<= job.deadline;
		let mut auditor = None;
		if audited && room {
			let mut operators = Self::excluded_operators(job_id, &workers);
			let pool = Self::pool(pools, &job.model);
			let drawn =
				Self::draw_workers(pool, &mut operators, 1, sp_io::hashing::blake2_256(&random));
			if let Some(worker) = drawn.into_iter().next() {
				if workers.try_push(worker.clone()).is_ok()
					&& quorum.commitments.try_push(None).is_ok()
				{
					auditor = Some(worker);
				} else {
					defensive!("a job's members hold an audited worker and its auditor");
					T::Workers::note_released(&worker, T::Workers::max_exposure(), Outcome::Voided);
				}
			}
		}
		match &auditor {
			Some(worker) => {
				WorkerJobs::<T>::insert(worker, job_id, ());
				quorum.commit_end = now.saturating_add(T::CommitWindow::get().into());
				Self::queue_commit_end(job_id, quorum.commit_end);
				audit.stage = AuditStage::Audited;
				job.state = JobState::Assigned { workers, at };
				Jobs::<T>::insert(job_id, job);
			}
			None => {
				audit.stage = AuditStage::Unaudited;
				quorum.reveals_open = true;
			}
		}
		Audits::<T>::insert(job_id, audit);
		Quorums::<T>::insert(job_id, quorum);
		Self::deposit_event(Event::AuditDecided { job: job_id, audited, auditor: auditor.clone() });
		if auditor.is_none() {
			Self::deposit_event(Event::RevealsOpened { job: job_id, committed: 1 });
		}
	}

	/// Decides an audited job from its worker's and its auditor's reveals (see the module's
	/// docs). Returns the weight of the decision.
	pub(crate) fn decide_audited(
		job_id: JobId,
		mut job: Job<T>,
		quorum: Quorum<T>,
		workers: &[WorkerId],
		findings: Vec<Option<RevealedFinding<T>>>,
	) -> Result<Weight, DispatchError> {
		let exposure = T::Workers::max_exposure();
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, ComparisonRule::ExactHash { .. });
		let largest = Self::largest_finding(&findings);
		let weight = Self::decision_weight(workers.len() as u32, largest);
		let inline_input = !RemoteInputs::<T>::contains_key(job_id);
		for (worker, finding) in workers.iter().zip(&findings) {
			if let (Some(finding), true) = (finding, inline_input) {
				let refused = matches!(finding, RevealedFinding::CannotExecute { .. });
				T::Workers::note_answer(worker, &job.model, refused);
			}
			WorkerJobs::<T>::remove(worker, job_id);
		}
		let (Some(original), Some(first)) = (workers.first(), findings.first()) else {
			return Err(Error::<T>::NotAssigned.into());
		};
		let committed = quorum.commitments.first().copied().flatten().is_some();
		let auditor = workers.get(1).map(|worker| {
			let ballots = ballots::<T>(&quorum, &findings);
			(worker.clone(), ballots.get(1).copied().unwrap_or(Ballot::Absent))
		});

		let finding = match (first, &auditor) {
			(Some(original), Some((_, theirs))) => {
				audit(&rule, pinned, &ballot::<T>(original), theirs)
			}
			_ => AuditFinding::Unchecked,
		};
		if finding == AuditFinding::Contradicted {
			let parties = workers
				.iter()
				.cloned()
				.zip(findings)
				.filter_map(|(worker, finding)| Some((worker, finding?)))
				.collect();
			Self::escalate(job_id, job, RefereeCause::AuditContradicted, parties)?;
			return Ok(weight);
		}

		let per_worker = job.price.per_worker;
		match first {
			Some(RevealedFinding::Output { output, signature }) => {
				T::Workers::note_released(original, exposure, Outcome::Completed);
				let hash = Self::finding_hash(output);
				let settlement = Settlement {
					worker: original.clone(),
					output: output.clone(),
					output_hash: hash,
					signature: *signature,
				};
				let earner = Self::earner(original)?;
				Self::settle_provisionally(job_id, job, alloc::vec![earner], settlement)?;
			}
			Some(RevealedFinding::CannotExecute { reason }) => {
				T::Workers::note_released(original, exposure, Outcome::Failed);
				// An auditor that ran the job is paid from the pool: the job pays the premium
				// that funds it, as a settled one does.
				if matches!(auditor, Some((_, Ballot::Output(_)))) {
					let premium = Audits::<T>::get(job_id).map_or_else(Zero::zero, |a| a.premium);
					asset::collect_premium::<T>(&job.submitter, premium)?;
					job.escrow = job.escrow.saturating_sub(premium);
				}
				let kept = Self::minimum_charge(&job);
				Self::refund_keeping(job_id, job, Refund::CannotExecute(*reason), kept)?;
			}
			// Slashed only if it could have revealed: reveals open only with the audit's
			// decision.
			None if committed && quorum.reveals_open => {
				Self::slash_now(job_id, original, exposure, SlashReason::CommitWithoutReveal);
				Self::refund(job_id, job, Refund::Expired);
			}
			None if committed => {
				T::Workers::note_released(original, exposure, Outcome::Voided);
				Self::refund(job_id, job, Refund::Expired);
			}
			// A no-show, slashed when its commit window ended.
			None => Self::refund(job_id, job, Refund::Expired),
		}
		// The auditor, if any: paid for a revealed output (from the pool, after the premium came
		// in), slashed for a commitment it did not reveal.
		if let Some((worker, ballot)) = &auditor {
			match ballot {
				Ballot::Output(_) => {
					Self::pay_from_pool(worker, per_worker);
					T::Workers::note_released(worker, exposure, Outcome::Completed);
				}
				Ballot::Unrevealed => {
					Self::slash_now(job_id, worker, exposure, SlashReason::CommitWithoutReveal);
				}
				Ballot::CannotExecute(_) => {
					T::Workers::note_released(worker, exposure, Outcome::Failed);
				}
				// Slashed as a no-show when its commit window ended.
				Ballot::Absent => {}
			}
			let checked = finding == AuditFinding::Consistent;
			Self::deposit_event(Event::AuditEnded {
				job: job_id,
				auditor: worker.clone(),
				checked,
			});
		}

		Ok(weight)
	}

	/// Hands `job_id` to a referee quorum drawn D blocks from now (see [`decision_delay`]); `parties`
	/// are the findings it judges, whose assignments stay open until it decides.
	pub(crate) fn escalate(
		job_id: JobId,
		mut job: Job<T>,
		cause: RefereeCause,
		parties: Vec<(WorkerId, RevealedFinding<T>)>,
	) -> DispatchResult {
		let now = frame_system::Pallet::<T>::block_number();
		Quorums::<T>::remove(job_id);
		let names: Vec<WorkerId> = parties.iter().map(|(worker, _)| worker.clone()).collect();
		Referrals::<T>::insert(job_id, Referral { cause, parties: parties.len() as u32 });
		for (index, party) in parties.into_iter().enumerate() {
			Parties::<T>::insert(job_id, index as u32, party);
		}
		// The old deadline's place goes to other jobs (unless it is being expired now); the
		// referees' deadline takes one.
		let old_expiry = job.deadline.saturating_add(1u32.into());
		if old_expiry > now {
			ExpiryQueue::<T>::mutate(old_expiry, |queue| queue.retain(|queued| *queued != job_id));
		}
		let Some((draw_at, deadline)) = Self::schedule_referees(job_id, now) else {
			return Self::leave_unresolved(job_id, job, RefereeOutcome::NoReferees, Vec::new());
		};
		job.deadline = deadline;
		job.state = JobState::Escalated { draw_at };
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::Escalated { job: job_id, cause, parties: names, draw_at });
		Ok(())
	}

	/// Queues the draw of `job_id`'s referees D blocks from `now` (or the first block after with
	/// room) and their deadline: their commit window with one replacement, and their reveal
	/// window. Returns the draw's block and the deadline; `None` if no block in reach has room.
	pub(crate) fn schedule_referees(
		job_id: JobId,
		now: BlockNumberFor<T>,
	) -> Option<(BlockNumberFor<T>, BlockNumberFor<T>)> {
		let earliest = now.saturating_add(decision_delay::<T>().into());
		let latest = earliest.saturating_add(CHECK_SLIDE.into());
		let draw_at = Self::queue_check(job_id, earliest, latest)?;
		let deadline = draw_at
			.saturating_add(T::CommitWindow::get().saturating_mul(2).into())
			.saturating_add(T::RevealWindow::get().into());
		let deadline = Self::queue_expiry(job_id, deadline)?;
		Some((draw_at, deadline))
	}

	/// Draws `job_id`'s three referees, of operators with no part in the job. Returns what the
	/// draw weighs beyond `draw_checks`: an appeal's exclusions, and the referral's end when no
	/// three referees can be drawn (no more than its referees' decision would weigh, nor than
	/// a challenge's: an escalation's refund moves less).
	fn draw_referees(
		job_id: JobId,
		now: BlockNumberFor<T>,
		seed: &[u8; 32],
		pools: &mut BTreeMap<ModelHash, Vec<CandidateOf<T>>>,
	) -> Weight {
		// A job gone or not due is left as it is: its two reads are within `draw_checks`, whose
		// benchmark draws a full referee quorum for every check, so nothing is owed beyond it.
		let Some(mut job) = Jobs::<T>::get(job_id) else { return Weight::zero() };
		if job.state != (JobState::Escalated { draw_at: now }) {
			// Not due: within `draw_checks`, as above.
			return Weight::zero();
		}
		// No referral left to draw for: within `draw_checks`, as above.
		let Some(referral) = Referrals::<T>::get(job_id) else { return Weight::zero() };
		// An appeal excludes every member's operator: the decision, the held result, a key each.
		// Other causes exclude only the parties, which `draw_checks` measures: nothing beyond it.
		let mut extra = if referral.cause == RefereeCause::Appealed {
			T::DbWeight::get().reads(u64::from(job.k).saturating_add(2))
		} else {
			Weight::zero()
		};
		let mut operators = Self::excluded_operators(job_id, &[]);
		let random = sp_io::hashing::blake2_256(&(REFEREE_DOMAIN, seed, job_id).encode());
		let pool = Self::pool(pools, &job.model);
		let referees = Self::draw_workers(pool, &mut operators, REFEREES, random);
		if (referees.len() as u32) < REFEREES {
			for referee in &referees {
				T::Workers::note_released(referee, T::Workers::max_exposure(), Outcome::Voided);
			}
			Self::end_unresolved(job_id, job);
			extra.saturating_accrue(Self::unresolved_ending_weight(&referral));
			return extra;
		}
		for referee in &referees {
			WorkerJobs::<T>::insert(referee, job_id, ());
		}
		Self::open_quorum(job_id, REFEREES, now);
		let deadline = job.deadline;
		job.state =
			JobState::Assigned { workers: BoundedVec::truncate_from(referees.clone()), at: now };
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::RefereesDrawn { job: job_id, referees, deadline });
		extra
	}

	/// Decides a referee quorum from its members' reveals (see the module's docs). Returns the
	/// weight of the decision.
	pub(crate) fn decide_referral(
		job_id: JobId,
		job: Job<T>,
		quorum: Quorum<T>,
		referees: &[WorkerId],
		findings: Vec<Option<RevealedFinding<T>>>,
	) -> Result<Weight, DispatchError> {
		let referral = Referrals::<T>::get(job_id).ok_or(Error::<T>::NotQuorumJob)?;
		let parties: Vec<(WorkerId, RevealedFinding<T>)> =
			(0..referral.parties).filter_map(|party| Parties::<T>::get(job_id, party)).collect();
		let exposure = T::Workers::max_exposure();
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, ComparisonRule::ExactHash { .. });
		let largest = Self::largest_finding(&findings).max(
			parties.iter().map(|(_, finding)| Self::finding_bytes(finding)).max().unwrap_or(0),
		);
		let mut weight = Self::decision_weight(
			(referees.len() as u32).saturating_add(referral.parties),
			largest,
		);
		weight.saturating_accrue(Self::ending_weight(&referral));
		let referee_ballots = ballots::<T>(&quorum, &findings);
		let decision = decide(&rule, pinned, &referee_ballots, REFEREES);
		let canonical = decision.canonical.and_then(|index| {
			match (referee_ballots.get(index)?, findings.get(index)?.clone()?, referees.get(index))
			{
				(Ballot::Output(_), finding, Some(worker)) => {
					Some((index, worker.clone(), finding))
				}
				_ => None,
			}
		});
		let mut slashed = Vec::new();

		// The referees: paid when they agree with a canonical output (see below by whom),
		// slashed when wrong or silent.
		let mut agreeing_referees = Vec::new();
		for (worker, verdict) in referees.iter().zip(&decision.verdicts) {
			match verdict {
				Verdict::Agreed if canonical.is_some() => {
					agreeing_referees.push(worker.clone());
					T::Workers::note_released(worker, exposure, Outcome::Completed);
				}
				Verdict::Agreed | Verdict::Abstained => {
					T::Workers::note_released(worker, exposure, Outcome::Failed)
				}
				Verdict::Differed => T::Workers::note_released(worker, exposure, Outcome::Voided),
				Verdict::Wrong => slashed.push(Self::slash_now(
					job_id,
					worker,
					exposure,
					SlashReason::WrongResult,
				)),
				Verdict::Unrevealed => slashed.push(Self::slash_now(
					job_id,
					worker,
					exposure,
					SlashReason::CommitWithoutReveal,
				)),
				// Slashed as a no-show when its commit window ended.
				Verdict::NoShow => {}
			}
			WorkerJobs::<T>::remove(worker, job_id);
		}

		let Some((index, referee, referee_finding)) = canonical else {
			Self::leave_unresolved(job_id, job, RefereeOutcome::Undecided, slashed)?;
			return Ok(weight);
		};
		let canonical_ballot = referee_ballots.get(index).copied().unwrap_or(Ballot::Absent);
		// A challenge or an appeal judges a result already settled: its own ending.
		if matches!(referral.cause, RefereeCause::Challenged | RefereeCause::Appealed) {
			let end = if referral.cause == RefereeCause::Challenged {
				Self::decide_challenge
			} else {
				Self::decide_appeal
			};
			let canonical = (referee, referee_finding);
			end(job_id, job, canonical, canonical_ballot, agreeing_referees, slashed)?;
			return Ok(weight);
		}

		let decided = Decided {
			canonical: (referee, referee_finding),
			ballot: canonical_ballot,
			referees: agreeing_referees,
			slashed,
			by_runtime: false,
		};
		Self::judge_parties(job_id, job, &referral, parties, decided)?;
		Ok(weight)
	}

	/// Ends a contradicted audit or a split quorum on `decided`'s canonical output (see the
	/// module's docs): each party beyond the slash rule of it slashed, the job settled on its
	/// own result if that stands, else on the canonical output.
	pub(crate) fn judge_parties(
		job_id: JobId,
		job: Job<T>,
		referral: &Referral,
		parties: Vec<(WorkerId, RevealedFinding<T>)>,
		decided: Decided<'_, T>,
	) -> DispatchResult {
		let Decided {
			canonical: (referee, referee_finding),
			ballot: canonical_ballot,
			referees: agreeing_referees,
			mut slashed,
			by_runtime,
		} = decided;
		let per_worker = job.price.per_worker;
		let exposure = T::Workers::max_exposure();
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, ComparisonRule::ExactHash { .. });
		// The parties, judged against the referees' output. The job's own result stands if
		// the audited worker's output is within the slash rule of it, or (a split quorum) a
		// member agrees with it; those are paid from the escrow as usual.
		let verdicts: Vec<Verdict> = parties
			.iter()
			.map(|(_, finding)| {
				judge(&rule, pinned, &ballot::<T>(finding), Some(&canonical_ballot))
			})
			.collect();
		let paid: Vec<usize> = match referral.cause {
			RefereeCause::AuditContradicted => verdicts
				.first()
				.filter(|verdict| **verdict != Verdict::Wrong)
				.map(|_| 0)
				.into_iter()
				.collect(),
			RefereeCause::QuorumSplit => verdicts
				.iter()
				.enumerate()
				.filter(|(_, verdict)| **verdict == Verdict::Agreed)
				.map(|(position, _)| position)
				.collect(),
			// Decided above.
			RefereeCause::Challenged | RefereeCause::Appealed => Vec::new(),
		};
		let mut payees = Vec::new();
		for (position, ((worker, _), verdict)) in parties.iter().zip(&verdicts).enumerate() {
			match verdict {
				Verdict::Wrong => slashed.push(Self::slash_now(
					job_id,
					worker,
					exposure,
					SlashReason::WrongResult,
				)),
				_ if paid.contains(&position) => {
					T::Workers::note_released(worker, exposure, Outcome::Completed);
					match T::Workers::payee(worker) {
						Some(payee) => payees.push(payee),
						None => {
							defensive!("an assigned worker stays registered");
						}
					}
				}
				// An auditor the referees agree with did its work: paid from the pool.
				Verdict::Agreed => {
					Self::pay_from_pool(worker, per_worker);
					T::Workers::note_released(worker, exposure, Outcome::Completed);
				}
				_ => T::Workers::note_released(worker, exposure, Outcome::Voided),
			}
		}

		let upheld = !paid.is_empty();
		let caught = verdicts.contains(&Verdict::Wrong);
		let outcome = if by_runtime {
			RefereeOutcome::Recomputed { upheld }
		} else {
			RefereeOutcome::Decided { canonical: referee.clone(), upheld }
		};
		let (worker, finding) = match paid.first().and_then(|position| parties.get(*position)) {
			Some(party) => party.clone(),
			None => (referee, referee_finding),
		};
		let RevealedFinding::Output { output, signature } = finding else {
			return Err(Error::<T>::NotAssigned.into());
		};
		let output_hash = Self::finding_hash(&output);
		let settlement = Settlement { worker, output, output_hash, signature };
		// Who pays the referees: a split quorum's job pays them from the shares of its members
		// it does not pay (its split is its members' or its input's doing, and its outputs were
		// public), the pool the rest; after an audit, the pool, which the loser's slash feeds.
		let mut from_pool = Vec::new();
		for referee in agreeing_referees {
			let escrow_share =
				referral.cause == RefereeCause::QuorumSplit && (payees.len() as u32) < job.k;
			match T::Workers::payee(&referee) {
				Some(payee) if escrow_share => payees.push(payee),
				_ => from_pool.push(referee),
			}
		}
		if upheld || (referral.cause == RefereeCause::QuorumSplit && !caught) {
			Self::settle(job_id, job, &payees, settlement)?;
		} else {
			// The job's own answer was wrong and its worker slashed: the submitter gets the
			// referees' answer for nothing.
			Self::settle_free(job_id, job, settlement)?;
		}
		for referee in &from_pool {
			Self::pay_from_pool(referee, per_worker);
		}
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
		Ok(())
	}

	/// What ending a referral without referees weighs at most: no more than its referees'
	/// decision would, nor than a challenge's (an escalation's refund moves less).
	pub(crate) fn unresolved_ending_weight(referral: &Referral) -> Weight {
		Self::ending_weight(referral).max(<T::WeightInfo as crate::WeightInfo>::decide_challenge())
	}

	/// Ends an escalated job whose referees were never drawn, all or nothing.
	pub(crate) fn end_unresolved(job_id: JobId, job: Job<T>) {
		let ended = frame_support::storage::with_storage_layer(|| {
			Self::leave_unresolved(job_id, job, RefereeOutcome::NoReferees, Vec::new())
		});
		if let Err(error) = ended {
			defensive!("a job without referees is refunded from held escrow", error);
		}
	}

	/// Ends a job whose parties no referee quorum could judge: refunded in full, no party
	/// slashed (`slashed` lists the referees slashed).
	fn leave_unresolved(
		job_id: JobId,
		job: Job<T>,
		outcome: RefereeOutcome,
		slashed: Vec<(WorkerId, BalanceOf<T>)>,
	) -> DispatchResult {
		let exposure = T::Workers::max_exposure();
		let referral = Referrals::<T>::get(job_id);
		// A challenged or appealed result stands.
		match referral.map(|referral| referral.cause) {
			Some(RefereeCause::Challenged) => {
				return Self::void_challenge(job_id, job, outcome, slashed)
			}
			Some(RefereeCause::Appealed) => {
				return Self::void_appeal(job_id, job, outcome, slashed)
			}
			_ => {}
		}
		if let Some(referral) = referral {
			for party in 0..referral.parties {
				if let Some((worker, _)) = Parties::<T>::get(job_id, party) {
					T::Workers::note_released(&worker, exposure, Outcome::Voided);
				}
			}
		}
		// The parties' outputs are public by now: as for any job made to fail, the minimum fee
		// is kept, so that a submitter that makes its workers disagree on purpose (an input
		// served to some only) does not buy outputs for nothing.
		let kept = Self::minimum_charge(&job);
		Self::refund_keeping(job_id, job, Refund::Unresolved, kept)?;
		// A split quorum's decision goes with the job.
		if Decisions::<T>::contains_key(job_id) {
			Self::queue_for_pruning(job_id, frame_system::Pallet::<T>::block_number());
		}
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
		Ok(())
	}

	/// Slashes `worker` `amount` (an assignment's exposure, or what a quorum's decision
	/// recorded) for `reason` now, the bounty to the audit pool, and ends its assignment.
	pub(crate) fn slash_now(
		job_id: JobId,
		worker: &WorkerId,
		amount: BalanceOf<T>,
		reason: SlashReason,
	) -> (WorkerId, BalanceOf<T>) {
		let taken =
			T::Workers::slash(worker, SlashAmount::Fixed(amount), reason, Some(Self::audit_pool()))
				.unwrap_or_else(|_| {
					log!(warn, "slash of job {job_id}: worker gone");
					Zero::zero()
				});
		T::Workers::note_released(worker, T::Workers::max_exposure(), Outcome::Missed);
		WorkerJobs::<T>::remove(worker, job_id);
		(worker.clone(), taken)
	}

	/// Pays `worker`'s payee up to `amount` from the audit pool (less if the pool runs short).
	pub(crate) fn pay_from_pool(worker: &WorkerId, amount: BalanceOf<T>) {
		let Some(payee) = T::Workers::payee(worker) else {
			defensive!("an assigned worker stays registered");
			return;
		};
		let paid = asset::draw_from_pool::<T>(amount);
		if paid < amount {
			log!(warn, "the audit pool paid {paid:?} of {amount:?}");
		}
		Self::accrue(&payee, paid);
	}

	/// The model's comparison rule.
	pub(crate) fn rule(model: &ModelHash) -> ComparisonRule {
		T::Models::comparison(model).unwrap_or_else(|| {
			defensive!("a model with open jobs stays registered");
			ComparisonRule::PerOutput(Default::default())
		})
	}

	/// The canonical hash of a revealed output.
	pub(crate) fn finding_hash(output: &Payload<T>) -> sp_core::H256 {
		match output {
			Payload::Inline(tensors) => output_hash(tensors),
			Payload::Remote { hash, .. } => *hash,
		}
	}

	/// The largest revealed output, in bytes of inline data.
	pub(crate) fn largest_finding(findings: &[Option<RevealedFinding<T>>]) -> u32 {
		findings.iter().flatten().map(Self::finding_bytes).max().unwrap_or(0)
	}

	/// A revealed finding's output, in bytes of inline data (none for "cannot execute").
	pub(crate) fn finding_bytes(finding: &RevealedFinding<T>) -> u32 {
		match finding {
			RevealedFinding::Output { output, .. } => Self::payload_bytes(output),
			RevealedFinding::CannotExecute { .. } => 0,
		}
	}
}
