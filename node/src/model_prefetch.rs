//! Models ready before their jobs: after each new best block, the node asks its executor to
//! fetch every model its worker keys serve (their registration's models, listed or deprecated)
//! that the executor has not confirmed yet, so that the first job of a model does not spend
//! its deadline on the download. With `--executor-remove-unlisted`, models in the embedded
//! executor's store that will run no more jobs (delisted or deprecated with no open jobs, or
//! unknown to the registry) and that none of the node's workers serves are removed once they
//! have stayed so for [`RETIRED_GRACE`].
//!
//! The executor is asked through its HTTP API (for a remote one, through the node's link), the
//! same way the off-chain worker reaches it; the executor downloads each model once however
//! many ask. Loading is left to the first job: models run in child processes, each of which
//! loads what it runs.

use futures::{FutureExt, StreamExt};
use pallet_models::{runtime_api::ModelsApi, ModelRecord, StatusKind};
use pallet_workers::runtime_api::WorkersApi;
use sc_client_api::BlockchainEvents;
use sp_api::ProvideRuntimeApi;
use sp_keystore::KeystorePtr;
use std::{
	collections::{BTreeSet, HashMap, HashSet},
	sync::Arc,
	time::{Duration, Instant},
};
use veritensor_executor::{client::ApiClient, store::hash_hex, Executor};
use veritensor_primitives::{ModelHash, WorkerId, WORKER_KEY_TYPE};
use veritensor_runtime::{opaque::Block, AccountId, Balance, BlockNumber, Runtime};

/// How long one request to fetch a model may wait for the download: less than a remote
/// executor's link waits (120 s). The executor goes on past it (its own fetch deadline bounds
/// the download), and the model is asked about again after as long, when it is likely stored.
const FETCH_WAIT: Duration = Duration::from_secs(100);

/// How long after a failed fetch the model is tried again: a registry URI that is down is not
/// hammered every block (jobs of the model still fetch it themselves).
const FETCH_RETRY: Duration = Duration::from_secs(600);

/// How often models already confirmed are asked about again, in case the store lost one (a
/// damaged file is deleted when read).
const CONFIRMED_FOR: Duration = Duration::from_secs(600);

/// How often the store is swept for models no longer listed.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// How long a model must stay retired (delisted, deprecated with no open jobs, or unknown to
/// the registry) before it is removed: a re-org or a brief state on one fork does not cost a
/// download of a model that comes back.
pub const RETIRED_GRACE: Duration = Duration::from_secs(3_600);

/// Whether a model will run no more jobs, from the registry's record of it (its status and
/// open jobs; `None` without a record). A proposed model may yet be listed.
pub fn retired(standing: Option<(StatusKind, u32)>) -> bool {
	match standing {
		None => true,
		Some((StatusKind::Delisted | StatusKind::Deprecated, open_jobs)) => open_jobs == 0,
		Some((StatusKind::Proposed | StatusKind::Listed, _)) => false,
	}
}

/// Models seen retired, and since when: one is due for removal once it has stayed retired for
/// [`RETIRED_GRACE`] without a break.
#[derive(Default)]
pub struct Retirements {
	since: HashMap<ModelHash, Instant>,
}

impl Retirements {
	/// Notes what the registry says of `model` at `now`; returns whether it is due for removal.
	pub fn due(&mut self, model: ModelHash, retired: bool, now: Instant) -> bool {
		if !retired {
			self.since.remove(&model);
			return false;
		}
		let since = *self.since.entry(model).or_insert(now);
		let due = now.saturating_duration_since(since) >= RETIRED_GRACE;
		if due {
			self.since.remove(&model);
		}
		due
	}
}

/// The prefetcher's view of the chain: the models the node's worker keys serve, and the
/// registry's records. An error (a runtime whose API this node cannot call or decode, after an
/// upgrade) is not an empty answer: the pass that meets one does nothing.
pub trait Registry: Send + Sync {
	/// The models the registered worker keys in `keys` serve, at block `at`.
	fn served(
		&self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		keys: &[WorkerId],
	) -> Result<BTreeSet<ModelHash>, String>;
	/// The registry's record of `model` at block `at`.
	fn record(
		&self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		model: ModelHash,
	) -> Result<Option<ModelRecord<Runtime>>, String>;
}

impl<C> Registry for C
where
	C: ProvideRuntimeApi<Block> + Send + Sync,
	C::Api:
		WorkersApi<Block, AccountId, Balance, BlockNumber> + ModelsApi<Block, ModelRecord<Runtime>>,
{
	fn served(
		&self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		keys: &[WorkerId],
	) -> Result<BTreeSet<ModelHash>, String> {
		let api = self.runtime_api();
		let mut served = BTreeSet::new();
		for key in keys {
			let info = api.worker(at, key.clone()).map_err(|e| format!("WorkersApi: {e}"))?;
			served.extend(info.into_iter().flat_map(|info| info.models));
		}
		Ok(served)
	}

	fn record(
		&self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		model: ModelHash,
	) -> Result<Option<ModelRecord<Runtime>>, String> {
		self.runtime_api().model(at, model).map_err(|e| format!("ModelsApi: {e}"))
	}
}

/// Fetches the models the node's workers serve, and sweeps retired ones from the store.
pub struct Prefetcher<R> {
	registry: Arc<R>,
	keystore: KeystorePtr,
	executor: ApiClient,
	/// The embedded executor, whose store is swept; `None` leaves the store alone.
	sweep: Option<Arc<Executor>>,
	confirmed: HashMap<ModelHash, Instant>,
	retry_at: HashMap<ModelHash, Instant>,
	retirements: Retirements,
	last_sweep: Option<Instant>,
	/// Whether the last pass met a failing runtime API (logged once until it passes).
	api_failing: bool,
}

impl<R: Registry> Prefetcher<R> {
	/// A prefetcher asking the executor at `endpoint` (URL and token, as the off-chain worker
	/// has them); with `sweep`, removing retired models from that executor's store.
	pub fn new(
		registry: Arc<R>,
		keystore: KeystorePtr,
		url: &str,
		token: &str,
		sweep: Option<Arc<Executor>>,
	) -> Result<Self, String> {
		let executor = ApiClient::new(url, Some(token)).map_err(|e| e.to_string())?;
		Ok(Self {
			registry,
			keystore,
			executor,
			sweep,
			confirmed: HashMap::new(),
			retry_at: HashMap::new(),
			retirements: Retirements::default(),
			last_sweep: None,
			api_failing: false,
		})
	}

	/// One pass at the best block `at`.
	pub async fn pass(&mut self, at: <Block as sp_runtime::traits::Block>::Hash) {
		let keys: Vec<WorkerId> = self
			.keystore
			.sr25519_public_keys(WORKER_KEY_TYPE)
			.into_iter()
			.map(WorkerId::from)
			.collect();
		let served =
			if keys.is_empty() { Ok(BTreeSet::new()) } else { self.registry.served(at, &keys) };
		let outcome = match served {
			Ok(served) => self.fetch_all(at, &served).await.and_then(|()| self.sweep(at, &served)),
			Err(error) => Err(error),
		};
		match outcome {
			Ok(()) => self.api_failing = false,
			Err(error) if !self.api_failing => {
				self.api_failing = true;
				log::warn!(
					"🧮 Models ahead of jobs paused: the runtime's API failed ({error}); tried \
					 again at every block"
				);
			}
			Err(_) => {}
		}
	}

	async fn fetch_all(
		&mut self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		served: &BTreeSet<ModelHash>,
	) -> Result<(), String> {
		for model in served {
			self.fetch(at, *model).await?;
		}
		Ok(())
	}

	async fn fetch(
		&mut self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		model: ModelHash,
	) -> Result<(), String> {
		let now = Instant::now();
		let recent = |when: Option<&Instant>, within: Duration| {
			when.is_some_and(|when| now.saturating_duration_since(*when) < within)
		};
		if recent(self.confirmed.get(&model), CONFIRMED_FOR)
			|| self.retry_at.get(&model).is_some_and(|retry| now < *retry)
		{
			return Ok(());
		}
		let Some(record) = self.registry.record(at, model)? else { return Ok(()) };
		if !matches!(record.status.kind(), StatusKind::Listed | StatusKind::Deprecated) {
			return Ok(());
		}
		let uris: Vec<String> =
			record.spec.uris.iter().map(|uri| String::from_utf8_lossy(uri).into_owned()).collect();
		let hash = hash_hex(&model);
		match self.executor.fetch_model(&model, &uris, FETCH_WAIT).await {
			Ok(downloaded) => {
				if downloaded {
					log::info!(
						"🧮 Fetched model {hash}, served by this node's workers, ahead of its jobs"
					);
				}
				self.retry_at.remove(&model);
				self.confirmed.insert(model, Instant::now());
			}
			Err(error) if error.timed_out() => {
				log::info!(
					"🧮 Model {hash}, served by this node's workers, still downloading ahead of \
					 its jobs: {error}"
				);
				self.retry_at.insert(model, Instant::now() + FETCH_WAIT);
			}
			Err(error) => {
				log::warn!(
					"🧮 Could not fetch model {hash} ahead of its jobs (tried again in {} \
					 minutes; its jobs fetch it too): {error}",
					FETCH_RETRY.as_secs() / 60
				);
				self.retry_at.insert(model, Instant::now() + FETCH_RETRY);
			}
		}
		Ok(())
	}

	fn sweep(
		&mut self,
		at: <Block as sp_runtime::traits::Block>::Hash,
		served: &BTreeSet<ModelHash>,
	) -> Result<(), String> {
		let Some(executor) = self.sweep.clone() else { return Ok(()) };
		let now = Instant::now();
		if self.last_sweep.is_some_and(|last| now.saturating_duration_since(last) < SWEEP_EVERY) {
			return Ok(());
		}
		let stored = match executor.store().hashes() {
			Ok(stored) => stored,
			Err(error) => {
				log::warn!("🧮 Listing the model store: {error}");
				self.last_sweep = Some(now);
				return Ok(());
			}
		};
		// Every standing read before anything is removed: a failing API removes nothing.
		let mut standings = Vec::with_capacity(stored.len());
		for model in stored {
			let record = self.registry.record(at, model)?;
			standings.push((model, record.map(|record| (record.status.kind(), record.open_jobs))));
		}
		self.last_sweep = Some(now);
		let live: HashSet<ModelHash> = standings.iter().map(|(model, _)| *model).collect();
		self.retirements.since.retain(|model, _| live.contains(model));
		for (model, standing) in standings {
			let retired = !served.contains(&model) && retired(standing);
			if !self.retirements.due(model, retired, now) {
				continue;
			}
			match executor.store().remove(&model) {
				Ok(true) => log::info!(
					"🧮 Removed model {} from the store: the registry no longer lists it",
					hash_hex(&model)
				),
				Ok(false) => {}
				Err(error) => log::warn!("🧮 Removing a retired model: {error}"),
			}
		}
		Ok(())
	}
}

/// Runs `prefetcher` after every new best block, skipping to the newest when passes fall
/// behind.
pub async fn run<C, R>(client: Arc<C>, mut prefetcher: Prefetcher<R>)
where
	C: BlockchainEvents<Block>,
	R: Registry,
{
	let mut imported = client.import_notification_stream();
	while let Some(block) = imported.next().await {
		let mut best = block.is_new_best.then_some(block.hash);
		while let Some(Some(next)) = imported.next().now_or_never() {
			if next.is_new_best {
				best = Some(next.hash);
			}
		}
		if let Some(best) = best {
			prefetcher.pass(best).await;
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn delisted_unknown_and_finished_deprecated_models_are_retired() {
		assert!(retired(None), "unknown to the registry");
		assert!(retired(Some((StatusKind::Delisted, 0))));
		assert!(!retired(Some((StatusKind::Delisted, 3))), "its open jobs still run");
		assert!(retired(Some((StatusKind::Deprecated, 0))));
		assert!(!retired(Some((StatusKind::Deprecated, 1))), "its open jobs still run");
		assert!(!retired(Some((StatusKind::Listed, 0))));
		assert!(!retired(Some((StatusKind::Proposed, 0))), "it may yet be listed");
	}

	#[test]
	fn a_model_is_removed_only_after_staying_retired_for_the_grace() {
		let mut retirements = Retirements::default();
		let model = ModelHash::repeat_byte(1);
		let start = Instant::now();
		let later = |secs: u64| start + Duration::from_secs(secs);
		assert!(!retirements.due(model, true, start));
		assert!(!retirements.due(model, true, later(RETIRED_GRACE.as_secs() - 1)));
		// Listed again for a moment (a re-org): the clock starts over.
		assert!(!retirements.due(model, false, later(RETIRED_GRACE.as_secs())));
		assert!(!retirements.due(model, true, later(RETIRED_GRACE.as_secs() + 1)));
		assert!(!retirements.due(model, true, later(2 * RETIRED_GRACE.as_secs())));
		assert!(retirements.due(model, true, later(2 * RETIRED_GRACE.as_secs() + 1)));
		// A listed model is never due.
		let listed = ModelHash::repeat_byte(2);
		assert!(!retirements.due(listed, false, start));
		assert!(!retirements.due(listed, false, later(10 * RETIRED_GRACE.as_secs())));
	}
}
