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

/// An answer the off-chain worker signed.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct SignedAnswer {
	/// The job it answers.
	pub job: JobId,
	/// The answer, SCALE-encoded (a `crate::Answer`).
	pub answer: Vec<u8>,
	/// The block after which it was last given to the pool; `None` until the pool took it.
	pub sent_at: Option<u64>,
}

/// The off-chain worker's journal for one worker key.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct Journal {
	/// Executor tasks started and not answered yet: job and task id.
	pub tasks: Vec<(JobId, Vec<u8>)>,
	/// Answers signed and not seen on chain yet.
	pub answers: Vec<SignedAnswer>,
}

impl Journal {
	/// Forgets the tasks and answers of jobs no longer in `open`.
	pub fn keep_open(&mut self, open: &[JobId]) {
		self.tasks.retain(|(job, _)| open.contains(job));
		self.answers.retain(|answer| open.contains(&answer.job));
	}

	/// The answer signed for `job`, if any.
	pub fn answer(&self, job: JobId) -> Option<&SignedAnswer> {
		self.answers.iter().find(|answer| answer.job == job)
	}

	/// Keeps the answer signed for `job`, not sent yet, and forgets its task.
	pub fn note_answer(&mut self, job: JobId, answer: Vec<u8>) {
		self.drop_task(job);
		self.answers.retain(|kept| kept.job != job);
		self.answers.push(SignedAnswer { job, answer, sent_at: None });
	}

	/// Forgets the answer kept for `job`, so that it is computed again.
	pub fn forget_answer(&mut self, job: JobId) {
		self.answers.retain(|kept| kept.job != job);
	}

	/// Notes that the answer to `job` was given to the pool (or found there) after block
	/// `now`.
	pub fn note_sent(&mut self, job: JobId, now: u64) {
		if let Some(answer) = self.answers.iter_mut().find(|answer| answer.job == job) {
			answer.sent_at = Some(now);
		}
	}

	/// The task running `job`, if any.
	pub fn task(&self, job: JobId) -> Option<&[u8]> {
		self.tasks.iter().find(|(id, _)| *id == job).map(|(_, task)| task.as_slice())
	}

	/// Notes the task now running `job`, replacing an earlier one.
	pub fn set_task(&mut self, job: JobId, task: Vec<u8>) {
		self.drop_task(job);
		self.tasks.push((job, task));
	}

	/// Forgets the task of `job`.
	pub fn drop_task(&mut self, job: JobId) {
		self.tasks.retain(|(id, _)| *id != job);
	}
}
