//! Reads for the runtime API and for the calls' weights.

use crate::{pallet::*, types::*, WeightInfo};
use alloc::vec::Vec;
use frame_support::traits::Get;
use frame_support::weights::Weight;
use frame_system::pallet_prelude::BlockNumberFor;
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
	/// each reveal the decision of a largest quorum with the largest outputs a quorum compares
	/// (any reveal may be its quorum's last, and the other members' outputs may be larger than
	/// the one revealed); what a decision did not use is refunded.
	pub fn answers_weight(answers: &[Submission<T>]) -> Weight {
		let largest = Self::largest_answer_bytes(answers);
		let count = |kind: fn(&Answer<T>) -> bool| {
			answers.iter().filter(|submission| kind(&submission.answer)).count() as u32
		};
		let commits = count(|answer| matches!(answer, Answer::Commit { .. }));
		let reveals = count(|answer| matches!(answer, Answer::Reveal { .. }));
		let direct = (answers.len() as u32).saturating_sub(commits).saturating_sub(reveals);
		let largest_outputs = T::MaxInlineTensorBytes::get()
			.saturating_mul(veritensor_primitives::tensor::MAX_TENSORS);
		Self::answer_kinds_weight(direct, commits, reveals, largest).saturating_add(
			T::WeightInfo::decide_quorum(largest_outputs).saturating_mul(reveals.into()),
		)
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
