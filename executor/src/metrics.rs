//! Prometheus metrics of the executor, served at `/metrics`.

use prometheus::{
	Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
	TextEncoder,
};

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
}

fn must<T>(result: prometheus::Result<T>) -> T {
	// Names and labels are constants of this file, all valid and registered once per registry.
	result.expect("static metric definitions are valid; qed")
}

impl Metrics {
	/// A fresh registry with every metric registered.
	pub fn new() -> Self {
		let registry = Registry::new_custom(Some("veritensor_executor".into()), None)
			.expect("the prefix is a valid metric name; qed");
		let requests = must(IntCounterVec::new(
			Opts::new("requests_total", "Requests received, by endpoint"),
			&["endpoint"],
		));
		let errors = must(IntCounterVec::new(
			Opts::new("errors_total", "Requests that failed, by error kind"),
			&["kind"],
		));
		let inference_seconds = must(HistogramVec::new(
			HistogramOpts::new(
				"inference_seconds",
				"Time per inference, conversion and hashing included, model loading excluded",
			)
			.buckets(vec![
				0.000_02, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
				0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
			]),
			&["engine"],
		));
		let cache_hits =
			must(IntCounter::new("model_cache_hits_total", "Inferences on a loaded model"));
		let cache_misses =
			must(IntCounter::new("model_cache_misses_total", "Inferences that loaded their model"));
		let models_loaded = must(IntGauge::new("models_loaded", "Models loaded in memory"));
		let children_started = must(IntCounter::new(
			"child_processes_started_total",
			"Child processes started to run models",
		));
		let children_ended = must(IntCounterVec::new(
			Opts::new(
				"child_processes_ended_total",
				"Child processes lost during a run, by the error kind the run ended with",
			),
			&["reason"],
		));
		must(registry.register(Box::new(requests.clone())));
		must(registry.register(Box::new(errors.clone())));
		must(registry.register(Box::new(inference_seconds.clone())));
		must(registry.register(Box::new(cache_hits.clone())));
		must(registry.register(Box::new(cache_misses.clone())));
		must(registry.register(Box::new(models_loaded.clone())));
		must(registry.register(Box::new(children_started.clone())));
		must(registry.register(Box::new(children_ended.clone())));
		Self {
			registry,
			requests,
			errors,
			inference_seconds,
			cache_hits,
			cache_misses,
			models_loaded,
			children_started,
			children_ended,
		}
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
