//! The off-chain worker's journal of one worker key, what it remembers between runs: the
//! executor tasks it started and the result transactions that may still land. Kept in
//! `PERSISTENT` off-chain storage, so it survives a restart of the node.
//!
//! Nonces are the off-chain worker's own: a transaction still waiting in the pool keeps its
//! nonce until it lands, expires or is lost with a restart of the node, so a new one never
//! clashes with it; a lost one's nonce is the first to be used again, so that of two
//! transactions answering the same jobs at most one can ever land.

use alloc::vec::Vec;
use codec::{Decode, Encode};
use veritensor_primitives::JobId;

/// A result transaction the off-chain worker sent.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct SentBatch {
	/// The transaction's nonce.
	pub nonce: u64,
	/// The last block it can land in (its mortal era ends there or sooner).
	pub expires: u64,
	/// The start time of the node whose pool it was given to.
	pub node_start: u64,
	/// The jobs it answers.
	pub jobs: Vec<JobId>,
}

/// The off-chain worker's journal for one worker key.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct Journal {
	/// Executor tasks started and not answered yet: job and task id.
	pub tasks: Vec<(JobId, Vec<u8>)>,
	/// Result transactions that may still land.
	pub sent: Vec<SentBatch>,
}

impl Journal {
	/// Forgets the transactions that can no longer land: their nonce is used on chain (they
	/// landed, or failed and their jobs are still open), they expired, or the node restarted
	/// since and its pool lost them.
	pub fn forget_settled(&mut self, chain_nonce: u64, now: u64, node_start: u64) {
		self.sent.retain(|batch| {
			batch.nonce >= chain_nonce && batch.expires >= now && batch.node_start == node_start
		});
	}

	/// Whether a transaction that may still land answers `job`.
	pub fn in_flight(&self, job: JobId) -> bool {
		self.sent.iter().any(|batch| batch.jobs.contains(&job))
	}

	/// The nonce of the next transaction: the lowest from the chain's that no transaction that
	/// may still land holds.
	pub fn next_nonce(&self, chain_nonce: u64) -> u64 {
		let mut nonce = chain_nonce;
		while self.sent.iter().any(|batch| batch.nonce == nonce) {
			nonce = nonce.saturating_add(1);
		}
		nonce
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

	/// Notes a transaction given to the pool; the tasks of its jobs are done with.
	pub fn note_sent(&mut self, batch: SentBatch) {
		self.tasks.retain(|(job, _)| !batch.jobs.contains(job));
		self.sent.push(batch);
	}
}
