//! What a node tells its off-chain workers through off-chain local storage.
//!
//! The node writes the endpoint of the executor its off-chain worker must use (the embedded one,
//! or a separate machine given by `--executor-url`) under [`EXECUTOR_ENDPOINT_KEY`] in the
//! `PERSISTENT` kind at every start, so the off-chain worker never relies on a constant.

use alloc::vec::Vec;
use codec::{Decode, Encode};

/// Off-chain local storage key (kind `PERSISTENT`) of the SCALE-encoded [`ExecutorEndpoint`].
pub const EXECUTOR_ENDPOINT_KEY: &[u8] = b"veritensor::executor-endpoint";

/// Where the executor listens and how to authenticate to it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct ExecutorEndpoint {
	/// Base URL (UTF-8), e.g. `http://127.0.0.1:40123`; requests go to `<url>/v1/...`.
	pub url: Vec<u8>,
	/// Bearer token (UTF-8); empty when the executor needs none.
	pub token: Vec<u8>,
}

/// Prefix of the off-chain local storage key (kind `PERSISTENT`) of a worker key's
/// [`WorkerMetrics`], followed by the key's public bytes. The off-chain worker writes it at the
/// end of every run of that key; the node reads it for its Prometheus endpoint.
pub const WORKER_METRICS_PREFIX: &[u8] = b"veritensor::worker-metrics-v1::";

/// What a worker key's off-chain runs did, counted since the node's off-chain storage began.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode)]
pub struct WorkerMetrics {
	/// Answers with outputs signed.
	pub outputs: u64,
	/// "Cannot execute" answers signed, by reason.
	pub cannot_execute: Vec<(crate::CannotExecuteReason, u64)>,
	/// Batches of answers the transaction pool did not take (already there, or refused).
	pub pool_refusals: u64,
	/// Answers signed and not seen on chain yet, at the end of the last run.
	pub pending_answers: u32,
	/// Executor tasks started and not answered yet, at the end of the last run.
	pub running_tasks: u32,
}

impl WorkerMetrics {
	/// Counts one "cannot execute" answer for `reason`.
	pub fn note_cannot_execute(&mut self, reason: crate::CannotExecuteReason) {
		match self.cannot_execute.iter_mut().find(|(counted, _)| *counted == reason) {
			Some((_, count)) => *count = count.saturating_add(1),
			None => self.cannot_execute.push((reason, 1)),
		}
	}
}
