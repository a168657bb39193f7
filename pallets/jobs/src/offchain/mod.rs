//! The worker node's off-chain worker: runs the jobs assigned to the worker keys in the node's
//! keystore on the node's executor and answers them on chain.
//!
//! After each imported best block, for every registered worker key in the keystore, within a
//! time budget ([`crate::Config::WorkerRunBudget`], about half a slot) shared by the keys:
//!
//! 1. read the key's open assignments ([`crate::WorkerJobs`]) and the journal of earlier runs
//!    ([`Journal`], in `PERSISTENT` off-chain storage);
//! 2. start an executor task for each job that has neither a task nor a signed answer (inline
//!    inputs as they are, remote inputs fetched and checked against their hash first), with the
//!    model's registry URIs so that the executor fetches a model it does not have; each start
//!    carries an idempotency key (chain, job, worker key, input), so that a start repeated
//!    after a lost answer or a restart of the node finds the task already running, and the
//!    time to the job's give-up point, after which the executor drops the task;
//!    Starts go out in batches of up to 64 in one request (as do polls; cancellations go in
//!    flight together), so that a key's many jobs cost a few requests to the executor rather
//!    than one each (an executor without batches gets one request per task); once
//!    the executor refuses a start as overloaded (its task table is full of running tasks and
//!    results not collected yet), the run starts nothing more and spends its time polling,
//!    which collects results and makes room;
//! 3. poll the running tasks while the budget lasts; a task still running is polled again
//!    after the next block, so jobs longer than a block simply answer later; a task the
//!    executor no longer knows (it restarted) is started again at once;
//! 4. sign an answer for every finished job (an output with its receipt, or "cannot execute"
//!    for a failure no retry can cure, or for any failure once the deadline is
//!    [`GIVE_UP_MARGIN`] blocks away), keep it in the journal, and send the answers in general
//!    transactions authorized by the pallet ([`crate::answers`]): the worker key signs each
//!    batch, no account, nonce or fee is involved; batches are bounded in count and in bytes
//!    ([`max_batch_bytes`]);
//! 5. send again, unchanged, every kept answer whose job is still open [`RESEND_AFTER`] blocks
//!    after it was last sent: lost from the pool (a restart, an eviction) or refused, it is
//!    noticed within a block or two. A copy still in some pool is harmless: the pool keeps one
//!    answer per (worker, job).
//!
//! A task no longer wanted (its job ended or given up, or the task failed) is cancelled on the
//! executor (`DELETE`), so that queued work for it never runs and its key is free again.
//!
//! Runs for one key never overlap (a lock in off-chain storage that outlives the budget).

pub mod journal;
mod work;

pub use journal::{Journal, SignedAnswer, Step, Task};

use crate::{
	answers::{answers_payload, Refusal},
	Answer, Call, Config, Job, Submission, WorkerJobs,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use core::cell::Cell;
use frame_support::{dispatch::DispatchClass, traits::Get, BoundedVec};
use frame_system::{
	offchain::{CreateAuthorizedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{StorageLock, Time},
		Duration, Timestamp,
	},
	traits::{Saturating, Zero},
	RuntimeAppPublic, SaturatedConversion,
};
use veritensor_primitives::{
	hashing::commitment,
	offchain::{ExecutorEndpoint, WorkerMetrics, EXECUTOR_ENDPOINT_KEY, WORKER_METRICS_PREFIX},
	traits::WorkerStaking,
	JobId, WorkerId,
};

/// Prefix of the off-chain storage key of a worker key's [`Journal`] (followed by the key). The
/// version changes with the journal's layout, so that a journal of another layout is never
/// read as this one.
pub const JOURNAL_PREFIX: &[u8] = b"veritensor::worker-journal-v4::";

/// Prefix of the off-chain storage key of a worker key's run lock (followed by the key).
pub const LOCK_PREFIX: &[u8] = b"veritensor::worker-lock::";

/// How many blocks before its deadline a job that still fails to run is reported as "cannot
/// execute": the answer then lands by the deadline and the submitter is refunded at once.
pub const GIVE_UP_MARGIN: u32 = 2;

/// Blocks after which an answer sent and still not on chain is sent again (one block, once its
/// deadline is this near).
pub const RESEND_AFTER: u64 = 2;

/// An answer to send, with the step of answering it is.
type Outgoing<T> = (Submission<T>, Step);

/// A worker key as logs show it: its public key in hex.
pub fn key_hex(worker: &WorkerId) -> alloc::string::String {
	alloc::format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&worker.as_ref()))
}

/// The off-chain storage key of `worker`'s journal.
pub fn journal_key(worker: &WorkerId) -> Vec<u8> {
	[JOURNAL_PREFIX, worker.as_ref()].concat()
}

/// The most encoded bytes of answers in one transaction: an eighth of the block space that
/// normal transactions cannot take, so that several workers' batches fit in a block however
/// full of normal transactions it is.
pub fn max_batch_bytes<T: Config>() -> usize {
	let lengths = <T as frame_system::Config>::BlockLength::get();
	let reserved = lengths
		.max
		.get(DispatchClass::Operational)
		.saturating_sub(*lengths.max.get(DispatchClass::Normal));
	(reserved / 8).max(1) as usize
}

/// The most weight one batch of answers declares: an eighth of a block's, so that several
/// workers' batches fit in a block.
pub fn max_batch_weight<T: Config>() -> frame_support::weights::Weight {
	<T as frame_system::Config>::BlockWeights::get().max_block / 8
}

/// Runs the worker's off-chain work after block `now`.
pub fn run<T: Config>(now: BlockNumberFor<T>) {
	let endpoint =
		match StorageValueRef::persistent(EXECUTOR_ENDPOINT_KEY).get::<ExecutorEndpoint>() {
			Ok(Some(endpoint)) => endpoint,
			Ok(None) => {
				log!(debug, "no executor configured on this node: no jobs run");
				return;
			}
			Err(_) => {
				log!(error, "the executor's endpoint in off-chain storage is unreadable");
				return;
			}
		};
	let budget = T::WorkerRunBudget::get();
	let mut clock = RunClock::start();
	let run_end = sp_io::offchain::timestamp().add(Duration::from_millis(budget));
	// A key without assignments or answers to follow has nothing to do, not even taking its
	// lock. (A run reads its journal again under the lock.)
	let busy: Vec<WorkerId> = WorkerId::all()
		.into_iter()
		.filter(|key| T::Workers::worker_account(key).is_some())
		.filter(|key| {
			let nothing_recorded = StorageValueRef::persistent(&journal_key(key))
				.get::<Journal>()
				.is_ok_and(|recorded| recorded.unwrap_or_default() == Journal::default());
			!nothing_recorded || WorkerJobs::<T>::iter_key_prefix(key).next().is_some()
		})
		.collect();
	let keys = busy.len() as u64;
	let selection = clock.lap();
	for (index, key) in busy.into_iter().enumerate() {
		// Each key gets an equal share of what is left, so that one key's long tasks never
		// starve the keys after it.
		let left = run_end.unix_millis().saturating_sub(sp_io::offchain::timestamp().unix_millis());
		let share = left / keys.saturating_sub(index as u64).max(1);
		let run_deadline = sp_io::offchain::timestamp().add(Duration::from_millis(share));
		let lock_key = [LOCK_PREFIX, key.as_ref()].concat();
		// Held for the run; expires only well after any run's end.
		let mut lock = StorageLock::<Time>::with_deadline(
			&lock_key,
			Duration::from_millis(budget.saturating_mul(2)),
		);
		let Ok(_guard) = lock.try_lock() else {
			log!(debug, "worker {}: the previous run is still busy", key_hex(&key));
			continue;
		};
		WorkerRun::<T> { key, endpoint: &endpoint, now, run_deadline, pool_refusals: Cell::new(0) }
			.run();
	}
	if keys > 0 {
		log!(
			debug,
			"after #{now:?}: {keys} worker keys with work, chosen in {selection} ms; all runs took \
			 {} ms (budget {budget} ms)",
			clock.total(),
		);
	}
}

/// Where a run's time goes, for the log: off-chain time in milliseconds.
struct RunClock {
	started: u64,
	last: u64,
}

impl RunClock {
	fn start() -> Self {
		let now = sp_io::offchain::timestamp().unix_millis();
		Self { started: now, last: now }
	}

	/// Milliseconds since the previous lap (or the start).
	fn lap(&mut self) -> u64 {
		let now = sp_io::offchain::timestamp().unix_millis();
		let lap = now.saturating_sub(self.last);
		self.last = now;
		lap
	}

	/// Milliseconds since the start.
	fn total(&self) -> u64 {
		sp_io::offchain::timestamp().unix_millis().saturating_sub(self.started)
	}
}

/// One run for one worker key.
pub(crate) struct WorkerRun<'a, T: Config> {
	pub key: WorkerId,
	pub endpoint: &'a ExecutorEndpoint,
	pub now: BlockNumberFor<T>,
	/// When the run's time budget ends.
	pub run_deadline: Timestamp,
	/// Batches the pool did not take in this run.
	pub pool_refusals: Cell<u64>,
}

impl<T: Config> WorkerRun<'_, T> {
	fn run(&self) {
		let mut clock = RunClock::start();
		let key = journal_key(&self.key);
		let store = StorageValueRef::persistent(&key);
		let stored = store
			.get::<Journal>()
			.unwrap_or_else(|_| {
				let key = key_hex(&self.key);
				log!(warn, "worker {key}: unreadable journal, starting afresh");
				None
			})
			.unwrap_or_default();
		let mut journal = stored.clone();
		let open: Vec<(JobId, Job<T>)> = WorkerJobs::<T>::iter_key_prefix(&self.key)
			.filter_map(|id| crate::Jobs::<T>::get(id).map(|job| (id, job)))
			.collect();
		let inputs: Vec<(JobId, [u8; 32])> =
			open.iter().map(|(id, job)| (*id, job.input_hash.0)).collect();
		self.abandon_all(journal.keep_open(&inputs, self.now.saturated_into()));
		let mut jobs: Vec<(JobId, Job<T>)> =
			open.into_iter().filter(|(_, job)| self.now < job.deadline).collect();
		jobs.sort_by_key(|(id, job)| (job.deadline, *id));
		let state = clock.lap();

		let now: u64 = self.now.saturated_into();
		// Kept answers are checked once, first: one the chain would refuse is dropped, so that
		// its job runs again (at the job's last chance it becomes "cannot execute" instead).
		let mut checked: Vec<(JobId, Option<Outgoing<T>>)> = Vec::new();
		for (id, job) in &jobs {
			if journal.answer(*id).is_none() {
				continue;
			}
			match self.kept_answer(&journal, *id) {
				Ok(answer) => checked.push((*id, answer)),
				Err(()) => {
					journal.forget_answer(*id);
					if self.giving_up(*id, job) {
						let reason = crate::CannotExecuteReason::ExecutionFailed;
						let answer = Answer::<T>::CannotExecute { reason }.encode();
						journal.note_answer(*id, job.input_hash.0, answer, self.salt(*id));
					}
				}
			}
		}
		let due: Vec<(JobId, Job<T>)> =
			jobs.iter().filter(|(id, _)| journal.answer(*id).is_none()).cloned().collect();
		let kept_checked = clock.lap();
		self.answer(&mut journal, &due);
		let executed = clock.lap();
		// Kept answers not sent yet, or sent and still not on chain a while later (every block
		// once the deadline is that near), in deadline order; each checked as the chain will
		// check it (those signed in this run here), so that one bad answer never keeps a whole
		// batch out of the pool. Fresh answers and resent ones go in separate batches: a resent
		// one still in the pool makes the pool refuse its batch.
		let mut fresh: Vec<Outgoing<T>> = Vec::new();
		let mut resent: Vec<Outgoing<T>> = Vec::new();
		for (id, job) in &jobs {
			let Some(kept) = journal.answer(*id).cloned() else { continue };
			let answer = match checked.iter().position(|(job, _)| job == id) {
				Some(index) => Ok(checked.swap_remove(index).1),
				None => self.kept_answer(&journal, *id),
			};
			let (answer, step) = match answer {
				Ok(Some(answer)) => answer,
				Ok(None) => continue,
				Err(()) => {
					journal.forget_answer(*id);
					continue;
				}
			};
			// A quorum member's reveal is a new step: sent at once, whatever the commitment's
			// timing.
			let sent_at = kept.sent_at.filter(|_| kept.sent_step == step);
			let last: u64 = self.last_block(*id, job).saturated_into();
			let wait = if last.saturating_sub(now) <= RESEND_AFTER { 1 } else { RESEND_AFTER };
			match sent_at {
				None => fresh.push((answer, step)),
				Some(sent) if sent.saturating_add(wait) <= now => resent.push((answer, step)),
				Some(_) => {}
			}
		}
		let sending = fresh.len().saturating_add(resent.len());
		let prepared = clock.lap();
		// Kept before sending: what was signed is what is sent, now and later.
		if journal != stored {
			store.set(&journal);
		}
		if !fresh.is_empty() || !resent.is_empty() {
			self.send(&mut journal, fresh);
			self.send(&mut journal, resent);
			store.set(&journal);
		}
		self.count(&stored, &journal);
		let sent = clock.lap();
		log!(
			debug,
			"worker {}: run took {} ms for {} open jobs ({} due, {} answers sent): chain state \
			 {state} ms, kept answers checked {kept_checked} ms, executor {executed} ms, answers \
			 checked {prepared} ms, signed, sent and recorded {sent} ms",
			key_hex(&self.key),
			clock.total(),
			jobs.len(),
			due.len(),
			sending,
		);
	}

	/// Adds what this run did (answers signed, batches refused) to the key's metrics, and
	/// records what it leaves pending. Under the key's run lock, like the journal.
	fn count(&self, before: &Journal, after: &Journal) {
		let key = [WORKER_METRICS_PREFIX, self.key.as_ref()].concat();
		let store = StorageValueRef::persistent(&key);
		let mut metrics = store.get::<WorkerMetrics>().ok().flatten().unwrap_or_default();
		let recorded = metrics.clone();
		let signed = after.answers.iter().filter(|answer| {
			before.answer(answer.job).is_none_or(|earlier| earlier.answer != answer.answer)
		});
		for answer in signed {
			match Answer::<T>::decode(&mut &answer.answer[..]) {
				Ok(Answer::CannotExecute { reason }) => metrics.note_cannot_execute(reason),
				Ok(_) => metrics.outputs = metrics.outputs.saturating_add(1),
				Err(_) => {}
			}
		}
		metrics.pool_refusals = metrics.pool_refusals.saturating_add(self.pool_refusals.get());
		metrics.pending_answers = after.answers.len().saturated_into();
		metrics.running_tasks = after.tasks.len().saturated_into();
		if metrics != recorded {
			store.set(&metrics);
		}
	}

	/// What to send now for the answer kept for `job`, if the chain would take it: the answer
	/// itself (a single-worker job), or a quorum member's commitment to it, or (once reveals
	/// are open) its reveal; `None` if there is nothing to send now or it went stale; an
	/// error, logged, if the answer will never do (unreadable, or refused) and must be computed
	/// again. A quorum member never drops an answer it has committed to on chain: only that
	/// answer can be revealed.
	fn kept_answer(&self, journal: &Journal, job: JobId) -> Result<Option<Outgoing<T>>, ()> {
		let Some(kept) = journal.answer(job) else { return Ok(None) };
		let key = key_hex(&self.key);
		let Ok(answer) = Answer::<T>::decode(&mut &kept.answer[..]) else {
			log!(
				error,
				"worker {key}: the answer kept for job {job} is unreadable; running it again"
			);
			return Err(());
		};
		let (message, step, committed) = match crate::Quorums::<T>::get(job) {
			None => (answer, Step::Answer, false),
			Some(quorum) => {
				let (Some(finding), Some(salt)) = (answer.as_finding(), kept.salt) else {
					log!(error, "worker {key}: the answer kept for quorum job {job} has no salt");
					return Err(());
				};
				let Some(member) = self.member(job) else { return Ok(None) };
				let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
				let mine = commitment(&genesis, job, &self.key, &finding, &salt);
				match quorum.commitments.get(member).copied().flatten() {
					None => {
						self.check_finding(job, &finding)?;
						(Answer::Commit { commitment: mine }, Step::Answer, false)
					}
					Some(on_chain) if on_chain != mine => {
						log!(
							error,
							"worker {key}: the commitment on chain for job {job} is not to the \
							 answer kept; it cannot be revealed",
						);
						return Ok(None);
					}
					Some(_) if !quorum.reveals_open => return Ok(None),
					Some(_) if crate::Reveals::<T>::contains_key(job, member as u32) => {
						return Ok(None)
					}
					Some(_) => (Answer::Reveal { finding, salt }, Step::Reveal, true),
				}
			}
		};
		let submission = Submission { job, answer: message };
		let refusal = match crate::Pallet::<T>::check_answer(&self.key, &submission) {
			Ok(checked) if crate::Pallet::<T>::verify_receipt(&self.key, &checked) => {
				return Ok(Some((submission, step)))
			}
			Ok(_) => crate::Error::<T>::BadReceipt,
			Err(Refusal::Stale(_)) => return Ok(None),
			Err(Refusal::Invalid(error)) => error,
		};
		if committed {
			log!(
				error,
				"worker {key}: the chain would refuse the reveal for job {job} ({refusal:?})",
			);
			return Ok(None);
		}
		log!(
			error,
			"worker {key}: the chain would refuse the answer kept for job {job} ({refusal:?}); \
			 running it again",
		);
		Err(())
	}

	/// Checks a quorum member's finding as its reveal will be checked (schema and receipt),
	/// before committing to it.
	fn check_finding(&self, job_id: JobId, finding: &crate::Finding<T>) -> Result<(), ()> {
		let Some(job) = crate::Jobs::<T>::get(job_id) else { return Err(()) };
		let checked =
			crate::Pallet::<T>::check_finding(&job, finding.clone()).map_err(|refusal| {
				let error = refusal.error();
				log!(
				error,
				"worker {}: the chain would refuse the answer kept for job {job_id} ({error:?}); \
				 running it again",
				key_hex(&self.key),
			);
			})?;
		let checked = crate::answers::CheckedAnswer {
			job_id,
			job,
			kind: crate::answers::Checked::Direct(checked),
		};
		if crate::Pallet::<T>::verify_receipt(&self.key, &checked) {
			Ok(())
		} else {
			log!(error, "worker {}: a bad receipt kept for job {job_id}", key_hex(&self.key));
			Err(())
		}
	}

	/// This key's place among `job`'s workers.
	fn member(&self, job: JobId) -> Option<usize> {
		match crate::Jobs::<T>::get(job)?.state {
			crate::JobState::Assigned { workers, .. } => {
				workers.iter().position(|worker| *worker == self.key)
			}
			_ => None,
		}
	}

	/// The last block in which this key's next answer to `job` is taken: the block before the
	/// commit window ends while a quorum takes commitments, else the deadline.
	pub(super) fn last_block(&self, job_id: JobId, job: &Job<T>) -> BlockNumberFor<T> {
		match crate::Quorums::<T>::get(job_id) {
			Some(quorum) if !quorum.reveals_open => {
				quorum.commit_end.saturating_sub(1u32.into()).min(job.deadline)
			}
			_ => job.deadline,
		}
	}

	/// For an answer that is committed to first (a quorum member's, an audited worker's, an
	/// auditor's or a referee's), a fresh salt (32 bytes of the node's randomness) and the last
	/// block to keep the answer in (the job's deadline); nothing for a single-worker job.
	pub(super) fn salt(&self, job_id: JobId) -> Option<([u8; 32], u64)> {
		let job = crate::Jobs::<T>::get(job_id)?;
		crate::Quorums::<T>::contains_key(job_id)
			.then(|| (sp_io::offchain::random_seed(), job.deadline.saturated_into()))
	}

	/// Gives `answers` to the pool in batches bounded in count, bytes and weight (a reveal
	/// declares the weight of its quorum's decision).
	fn send(&self, journal: &mut Journal, answers: Vec<Outgoing<T>>) {
		let max_count = T::MaxResultsPerCall::get() as usize;
		let max_bytes = max_batch_bytes::<T>();
		let max_weight = max_batch_weight::<T>();
		let mut batch: Vec<Outgoing<T>> = Vec::new();
		let mut bytes = 0usize;
		for answer in answers {
			let size = answer.0.encoded_size();
			let weight = || {
				let answers: Vec<Submission<T>> = batch
					.iter()
					.map(|(answer, _)| answer.clone())
					.chain(core::iter::once(answer.0.clone()))
					.collect();
				crate::Pallet::<T>::answers_weight(&answers)
					.saturating_add(crate::Pallet::<T>::authorize_weight(&answers))
			};
			if !batch.is_empty()
				&& (batch.len() >= max_count
					|| bytes + size > max_bytes
					|| weight().any_gt(max_weight))
			{
				self.send_batch(journal, core::mem::take(&mut batch));
				bytes = 0;
			}
			bytes += size;
			batch.push(answer);
		}
		if !batch.is_empty() {
			self.send_batch(journal, batch);
		}
	}

	/// Signs one batch with the worker key and gives it to the pool.
	fn send_batch(&self, journal: &mut Journal, batch: Vec<Outgoing<T>>) {
		let jobs: Vec<JobId> = batch.iter().map(|(answer, _)| answer.job).collect();
		let steps: Vec<(JobId, Step)> =
			batch.iter().map(|(answer, step)| (answer.job, *step)).collect();
		let answers: Vec<Submission<T>> = batch.into_iter().map(|(answer, _)| answer).collect();
		let what = match steps.first().map(|(_, step)| step) {
			Some(Step::Reveal) => "revealed",
			_ if answers.iter().any(|a| matches!(a.answer, Answer::Commit { .. })) => "committed",
			_ => "answered",
		};
		let key = key_hex(&self.key);
		let Some(signature) = self.key.sign(&answers_payload::<T>(&self.key, &answers)) else {
			log!(error, "worker {key}: the worker key left the keystore; answers not sent");
			return;
		};
		let call = Call::<T>::submit_results {
			worker: self.key.clone(),
			answers: BoundedVec::truncate_from(answers),
			signature,
		};
		let transaction =
			<T as CreateAuthorizedTransaction<Call<T>>>::create_authorized_transaction(call.into());
		let now: u64 = self.now.saturated_into();
		match SubmitTransaction::<T, Call<T>>::submit_transaction(transaction) {
			Ok(()) => {
				log!(info, "worker {key}: {what} jobs {jobs:?}");
				for (job, step) in steps {
					journal.note_sent(job, now, step);
				}
			}
			Err(()) => {
				self.pool_refusals.set(self.pool_refusals.get().saturating_add(1));
				log!(
					info,
					"worker {key}: the pool did not take the answers to jobs {jobs:?} (already \
					 there, or one of them answered or ended meanwhile); sending again later",
				);
				// A resent answer is most likely still in the pool: wait again before the next
				// try. One never taken is tried again next block.
				for (job, step) in steps {
					let sent = journal
						.answer(job)
						.is_some_and(|kept| kept.sent_at.is_some() && kept.sent_step == step);
					if sent {
						journal.note_sent(job, now, step);
					}
				}
			}
		}
	}
}
