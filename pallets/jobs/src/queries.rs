//! Reads for the runtime API and for the calls' weights.

use crate::{pallet::*, types::*, WeightInfo};
use alloc::vec::Vec;
use frame_support::weights::Weight;
use frame_system::pallet_prelude::BlockNumberFor;
use veritensor_primitives::traits::ModelRegistry;
use veritensor_primitives::{JobId, WorkerId};

impl<T: Config> Pallet<T> {
	/// The jobs assigned to `worker` and still open.
	pub fn open_assignments(worker: &WorkerId) -> Vec<JobId> {
		WorkerJobs::<T>::iter_key_prefix(worker).collect()
	}

	/// Bytes of inline tensor data in a payload: what hashing and storing it costs with.
	pub fn payload_bytes(payload: &Payload<T>) -> u32 {
		match payload {
			Payload::Inline(tensors) => {
				tensors.iter().map(|tensor| tensor.data.len() as u32).fold(0, u32::saturating_add)
			}
			Payload::Remote { .. } => 0,
		}
	}

	/// The most bytes of inline output data in one answer of a batch.
	pub fn largest_answer_bytes(answers: &[Submission<T>]) -> u32 {
		answers
			.iter()
			.map(|submission| match &submission.answer {
				Answer::Output { output, .. }
				| Answer::Reveal { finding: Finding::Output { output, .. }, .. } => Self::payload_bytes(output),
				Answer::CannotExecute { .. }
				| Answer::Commit { .. }
				| Answer::Reveal { finding: Finding::CannotExecute { .. }, .. } => 0,
			})
			.max()
			.unwrap_or(0)
	}

	/// The weight a batch of answers may take: each answer's checks and bookkeeping, and for
	/// each reveal the decision of its quorum (any reveal may be its quorum's last); what a
	/// decision did not use is refunded.
	pub fn answers_weight(answers: &[Submission<T>]) -> Weight {
		let largest = Self::largest_answer_bytes(answers);
		let count = |kind: fn(&Answer<T>) -> bool| {
			answers.iter().filter(|submission| kind(&submission.answer)).count() as u32
		};
		let commits = count(|answer| matches!(answer, Answer::Commit { .. }));
		let reveals = count(|answer| matches!(answer, Answer::Reveal { .. }));
		let direct = (answers.len() as u32).saturating_sub(commits).saturating_sub(reveals);
		let decisions = answers
			.iter()
			.filter(|submission| matches!(submission.answer, Answer::Reveal { .. }))
			.map(|submission| Self::decision_bound(submission.job))
			// The start of a sum of benchmarked decision bounds.
			.fold(Weight::zero(), |sum, weight| sum.saturating_add(weight));
		Self::answer_kinds_weight(direct, commits, reveals, largest).saturating_add(decisions)
	}

	/// The most a decision of `job`'s quorum can weigh: its members, outputs of the size its
	/// model's schema fixes (every member's output has that size, whatever this reveal
	/// carries). A job that is gone weighs nothing: its reveal is stale.
	pub(crate) fn decision_bound(job: JobId) -> Weight {
		// No decision can follow a reveal of a job that is gone; the reveal's own checks are
		// weighed by `answer_kinds_weight`.
		let Some(record) = Jobs::<T>::get(job) else { return Weight::zero() };
		let bytes = T::Models::schema(&record.model)
			.map(|schema| {
				schema
					.outputs
					.iter()
					.map(|spec| spec.wire_size().unwrap_or(u32::MAX))
					.fold(0u32, u32::saturating_add)
			})
			.unwrap_or(0);
		// An audited job decides with its auditor; a referee quorum judges its parties too.
		let referral = Referrals::<T>::get(job);
		let members = match referral {
			Some(referral) => crate::REFEREES.saturating_add(referral.parties),
			None if Audits::<T>::contains_key(job) => 2,
			None => record.k,
		};
		let decision = Self::decision_weight(members, bytes);
		match referral {
			Some(referral) => decision.saturating_add(Self::ending_weight(&referral)),
			None => decision,
		}
	}

	/// What ending a referral weighs beyond its referees' decision: a challenge's slash, refund
	/// and deposit; an appeal's slashes of the largest quorum's members, its refund and deposit.
	pub(crate) fn ending_weight(referral: &Referral) -> Weight {
		match referral.cause {
			RefereeCause::Challenged => T::WeightInfo::decide_challenge(),
			RefereeCause::Appealed => T::WeightInfo::decide_appeal(),
			// Settled or refunded within the decision, which `decision_weight` bounds by the
			// larger of `decide_quorum` and `escalate_quorum`: nothing beyond it.
			RefereeCause::AuditContradicted | RefereeCause::QuorumSplit => Weight::zero(),
		}
	}

	/// The weight of deciding a quorum of `members` whose outputs have `bytes` bytes: the
	/// decision's bookkeeping (settling it, or escalating it to referees), and a comparison for
	/// every pair of answers (the agreement sets) and of each answer with the canonical one.
	pub(crate) fn decision_weight(members: u32, bytes: u32) -> Weight {
		let comparisons = members.saturating_mul(members.saturating_add(1));
		let bookkeeping =
			T::WeightInfo::decide_quorum(members).max(T::WeightInfo::escalate_quorum(members));
		bookkeeping.saturating_add(
			T::WeightInfo::compare_outputs(bytes).saturating_mul(comparisons.into()),
		)
	}

	/// The weight of the pool's (and the block's) check of a batch of answers: outputs and
	/// reveals with their receipts, commitments without.
	pub fn authorize_weight(answers: &[Submission<T>]) -> Weight {
		let commits = answers
			.iter()
			.filter(|submission| matches!(submission.answer, Answer::Commit { .. }))
			.count() as u32;
		let others = (answers.len() as u32).saturating_sub(commits);
		// The start of a sum: each term added below is a benchmarked weight, and at least one is.
		let mut weight = Weight::zero();
		if others > 0 || commits == 0 {
			weight.saturating_accrue(T::WeightInfo::authorize_submit_results(
				others,
				Self::largest_answer_bytes(answers),
			));
		}
		if commits > 0 {
			weight.saturating_accrue(T::WeightInfo::authorize_commits(commits));
		}
		weight
	}

	/// The weight of `direct` answers (outputs and "cannot execute" of single-worker jobs),
	/// `commits` commitments and `reveals` reveals, outputs of at most `largest` bytes, without
	/// the quorum decisions: each kind weighed by its own benchmark.
	pub(crate) fn answer_kinds_weight(
		direct: u32,
		commits: u32,
		reveals: u32,
		largest: u32,
	) -> Weight {
		// The start of a sum: each term added below is a benchmarked weight, and at least one is.
		let mut weight = Weight::zero();
		if direct > 0 || (commits == 0 && reveals == 0) {
			weight.saturating_accrue(T::WeightInfo::submit_results(direct, largest));
		}
		if commits > 0 {
			weight.saturating_accrue(T::WeightInfo::submit_commits(commits));
		}
		if reveals > 0 {
			weight.saturating_accrue(T::WeightInfo::submit_reveals(reveals, largest));
		}
		weight
	}

	/// A quorum job's commit and reveal progress: its members in draw order, each with
	/// whether it committed and revealed; `None` if the job is no open quorum job.
	pub fn quorum_progress(job: JobId) -> Option<QuorumProgress<BlockNumberFor<T>>> {
		let quorum = Quorums::<T>::get(job)?;
		let JobState::Assigned { workers, .. } = Jobs::<T>::get(job)?.state else { return None };
		let members = workers
			.iter()
			.enumerate()
			.map(|(index, worker)| MemberProgress {
				worker: worker.clone(),
				committed: quorum.commitments.get(index).copied().flatten().is_some(),
				revealed: Reveals::<T>::contains_key(job, index as u32),
			})
			.collect();
		Some(QuorumProgress {
			commit_end: quorum.commit_end,
			reveals_open: quorum.reveals_open,
			replaced: quorum.replaced,
			members,
		})
	}
}
