//! One run's work on a worker key's due jobs: executor tasks started and polled, their results
//! turned into signed answers, failures into "cannot execute" or a retry.

use super::{key_hex, Journal, WorkerRun, GIVE_UP_MARGIN};
use crate::{
	executor_client::{
		infer_request, poll_task, remote_infer_request, start_task, ClientError, TaskState,
	},
	Answer, CannotExecuteReason, Config, Job, Payload, Submission,
};
use alloc::{format, string::String, vec::Vec};
use frame_support::BoundedVec;
use sp_runtime::{offchain::Duration, traits::Zero, Saturating};
use veritensor_primitives::{tensor::Tensor, traits::ModelRegistry, JobId, Receipt};

/// How long one request to the executor may take.
const EXECUTOR_TIMEOUT: Duration = Duration::from_millis(3_000);
/// Polls of running tasks in one run, the pause before the n-th being `POLL_PAUSE_MS << n`
/// (310 ms in all).
const POLL_ROUNDS: u32 = 6;
const POLL_PAUSE_MS: u64 = 5;

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
		let (reason, permanent) = (error.reason(), error.is_permanent());
		let detail = match error {
			ClientError::Executor { name, message, .. } => format!("{name}: {message}"),
			ClientError::Unreachable(message) | ClientError::Malformed(message) => message,
		};
		Self { reason, detail, permanent }
	}
}

impl<T: Config> WorkerRun<'_, T> {
	/// The answers ready in this run for `due` jobs; starts and forgets tasks in `journal`.
	pub(super) fn answer(
		&self,
		journal: &mut Journal,
		due: &[(JobId, Job<T>)],
	) -> Vec<Submission<T>> {
		let mut answers = Vec::new();
		let mut running = Vec::new();
		for (job_id, job) in due {
			if journal.task(*job_id).is_none() {
				match self.start(*job_id, job) {
					Ok(task) => journal.set_task(*job_id, task),
					Err(failure) => {
						self.settle_failure(*job_id, job, failure, &mut answers);
						continue;
					}
				}
			}
			running.push((*job_id, job));
		}

		let deadline = || sp_io::offchain::timestamp().add(EXECUTOR_TIMEOUT);
		for round in 0..POLL_ROUNDS {
			if running.is_empty() {
				break;
			}
			if round > 0 {
				let pause = Duration::from_millis(POLL_PAUSE_MS << round);
				sp_io::offchain::sleep_until(sp_io::offchain::timestamp().add(pause));
			}
			running.retain(|(job_id, job)| {
				let Some(task) = journal.task(*job_id) else { return false };
				let Some(schema) = T::Models::schema(&job.model) else { return false };
				match poll_task::<T::MaxInlineTensorBytes>(self.endpoint, task, &schema, deadline())
				{
					Ok(TaskState::Running) => true,
					Ok(TaskState::Done(outputs, output_hash)) => {
						match self.output_answer(*job_id, job, outputs, output_hash) {
							Ok(answer) => answers.push(self.submission(*job_id, answer)),
							Err(failure) => {
								journal.drop_task(*job_id);
								self.settle_failure(*job_id, job, failure, &mut answers);
							}
						}
						false
					}
					Err(error) => {
						// A failed or forgotten task is started afresh in a later run.
						journal.drop_task(*job_id);
						self.settle_failure(*job_id, job, error.into(), &mut answers);
						false
					}
				}
			});
		}
		for (job_id, job) in running {
			if self.giving_up(job) {
				let failure = Failure::transient(
					CannotExecuteReason::ExecutionFailed,
					"still running on the executor as the deadline nears",
				);
				self.settle_failure(job_id, job, failure, &mut answers);
			}
		}
		answers
	}

	/// Whether `job`'s deadline is too near to wait for another run.
	fn giving_up(&self, job: &Job<T>) -> bool {
		self.now.saturating_add(GIVE_UP_MARGIN.into()) >= job.deadline
	}

	fn submission(&self, job: JobId, answer: Answer<T>) -> Submission<T> {
		Submission { job, worker: self.key.clone(), answer }
	}

	/// Answers "cannot execute" for a failure no retry can cure, or for any failure once the
	/// deadline is near; otherwise leaves the job for a later run.
	fn settle_failure(
		&self,
		job_id: JobId,
		job: &Job<T>,
		failure: Failure,
		answers: &mut Vec<Submission<T>>,
	) {
		if failure.permanent || self.giving_up(job) {
			log!(
				warn,
				"worker {}: job {job_id} cannot execute ({:?}): {}",
				key_hex(&self.key),
				failure.reason,
				failure.detail,
			);
			answers.push(self.submission(job_id, Answer::CannotExecute { reason: failure.reason }));
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
		let deadline = sp_io::offchain::timestamp().add(EXECUTOR_TIMEOUT);
		Ok(start_task(self.endpoint, request, deadline)?)
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
		let receipt = Receipt {
			genesis_hash: frame_system::Pallet::<T>::block_hash(
				frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
			),
			job_id,
			model: job.model,
			input_hash: job.input_hash,
			output_hash,
			worker: self.key.clone(),
		};
		let signature = receipt.sign().ok_or_else(|| {
			Failure::transient(
				CannotExecuteReason::ExecutionFailed,
				"the worker key left the keystore",
			)
		})?;
		Ok(Answer::Output { output: Payload::Inline(output), signature })
	}
}
