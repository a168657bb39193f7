//! The worker node's off-chain worker: runs the jobs assigned to the worker keys in the node's
//! keystore on the node's executor and answers them on chain.
//!
//! After each imported best block, for every registered worker key in the keystore:
//!
//! 1. read the key's open assignments ([`crate::WorkerJobs`]) and the journal of earlier runs
//!    ([`Journal`], in `PERSISTENT` off-chain storage);
//! 2. start an executor task for each job that has none (inline inputs as they are, remote
//!    inputs fetched and checked against their hash first), with the model's registry URIs so
//!    that the executor fetches a model it does not have;
//! 3. poll the running tasks for a few hundred milliseconds; a task still running is polled
//!    again after the next block, so jobs longer than a block simply answer later;
//! 4. sign a receipt for every finished job, turn every failure no retry can cure into
//!    "cannot execute" with its reason (and every other failure too once the deadline is
//!    [`GIVE_UP_MARGIN`] blocks away), and send all answers in one `submit_results`
//!    transaction signed by the worker key, under a nonce of the off-chain worker's own (see
//!    [`journal`]).
//!
//! Runs for one key never overlap (a lock in off-chain storage). A job answered by a
//! transaction that may still land is not answered again; one whose transaction landed and
//! failed, expired, or was lost when the node restarted, is.

pub mod journal;
mod work;

pub use journal::{Journal, SentBatch};

use crate::{Call, Config, Job, Submission, WorkerJobs};
use alloc::vec::Vec;
use frame_support::{traits::Get, BoundedVec};
use frame_system::{
	offchain::{AppCrypto, CreateSignedTransaction, SubmitTransaction},
	pallet_prelude::BlockNumberFor,
};
use sp_runtime::{
	offchain::{
		storage::StorageValueRef,
		storage_lock::{BlockAndTime, StorageLock},
		Duration,
	},
	RuntimeAppPublic, SaturatedConversion,
};
use veritensor_primitives::{
	offchain::{ExecutorEndpoint, EXECUTOR_ENDPOINT_KEY, NODE_START_KEY},
	traits::WorkerStaking,
	JobId, WorkerId,
};

/// Prefix of the off-chain storage key of a worker key's [`Journal`] (followed by the key).
pub const JOURNAL_PREFIX: &[u8] = b"veritensor::worker-journal::";

/// Prefix of the off-chain storage key of a worker key's run lock (followed by the key).
pub const LOCK_PREFIX: &[u8] = b"veritensor::worker-lock::";

/// How many blocks before its deadline a job that still fails to run is reported as "cannot
/// execute": the answer then lands by the deadline and the submitter is refunded at once.
pub const GIVE_UP_MARGIN: u32 = 2;

/// How long a run may hold a key's lock before another run may take it over.
const LOCK_EXPIRY: Duration = Duration::from_millis(60_000);

/// A worker key as logs show it: its public key in hex.
pub fn key_hex(worker: &WorkerId) -> alloc::string::String {
	alloc::format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&worker.as_ref()))
}

/// The off-chain storage key of `worker`'s journal.
pub fn journal_key(worker: &WorkerId) -> Vec<u8> {
	[JOURNAL_PREFIX, worker.as_ref()].concat()
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
	let node_start =
		StorageValueRef::persistent(NODE_START_KEY).get::<u64>().ok().flatten().unwrap_or_default();
	for key in WorkerId::all() {
		let Some(account) = T::Workers::worker_account(&key) else { continue };
		// A key without assignments or transactions to follow has nothing to do, not even
		// taking its lock. (The run reads its journal again under the lock.)
		let nothing_recorded = StorageValueRef::persistent(&journal_key(&key))
			.get::<Journal>()
			.is_ok_and(|recorded| recorded.unwrap_or_default() == Journal::default());
		if nothing_recorded && WorkerJobs::<T>::iter_key_prefix(&key).next().is_none() {
			continue;
		}
		let lock_key = [LOCK_PREFIX, key.as_ref()].concat();
		let mut lock =
			StorageLock::<BlockAndTime<frame_system::Pallet<T>>>::with_block_and_time_deadline(
				&lock_key,
				1,
				LOCK_EXPIRY,
			);
		let Ok(_guard) = lock.try_lock() else {
			log!(debug, "worker {}: the previous run is still busy", key_hex(&key));
			continue;
		};
		WorkerRun::<T> { key, account, endpoint: &endpoint, now, node_start }.run();
	}
}

/// One run for one worker key.
pub(crate) struct WorkerRun<'a, T: Config> {
	pub key: WorkerId,
	pub account: T::AccountId,
	pub endpoint: &'a ExecutorEndpoint,
	pub now: BlockNumberFor<T>,
	pub node_start: u64,
}

impl<T: Config> WorkerRun<'_, T> {
	fn run(&self) {
		let key = journal_key(&self.key);
		let store = StorageValueRef::persistent(&key);
		let stored = store
			.get::<Journal>()
			.unwrap_or_else(|_| {
				let key = key_hex(&self.key);
				log!(warn, "worker {key}: unreadable record, starting afresh");
				None
			})
			.unwrap_or_default();
		let mut journal = stored.clone();
		let chain_nonce: u64 =
			frame_system::Pallet::<T>::account_nonce(&self.account).saturated_into();
		journal.forget_settled(chain_nonce, self.now.saturated_into(), self.node_start);

		let open: Vec<JobId> = WorkerJobs::<T>::iter_key_prefix(&self.key).collect();
		journal.tasks.retain(|(job, _)| open.contains(job));
		let mut due: Vec<(JobId, Job<T>)> = open
			.into_iter()
			.filter(|job| !journal.in_flight(*job))
			.filter_map(|id| crate::Jobs::<T>::get(id).map(|job| (id, job)))
			.filter(|(_, job)| self.now < job.deadline)
			.collect();
		due.sort_by_key(|(id, job)| (job.deadline, *id));
		due.truncate(T::MaxResultsPerCall::get() as usize);

		let answers = self.answer(&mut journal, &due);
		if !answers.is_empty() {
			self.send(&mut journal, answers, chain_nonce);
		}
		// An idle worker writes nothing.
		if journal != stored {
			store.set(&journal);
		}
	}

	/// Gives `answers` to the pool in one transaction under the next free nonce.
	fn send(&self, journal: &mut Journal, answers: Vec<Submission<T>>, chain_nonce: u64) {
		let jobs: Vec<JobId> = answers.iter().map(|answer| answer.job).collect();
		let Ok(answers) = BoundedVec::try_from(answers) else {
			log!(error, "more answers than one transaction carries");
			return;
		};
		let nonce = journal.next_nonce(chain_nonce);
		let public: T::Public =
			<T::WorkerSigner as AppCrypto<T::Public, T::Signature>>::GenericPublic::from(
				self.key.clone(),
			)
			.into();
		let call = Call::<T>::submit_results { answers };
		let Some(transaction) = <T as CreateSignedTransaction<Call<T>>>::create_signed_transaction::<
			T::WorkerSigner,
		>(
			call.into(), public, self.account.clone(), nonce.saturated_into()
		) else {
			let key = key_hex(&self.key);
			log!(error, "worker {key}: could not sign the results transaction");
			return;
		};
		match SubmitTransaction::<T, Call<T>>::submit_transaction(transaction) {
			Ok(()) => {
				let now: u64 = self.now.saturated_into();
				let lifetime = u64::from(T::ResultTransactionLifetime::get());
				log!(info, "worker {}: answered jobs {jobs:?} (nonce {nonce})", key_hex(&self.key),);
				journal.note_sent(SentBatch {
					nonce,
					// Born at the parent block: the last block of its era.
					expires: now.saturating_add(lifetime).saturating_sub(2),
					node_start: self.node_start,
					jobs,
				});
			}
			Err(()) => log!(
				warn,
				"worker {}: the pool refused the results transaction for jobs {jobs:?} (nonce \
				 {nonce}): the key's account may lack funds for the fees, or a transaction of an \
				 earlier run took that nonce meanwhile. Retrying next block.",
				key_hex(&self.key),
			),
		}
	}
}
