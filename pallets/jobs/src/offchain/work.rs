//! One run's work on a worker key's due jobs: executor tasks started and polled, their results
//! turned into signed answers, failures into "cannot execute" or a retry.

use super::{key_hex, Journal, Task, WorkerRun, GIVE_UP_MARGIN};
use crate::{
	executor_client::{
		cancel_tasks, infer_request, poll_tasks, remote_infer_request, start_tasks, ClientError,
		TaskStart, TaskState, TaskTerms,
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
use veritensor_primitives::{
	tensor::{IoSchema, Tensor},
	traits::ModelRegistry,
	ExecutorErrorKind, JobId,
};

/// How long one request to the executor may take.
const EXECUTOR_TIMEOUT: Duration = Duration::from_millis(3_000);
/// The least time a request is given, even at the end of a run's budget: a loopback executor
/// answers a poll in a few milliseconds.
const MIN_REQUEST_TIME: Duration = Duration::from_millis(200);
/// Pauses between polls of running tasks: `POLL_PAUSE_MS << n` before the n-th, at most
/// `MAX_POLL_PAUSE_MS`; polling goes on while the run's budget lasts.
const POLL_PAUSE_MS: u64 = 5;
const MAX_POLL_PAUSE_MS: u64 = 200;

/// Most tasks one key's run deals with at once: starts sent in one batch, polls in one batch,
/// cancellations in flight together (each its own request). As many as one answering
/// transaction carries (`MaxResultsPerCall` in the runtime); the executor queues the work it
/// cannot run at once.
const MAX_IN_FLIGHT: usize = 64;

/// The failure of a request the node's HTTP layer dropped without a status.
fn no_answer(what: &str) -> ClientError {
	ClientError::Unreachable(format!("no answer to the {what}"))
}

/// Where a polled task stands once its answer is dealt with.
enum AfterPoll {
	/// Still running: polled again.
	Running,
	/// The executor no longer knows it: started again.
	Lost,
	/// Answered, or failed (settled or left for a later run).
	Ended,
}

/// A poll's answer for one job.
struct Polled<'a, T: Config> {
	job_id: JobId,
	job: &'a Job<T>,
	state: Result<TaskState<T::MaxInlineTensorBytes>, ClientError>,
}

/// Why a job did not run this time, with the reason to report if it never will.
struct Failure {
	reason: CannotExecuteReason,
	detail: String,
	/// No retry can cure it.
	permanent: bool,
	/// The executor said it is overloaded: it takes no more work for now.
	overloaded: bool,
}

impl Failure {
	fn permanent(reason: CannotExecuteReason, detail: impl Into<String>) -> Self {
		Self { reason, detail: detail.into(), permanent: true, overloaded: false }
	}

	fn transient(reason: CannotExecuteReason, detail: impl Into<String>) -> Self {
		Self { reason, detail: detail.into(), permanent: false, overloaded: false }
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
		let overloaded = matches!(
			error,
			ClientError::Executor { kind: Some(ExecutorErrorKind::Overloaded), .. }
		);
		let detail = match error {
			// The executor's messages name their kind already.
			ClientError::Executor { name, message, .. } if message.starts_with(&name) => message,
			ClientError::Executor { name, message, .. } => format!("{name}: {message}"),
			ClientError::Unreachable(message) | ClientError::Malformed(message) => message,
		};
		Self { reason, detail, permanent, overloaded }
	}
}

impl<T: Config> WorkerRun<'_, T> {
	/// Works on `due` jobs (assigned, not answered yet) until each has an answer or the run's
	/// budget ends: starts and polls their tasks, [`MAX_IN_FLIGHT`] at a time, and
	/// keeps every answer signed in `journal`.
	pub(crate) fn answer(&self, journal: &mut Journal, due: &[(JobId, Job<T>)]) {
		let unstarted: Vec<(JobId, &Job<T>)> = due
			.iter()
			.filter(|(job_id, _)| journal.task(*job_id).is_none())
			.map(|(job_id, job)| (*job_id, job))
			.collect();
		for window in unstarted.chunks(MAX_IN_FLIGHT) {
			if self.out_of_time() {
				// The next run starts them (or, at the deadline, gives them up below).
				break;
			}
			let mut overloaded = false;
			for (&(job_id, job), started) in window.iter().zip(self.start_all(window)) {
				match started {
					Ok(task) => journal.set_task(job_id, job.input_hash.0, task),
					Err(failure) => {
						overloaded |= failure.overloaded;
						self.settle_failure(journal, job_id, job, failure)
					}
				}
			}
			if overloaded {
				// The executor has no room (its tasks are running or hold results not collected
				// yet): the rest would be refused too. The run's time goes to polling, which
				// collects results and makes room; the next run starts the rest.
				break;
			}
		}

		let mut running: Vec<(JobId, &Job<T>)> = due
			.iter()
			.filter(|(job_id, _)| journal.task(*job_id).is_some())
			.map(|(job_id, job)| (*job_id, job))
			.collect();
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
			let mut still_running = Vec::new();
			for window in running.chunks(MAX_IN_FLIGHT) {
				if self.out_of_time() {
					// Polled again in the next run.
					still_running.extend_from_slice(window);
					continue;
				}
				let mut unwanted = Vec::new();
				let mut lost = Vec::new();
				for (&(job_id, job), state) in window.iter().zip(self.poll_all(journal, window)) {
					// No task, or its model left the registry: not polled again.
					let Some(state) = state else { continue };
					let polled = Polled { job_id, job, state };
					match self.after_poll(journal, polled, &mut unwanted) {
						AfterPoll::Running => still_running.push((job_id, job)),
						AfterPoll::Lost if !restarted.contains(&job_id) => lost.push((job_id, job)),
						AfterPoll::Lost => {
							let failure = Failure::transient(
								CannotExecuteReason::ExecutionFailed,
								"the executor lost the task again",
							);
							journal.drop_task(job_id);
							self.settle_failure(journal, job_id, job, failure);
						}
						AfterPoll::Ended => {}
					}
				}
				still_running.extend(self.restart(journal, &lost));
				restarted.extend(lost.iter().map(|(job_id, _)| *job_id));
				self.abandon_all(unwanted);
			}
			running = still_running;
		}
		// Every due job still without an answer at its last chance is given up, whether its
		// task is still running or this run had no time left to start it.
		let mut unwanted = Vec::new();
		for (job_id, job) in due {
			if journal.answer(*job_id).is_none() && self.giving_up(*job_id, job) {
				let failure = Failure::transient(
					CannotExecuteReason::ExecutionFailed,
					"not done on the executor as the deadline nears",
				);
				unwanted.extend(journal.drop_task(*job_id));
				self.settle_failure(journal, *job_id, job, failure);
			}
		}
		self.abandon_all(unwanted);
	}

	/// Deals with one poll's answer: an answer signed and kept for a finished task, a failure
	/// settled. Tasks no longer wanted go to `unwanted`.
	fn after_poll(
		&self,
		journal: &mut Journal,
		Polled { job_id, job, state }: Polled<'_, T>,
		unwanted: &mut Vec<Task>,
	) -> AfterPoll {
		match state {
			Ok(TaskState::Running) => AfterPoll::Running,
			Ok(TaskState::Done(outputs, output_hash)) => {
				match self.output_answer(job_id, job, outputs, output_hash) {
					Ok(answer) => journal.note_answer(
						job_id,
						job.input_hash.0,
						answer.encode(),
						self.salt(job_id),
					),
					Err(failure) => {
						unwanted.extend(journal.drop_task(job_id));
						self.settle_failure(journal, job_id, job, failure);
					}
				}
				AfterPoll::Ended
			}
			// The executor restarted and forgot the task.
			Err(ClientError::Executor { kind: Some(ExecutorErrorKind::UnknownTask), .. }) => {
				AfterPoll::Lost
			}
			Err(error @ ClientError::Unreachable(_)) => {
				// No answer in time: the task may well be running still; ask again in a later
				// run.
				if self.giving_up(job_id, job) {
					unwanted.extend(journal.drop_task(job_id));
				}
				self.settle_failure(journal, job_id, job, error.into());
				AfterPoll::Ended
			}
			Err(error) => {
				// A failed or forgotten task is started afresh in a later run, once the
				// executor has let go of its key.
				unwanted.extend(journal.drop_task(job_id));
				self.settle_failure(journal, job_id, job, error.into());
				AfterPoll::Ended
			}
		}
	}

	/// Starts again, together, the tasks of `lost` jobs the executor forgot (it restarted),
	/// while the run has time; returns the jobs now running. Out of time, their tasks stay in
	/// the journal and the next run finds them lost and starts them.
	fn restart<'a>(
		&self,
		journal: &mut Journal,
		lost: &[(JobId, &'a Job<T>)],
	) -> Vec<(JobId, &'a Job<T>)> {
		if lost.is_empty() || self.out_of_time() {
			return Vec::new();
		}
		let mut running = Vec::new();
		for (&(job_id, job), started) in lost.iter().zip(self.start_all(lost)) {
			match started {
				Ok(task) => {
					log!(
						info,
						"worker {}: job {job_id}'s task was lost by the executor; started again",
						key_hex(&self.key),
					);
					journal.set_task(job_id, job.input_hash.0, task);
					running.push((job_id, job));
				}
				Err(failure) => {
					journal.drop_task(job_id);
					self.settle_failure(journal, job_id, job, failure);
				}
			}
		}
		running
	}

	/// Asks the executor where the tasks of `jobs` stand, in one batch; `None` for a
	/// job without a task or whose model left the registry.
	fn poll_all(
		&self,
		journal: &Journal,
		jobs: &[(JobId, &Job<T>)],
	) -> Vec<Option<Result<TaskState<T::MaxInlineTensorBytes>, ClientError>>> {
		let polled: Vec<Option<(Vec<u8>, IoSchema)>> = jobs
			.iter()
			.map(|(job_id, job)| {
				Some((journal.task(*job_id)?.to_vec(), T::Models::schema(&job.model)?))
			})
			.collect();
		let tasks: Vec<(&[u8], &IoSchema)> =
			polled.iter().flatten().map(|(id, schema)| (&id[..], schema)).collect();
		let mut states =
			poll_tasks::<T::MaxInlineTensorBytes>(self.endpoint, &tasks, self.request_deadline())
				.into_iter();
		polled
			.iter()
			.map(|task| {
				task.as_ref().map(|_| states.next().unwrap_or_else(|| Err(no_answer("poll"))))
			})
			.collect()
	}

	/// Tells the executor that `tasks` are no longer wanted, so that it does not run those
	/// still waiting for a slot and frees their keys for fresh starts. Best effort, and only
	/// while the run has time: a task the executor never hears about ends at its own deadline,
	/// the job's give-up point.
	pub(super) fn abandon_all(&self, tasks: Vec<Task>) {
		for window in tasks.chunks(MAX_IN_FLIGHT) {
			if self.out_of_time() {
				return;
			}
			let ids: Vec<Vec<u8>> = window.iter().map(|task| task.id.clone()).collect();
			let cancelled = cancel_tasks(self.endpoint, &ids, self.request_deadline());
			for (task, outcome) in window.iter().zip(cancelled) {
				if let Err(error) = outcome {
					log!(
						debug,
						"worker {}: the executor did not drop job {}'s task: {error:?}",
						key_hex(&self.key),
						task.job,
					);
				}
			}
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

	/// What starts the executor task of a job: its request and terms.
	fn prepare(&self, job_id: JobId, job: &Job<T>) -> Result<TaskStart, Failure> {
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
		Ok(TaskStart { job: job_id, terms: self.task_terms(job_id, job), request })
	}

	/// Starts the executor tasks of `jobs`, in one batch; returns each one's task
	/// id, in order.
	fn start_all(&self, jobs: &[(JobId, &Job<T>)]) -> Vec<Result<Vec<u8>, Failure>> {
		// Jobs that cannot be started keep their failure; the others' starts go out together.
		let mut prepared: Vec<Result<(), Failure>> = Vec::with_capacity(jobs.len());
		let mut starts = Vec::new();
		for (job_id, job) in jobs {
			prepared.push(self.prepare(*job_id, job).map(|start| starts.push(start)));
		}
		let mut started = start_tasks(self.endpoint, starts, self.request_deadline()).into_iter();
		prepared
			.into_iter()
			.map(|prepared| {
				prepared?;
				Ok(started.next().unwrap_or_else(|| Err(no_answer("start")))?)
			})
			.collect()
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
