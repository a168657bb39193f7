//! What the off-chain worker did for each worker key in this node's keystore, on the node's
//! Prometheus endpoint. The runtime's off-chain worker counts its answers in off-chain local
//! storage at the end of every run (`WorkerMetrics`); this reads those records whenever the
//! endpoint is scraped, so the figures are as fresh as the last run and cost nothing between
//! scrapes.

use codec::Decode;
use prometheus::{
	core::{Collector, Desc},
	proto::MetricFamily,
	IntCounterVec, IntGaugeVec, Opts, Registry,
};
use sp_core::{offchain::OffchainStorage, ByteArray};
use sp_keystore::KeystorePtr;
use veritensor_primitives::{
	offchain::{WorkerMetrics, WORKER_METRICS_PREFIX},
	WORKER_KEY_TYPE,
};

/// The worker series, made afresh from the records at every scrape.
struct Series {
	answers: IntCounterVec,
	pool_refusals: IntCounterVec,
	pending_answers: IntGaugeVec,
	running_tasks: IntGaugeVec,
}

impl Series {
	fn new() -> prometheus::Result<Self> {
		let opts = |name: &str, help: &str| Opts::new(name, help).namespace("veritensor_worker");
		Ok(Self {
			answers: IntCounterVec::new(
				opts(
					"answers_total",
					"Answers the off-chain worker signed for a worker key: `output`, or the \
					 reason it could not execute",
				),
				&["worker", "answer"],
			)?,
			pool_refusals: IntCounterVec::new(
				opts("pool_refusals_total", "Batches of answers the transaction pool did not take"),
				&["worker"],
			)?,
			pending_answers: IntGaugeVec::new(
				opts("pending_answers", "Answers signed and not on chain yet, after the last run"),
				&["worker"],
			)?,
			running_tasks: IntGaugeVec::new(
				opts("running_tasks", "Executor tasks started and not answered yet"),
				&["worker"],
			)?,
		})
	}

	fn record(&self, worker: &str, metrics: &WorkerMetrics) {
		let count = |value: u64| value.min(i64::MAX as u64);
		self.answers.with_label_values(&[worker, "output"]).inc_by(count(metrics.outputs));
		for (reason, answered) in &metrics.cannot_execute {
			let reason = format!("{reason:?}");
			self.answers.with_label_values(&[worker, &reason]).inc_by(count(*answered));
		}
		self.pool_refusals.with_label_values(&[worker]).inc_by(count(metrics.pool_refusals));
		self.pending_answers.with_label_values(&[worker]).set(metrics.pending_answers.into());
		self.running_tasks.with_label_values(&[worker]).set(metrics.running_tasks.into());
	}
}

struct WorkerCollector<S> {
	storage: S,
	keystore: KeystorePtr,
	/// Registered once for their descriptions; the values come from a fresh [`Series`].
	template: Series,
}

impl<S: OffchainStorage + 'static> Collector for WorkerCollector<S> {
	fn desc(&self) -> Vec<&Desc> {
		let template = &self.template;
		[
			template.answers.desc(),
			template.pool_refusals.desc(),
			template.pending_answers.desc(),
			template.running_tasks.desc(),
		]
		.concat()
	}

	fn collect(&self) -> Vec<MetricFamily> {
		let Ok(series) = Series::new() else { return Vec::new() };
		for key in self.keystore.sr25519_public_keys(WORKER_KEY_TYPE) {
			let storage_key = [WORKER_METRICS_PREFIX, key.as_slice()].concat();
			let Some(bytes) = self.storage.get(sp_offchain::STORAGE_PREFIX, &storage_key) else {
				continue;
			};
			let worker = format!("0x{}", sp_core::hexdisplay::HexDisplay::from(&key.0));
			match WorkerMetrics::decode(&mut &bytes[..]) {
				Ok(metrics) => series.record(&worker, &metrics),
				// Written by a runtime with another layout (an upgrade under way): skipped
				// until the next run rewrites it.
				Err(error) => log::debug!("🧮 Worker {worker}: unreadable metrics record: {error}"),
			}
		}
		[
			series.answers.collect(),
			series.pool_refusals.collect(),
			series.pending_answers.collect(),
			series.running_tasks.collect(),
		]
		.concat()
	}
}

/// Serves the worker series of every worker key in `keystore` on `registry`, read from the
/// off-chain `storage`.
pub fn register<S: OffchainStorage + 'static>(
	registry: &Registry,
	storage: S,
	keystore: KeystorePtr,
) -> Result<(), String> {
	let template = Series::new().map_err(|e| format!("worker metrics: {e}"))?;
	registry
		.register(Box::new(WorkerCollector { storage, keystore, template }))
		.map_err(|e| format!("worker metrics: {e}"))
}
