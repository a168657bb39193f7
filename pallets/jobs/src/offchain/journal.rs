//! The off-chain worker's journal of one worker key, what it remembers between runs: the
//! executor tasks it started and the answers it signed. Kept in `PERSISTENT` off-chain storage,
//! so it survives a restart of the node.
//!
//! An answer is signed once: it is kept, encoded, until its job leaves the key's assignments
//! (answered on chain, or ended), and sent again as it is whenever it has not landed a few
//! blocks after it was sent. A job is never recomputed into a second, different answer.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use veritensor_primitives::JobId;

/// An executor task the off-chain worker started.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct Task {
	/// The job it runs.
	pub job: JobId,
	/// The canonical hash of the input it runs on: after a re-org the same id may name
	/// another job, whose input this task never saw.
	pub input_hash: [u8; 32],
	/// The executor's id of the task.
	pub id: Vec<u8>,
}

/// An answer the off-chain worker signed.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct SignedAnswer {
	/// The job it answers.
	pub job: JobId,
	/// The canonical hash of the input it answers: after a re-org the same id may name another
	/// job, which this answer must never be sent for.
	pub input_hash: [u8; 32],
	/// The answer, SCALE-encoded (a `crate::Answer`: an output or "cannot execute"). A quorum
	/// job's members commit to it, then reveal it.
	pub answer: Vec<u8>,
	/// For a quorum job, the 32 random bytes committed with the answer: kept with it, so that
	/// a restart between commitment and reveal still reveals what was committed.
	pub salt: Option<[u8; 32]>,
	/// For a quorum job, the last block it is kept in even when the job is no longer among the
	/// key's assignments (its deadline): a re-org may bring back a fork on which the job still
	/// waits for this very answer, committed to and not yet revealed there; a recomputed answer
	/// would not match the commitment. Zero for a single-worker job.
	pub keep_until: u64,
	/// The block after which it was last given to the pool; `None` until the pool took it.
	pub sent_at: Option<u64>,
	/// Which step `sent_at` is of: [`Step::Answer`] (the answer itself, or a quorum member's
	/// commitment) or [`Step::Reveal`].
	pub sent_step: Step,
}

/// A step of answering a job.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode)]
pub enum Step {
	/// The answer itself, or a quorum member's commitment to it.
	Answer,
	/// A quorum member's reveal.
	Reveal,
}

/// The off-chain worker's journal for one worker key.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct Journal {
	/// Executor tasks started and not answered yet.
	pub tasks: Vec<Task>,
	/// Answers signed and not seen on chain yet.
	pub answers: Vec<SignedAnswer>,
}

impl Journal {
	/// Forgets the tasks and answers of jobs no longer in `open` (job and input hash): ended,
	/// or another job under the same id after a re-org. (An answer's receipt names its input,
	/// so a kept answer for another input is refused before it is sent.) A quorum job's answer
	/// stays until its `keep_until` block, `now` being the current one. Returns the tasks
	/// forgotten, for the executor to drop.
	pub fn keep_open(&mut self, open: &[(JobId, [u8; 32])], now: u64) -> Vec<Task> {
		let (tasks, closed) = core::mem::take(&mut self.tasks)
			.into_iter()
			.partition(|task| open.contains(&(task.job, task.input_hash)));
		self.tasks = tasks;
		self.answers.retain(|answer| {
			let same_job = open.iter().find(|(job, _)| *job == answer.job);
			match same_job {
				Some((_, input)) => *input == answer.input_hash,
				None => answer.keep_until >= now,
			}
		});
		closed
	}

	/// The answer signed for `job`, if any.
	pub fn answer(&self, job: JobId) -> Option<&SignedAnswer> {
		self.answers.iter().find(|answer| answer.job == job)
	}

	/// Keeps the answer signed for `job`, not sent yet, and forgets its task; for a quorum job,
	/// with its salt and the last block it is kept in (see [`SignedAnswer::keep_until`]).
	pub fn note_answer(
		&mut self,
		job: JobId,
		input_hash: [u8; 32],
		answer: Vec<u8>,
		quorum: Option<([u8; 32], u64)>,
	) {
		self.drop_task(job);
		self.answers.retain(|kept| kept.job != job);
		let (salt, keep_until) = match quorum {
			Some((salt, keep_until)) => (Some(salt), keep_until),
			None => (None, 0),
		};
		self.answers.push(SignedAnswer {
			job,
			input_hash,
			answer,
			salt,
			keep_until,
			sent_at: None,
			sent_step: Step::Answer,
		});
	}

	/// Forgets the answer kept for `job`, so that it is computed again.
	pub fn forget_answer(&mut self, job: JobId) {
		self.answers.retain(|kept| kept.job != job);
	}

	/// Notes that `step` of the answer to `job` was given to the pool (or found there) after
	/// block `now`.
	pub fn note_sent(&mut self, job: JobId, now: u64, step: Step) {
		if let Some(answer) = self.answers.iter_mut().find(|answer| answer.job == job) {
			answer.sent_at = Some(now);
			answer.sent_step = step;
		}
	}

	/// The id of the task running `job`, if any.
	pub fn task(&self, job: JobId) -> Option<&[u8]> {
		self.tasks.iter().find(|task| task.job == job).map(|task| task.id.as_slice())
	}

	/// Notes the task now running `job` on the input of `input_hash`, replacing an earlier one.
	pub fn set_task(&mut self, job: JobId, input_hash: [u8; 32], id: Vec<u8>) {
		self.drop_task(job);
		self.tasks.push(Task { job, input_hash, id });
	}

	/// Forgets the task of `job`, and returns it.
	pub fn drop_task(&mut self, job: JobId) -> Option<Task> {
		let index = self.tasks.iter().position(|task| task.job == job)?;
		Some(self.tasks.remove(index))
	}
}
