//! Prometheus metrics of the executor, served at `/metrics`, and on a node's own Prometheus
//! endpoint when the executor is embedded there.

pub use prometheus::Registry;
use prometheus::{
	Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
	TextEncoder,
};

/// The prefix of every metric's name.
const NAMESPACE: &str = "veritensor_executor";

/// Every metric the executor keeps.
#[derive(Clone)]
pub struct Metrics {
	registry: Registry,
	/// Requests by endpoint.
	pub requests: IntCounterVec,
	/// Failed requests by error kind.
	pub errors: IntCounterVec,
	/// Inference time (conversion, engine run and hashing, model load excluded) by engine.
	pub inference_seconds: HistogramVec,
	/// Requests served by a model already loaded.
	pub cache_hits: IntCounter,
	/// Requests that had to load the model.
	pub cache_misses: IntCounter,
	/// Models loaded in memory now (in this process: an isolated executor's children keep
	/// their own).
	pub models_loaded: IntGauge,
	/// Child processes started to run models.
	pub children_started: IntCounter,
	/// Child processes lost during a run, by the error kind the run ended with
	/// (`resource_exhausted`, `timeout`, `engine_failure`).
	pub children_ended: IntCounterVec,
	/// Asynchronous tasks remembered now, by state: `running`, `unread` (finished, outcome
	/// not read yet) and `read`.
	pub tasks: IntGaugeVec,
}

fn must<T>(result: prometheus::Result<T>) -> T {
	// Names and labels are constants of this file, all valid and registered once per registry.
	result.expect("static metric definitions are valid; qed")
}

impl Metrics {
	/// A fresh registry with every metric registered.
	pub fn new() -> Self {
		let registry = Registry::new();
		let opts = |name: &str, help: &str| Opts::new(name, help).namespace(NAMESPACE);
		let counter = |name: &str, help: &str| must(IntCounter::with_opts(opts(name, help)));
		let requests = must(IntCounterVec::new(
			opts("requests_total", "Requests received, by endpoint"),
			&["endpoint"],
		));
		let errors = must(IntCounterVec::new(
			opts("errors_total", "Requests that failed, by error kind"),
			&["kind"],
		));
		let inference_seconds = must(HistogramVec::new(
			HistogramOpts::new(
				"inference_seconds",
				"Time per inference, conversion and hashing included, model loading excluded",
			)
			.namespace(NAMESPACE)
			.buckets(vec![
				0.000_02, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
				0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
			]),
			&["engine"],
		));
		let cache_hits = counter("model_cache_hits_total", "Inferences on a loaded model");
		let cache_misses =
			counter("model_cache_misses_total", "Inferences that loaded their model");
		let models_loaded =
			must(IntGauge::with_opts(opts("models_loaded", "Models loaded in memory")));
		let children_started =
			counter("child_processes_started_total", "Child processes started to run models");
		let children_ended = must(IntCounterVec::new(
			opts(
				"child_processes_ended_total",
				"Child processes lost during a run, by the error kind the run ended with",
			),
			&["reason"],
		));
		let tasks = must(IntGaugeVec::new(
			opts("tasks", "Asynchronous tasks remembered, by state (running, unread, read)"),
			&["state"],
		));
		let metrics = Self {
			registry,
			requests,
			errors,
			inference_seconds,
			cache_hits,
			cache_misses,
			models_loaded,
			children_started,
			children_ended,
			tasks,
		};
		must(metrics.register_into(&metrics.registry));
		metrics
	}

	/// Registers every metric with `registry` too (a node's, which adds its chain label):
	/// the same counters, served by both.
	pub fn register_into(&self, registry: &Registry) -> prometheus::Result<()> {
		registry.register(Box::new(self.requests.clone()))?;
		registry.register(Box::new(self.errors.clone()))?;
		registry.register(Box::new(self.inference_seconds.clone()))?;
		registry.register(Box::new(self.cache_hits.clone()))?;
		registry.register(Box::new(self.cache_misses.clone()))?;
		registry.register(Box::new(self.models_loaded.clone()))?;
		registry.register(Box::new(self.children_started.clone()))?;
		registry.register(Box::new(self.children_ended.clone()))?;
		registry.register(Box::new(self.tasks.clone()))
	}

	/// The text exposition format.
	pub fn render(&self) -> String {
		let mut buffer = Vec::new();
		// Encoding into a Vec cannot fail for well-formed metric families.
		let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
		String::from_utf8_lossy(&buffer).into_owned()
	}
}

impl Default for Metrics {
	fn default() -> Self {
		Self::new()
	}
}
