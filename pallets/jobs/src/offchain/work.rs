//! One run's work on a worker key's due jobs: executor tasks started and polled, their results
//! turned into signed answers, failures into "cannot execute" or a retry.

use super::{key_hex, Journal, Task, WorkerRun, GIVE_UP_MARGIN};
use crate::{
	executor_client::{
		cancel_task, infer_request, poll_task, remote_infer_request, start_task, ClientError,
		TaskState, TaskTerms,
	},
	Answer, CannotExecuteReason, Config, Job, Payload,
};
use alloc::{format, string::String, vec::Vec};
use codec::Encode;
use frame_support::{traits::Get, BoundedVec};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::hexdisplay::HexDisplay;
use sp_runtime::{
	offchain::{Duration, Timestamp},
	traits::Zero,
	SaturatedConversion, Saturating,
};
use veritensor_primitives::{tensor::Tensor, traits::ModelRegistry, ExecutorErrorKind, JobId};

/// How long one request to the executor may take.
const EXECUTOR_TIMEOUT: Duration = Duration::from_millis(3_000);
/// The least time a request is given, even at the end of a run's budget: a loopback executor
/// answers a poll in a few milliseconds.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(200);
/// Pauses between polls of running tasks: `POLL_PAUSE_MS << n` before the n-th, at most
/// `MAX_POLL_PAUSE_MS`; polling goes on while the run's budget lasts.
const POLL_PAUSE_MS: u64 = 5;
const MAX_POLL_PAUSE_MS: u64 = 200;

/// Why a job did not run this time, with the reason to report if it never will.
struct Failure {
	reason: CannotExecuteReason,
	detail: String,
	/// No retry can cure it.
	permanent: bool,
}

impl Failure {
	fn permanent(reason: CannotExecuteReason, detail: impl Into<String>) -> Self {
		Self { reason, detail: detail.into(), permanent: true }
	}

	fn transient(reason: CannotExecuteReason, detail: impl Into<String>) -> Self {
		Self { reason, detail: detail.into(), permanent: false }
	}
}

impl From<ClientError> for Failure {
	fn from(error: ClientError) -> Self {
		// A remote input's failures wait for the give-up point whatever their kind, and all
		// give the same reason: answered at once, or as "beyond this worker's limits", a
		// refused or mismatched input would tell its submitter whether this worker reached the
		// URI (a probe of the worker's network).
		let (reason, permanent) = if error.is_input_fetch() {
			(CannotExecuteReason::InputUnavailable, false)
		} else {
			(error.reason(), error.is_permanent())
		};
		let detail = match error {
			ClientError::Executor { name, message, .. } => format!("{name}: {message}"),
			ClientError::Unreachable(message) | ClientError::Malformed(message) => message,
		};
		Self { reason, detail, permanent }
	}
}

impl<T: Config> WorkerRun<'_, T> {
	/// Works on `due` jobs (assigned, not answered yet) until each has an answer or the run's
	/// budget ends: starts and polls their tasks, and keeps every answer signed in `journal`.
	pub(crate) fn answer(&self, journal: &mut Journal, due: &[(JobId, Job<T>)]) {
		let mut running = Vec::new();
		for (job_id, job) in due {
			if journal.task(*job_id).is_none() {
				if self.out_of_time() {
					// The next run starts it (or, at the deadline, gives it up below).
					continue;
				}
				match self.start(*job_id, job) {
					Ok(task) => journal.set_task(*job_id, job.input_hash.0, task),
					Err(failure) => {
						self.settle_failure(journal, *job_id, job, failure);
						continue;
					}
				}
			}
			running.push((*job_id, job));
		}

		let mut restarted: Vec<JobId> = Vec::new();
		let mut round = 0u32;
		while !running.is_empty() && !self.out_of_time() {
			if round > 0 {
				let pause = POLL_PAUSE_MS.saturating_mul(1 << round.min(6)).min(MAX_POLL_PAUSE_MS);
				let wake = sp_io::offchain::timestamp().add(Duration::from_millis(pause));
				sp_io::offchain::sleep_until(wake.min(self.run_deadline));
				if self.out_of_time() {
					break;
				}
			}
			round = round.saturating_add(1);
			running.retain(|(job_id, job)| {
				if self.out_of_time() {
					// Polled again in the next run.
					return true;
				}
				let Some(task) = journal.task(*job_id) else { return false };
				let Some(schema) = T::Models::schema(&job.model) else { return false };
				match poll_task::<T::MaxInlineTensorBytes>(
					self.endpoint,
					task,
					&schema,
					self.request_deadline(),
				) {
					Ok(TaskState::Running) => true,
					Ok(TaskState::Done(outputs, output_hash)) => {
						match self.output_answer(*job_id, job, outputs, output_hash) {
							Ok(answer) => journal.note_answer(
								*job_id,
								job.input_hash.0,
								answer.encode(),
								self.salt(*job_id),
							),
							Err(failure) => {
								self.abandon(journal.drop_task(*job_id));
								self.settle_failure(journal, *job_id, job, failure);
							}
						}
						false
					}
					Err(ClientError::Executor {
						kind: Some(ExecutorErrorKind::UnknownTask),
						..
					}) if !restarted.contains(job_id) => {
						// The executor restarted and forgot the task: start it again now.
						restarted.push(*job_id);
						match self.start(*job_id, job) {
							Ok(task) => {
								log!(
									info,
									"worker {}: job {job_id}'s task was lost by the executor; \
									 started again",
									key_hex(&self.key),
								);
								journal.set_task(*job_id, job.input_hash.0, task);
								true
							}
							Err(failure) => {
								journal.drop_task(*job_id);
								self.settle_failure(journal, *job_id, job, failure);
								false
							}
						}
					}
					Err(error @ ClientError::Unreachable(_)) => {
						// No answer in time: the task may well be running still; ask again in a
						// later run.
						if self.giving_up(*job_id, job) {
							self.abandon(journal.drop_task(*job_id));
						}
						self.settle_failure(journal, *job_id, job, error.into());
						false
					}
					Err(error) => {
						// A failed or forgotten task is started afresh in a later run, once the
						// executor has let go of its key.
						self.abandon(journal.drop_task(*job_id));
						self.settle_failure(journal, *job_id, job, error.into());
						false
					}
				}
			});
		}
		// Every due job still without an answer at its last chance is given up, whether its
		// task is still running or this run had no time left to start it.
		for (job_id, job) in due {
			if journal.answer(*job_id).is_none() && self.giving_up(*job_id, job) {
				let failure = Failure::transient(
					CannotExecuteReason::ExecutionFailed,
					"not done on the executor as the deadline nears",
				);
				self.abandon(journal.drop_task(*job_id));
				self.settle_failure(journal, *job_id, job, failure);
			}
		}
	}

	/// Tells the executor that `task` is no longer wanted, so that it does not run it (if it
	/// still waits for a slot) and frees its key for a fresh start. Best effort, and only while
	/// the run has time: a task the executor never hears about ends at its own deadline, the
	/// job's give-up point.
	pub(super) fn abandon(&self, task: Option<Task>) {
		let Some(task) = task else { return };
		if self.out_of_time() {
			return;
		}
		if let Err(error) = cancel_task(self.endpoint, &task.id, self.request_deadline()) {
			log!(
				debug,
				"worker {}: the executor did not drop job {}'s task: {error:?}",
				key_hex(&self.key),
				task.job,
			);
		}
	}

	/// The terms of `job`'s executor task started now: its idempotency key and how long the
	/// task is worth running (until the job's give-up point, at least one block).
	fn task_terms(&self, job_id: JobId, job: &Job<T>) -> TaskTerms {
		let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let key = sp_io::hashing::blake2_256(
			&(genesis, job_id, &self.key, job.model, job.input_hash).encode(),
		);
		let give_up = self.last_block(job_id, job).saturating_sub(GIVE_UP_MARGIN.into());
		let blocks = give_up.saturating_sub(self.now).saturated_into::<u64>().max(1);
		TaskTerms {
			key: format!("{}", HexDisplay::from(&key)),
			timeout_ms: blocks.saturating_mul(T::ExpectedBlockTime::get()),
		}
	}

	/// Whether the run's time budget is spent.
	fn out_of_time(&self) -> bool {
		sp_io::offchain::timestamp() >= self.run_deadline
	}

	/// When a request to the executor made now must be answered: within its own timeout and
	/// the run's budget, but never sooner than [`MIN_REQUEST_TIME`] from now.
	fn request_deadline(&self) -> Timestamp {
		let now = sp_io::offchain::timestamp();
		now.add(EXECUTOR_TIMEOUT).min(self.run_deadline).max(now.add(MIN_REQUEST_TIME))
	}

	/// Whether the last block for `job`'s next answer (its deadline, or a quorum's commit
	/// window) is too near to wait for another run.
	pub(super) fn giving_up(&self, job_id: JobId, job: &Job<T>) -> bool {
		self.now.saturating_add(GIVE_UP_MARGIN.into()) >= self.last_block(job_id, job)
	}

	/// Answers "cannot execute" for a failure no retry can cure, or for any failure once the
	/// deadline is near (the answer is kept in `journal`); otherwise leaves the job for a later
	/// run.
	fn settle_failure(&self, journal: &mut Journal, job_id: JobId, job: &Job<T>, failure: Failure) {
		if failure.permanent || self.giving_up(job_id, job) {
			log!(
				warn,
				"worker {}: job {job_id} cannot execute ({:?}): {}",
				key_hex(&self.key),
				failure.reason,
				failure.detail,
			);
			let answer = Answer::<T>::CannotExecute { reason: failure.reason };
			journal.note_answer(job_id, job.input_hash.0, answer.encode(), self.salt(job_id));
		} else {
			log!(
				info,
				"worker {}: job {job_id} not done yet, retrying: {}",
				key_hex(&self.key),
				failure.detail,
			);
		}
	}

	/// Starts the executor task of a job; returns its id.
	fn start(&self, job_id: JobId, job: &Job<T>) -> Result<Vec<u8>, Failure> {
		let schema = T::Models::schema(&job.model).ok_or_else(|| {
			Failure::permanent(CannotExecuteReason::ModelUnavailable, "the model is not registered")
		})?;
		let input = crate::Inputs::<T>::get(job_id).ok_or_else(|| {
			Failure::transient(CannotExecuteReason::InputUnavailable, "no input on chain")
		})?;
		let uris = T::Models::uris(&job.model);
		let comparison = T::Models::comparison(&job.model);
		let request = match input {
			Payload::Inline(tensors) => {
				infer_request(&job.model, &tensors, &schema, comparison.as_ref(), &uris)
			}
			Payload::Remote { hash, uri } => {
				remote_infer_request(&job.model, &uri, &hash, &schema, comparison.as_ref(), &uris)
			}
		};
		let terms = self.task_terms(job_id, job);
		Ok(start_task(self.endpoint, job_id, &terms, request, self.request_deadline())?)
	}

	/// The answer carrying `outputs`, with the worker key's receipt.
	fn output_answer(
		&self,
		job_id: JobId,
		job: &Job<T>,
		outputs: Vec<Tensor<T::MaxInlineTensorBytes>>,
		output_hash: sp_core::H256,
	) -> Result<Answer<T>, Failure> {
		let output = BoundedVec::try_from(outputs).map_err(|_| {
			Failure::permanent(CannotExecuteReason::ExecutionFailed, "too many output tensors")
		})?;
		let receipt = crate::Pallet::<T>::receipt(job_id, job, output_hash, &self.key);
		let signature = receipt.sign().ok_or_else(|| {
			Failure::transient(
				CannotExecuteReason::ExecutionFailed,
				"the worker key left the keystore",
			)
		})?;
		Ok(Answer::Output { output: Payload::Inline(output), signature })
	}
}
