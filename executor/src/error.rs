//! Every way a request can fail, each with a stable kind for JSON errors and metrics.

use thiserror::Error;

/// Why the executor refused or failed a request.
#[derive(Debug, Error)]
pub enum Error {
	/// No model with this hash is in the store.
	#[error("model {0} is not in the store")]
	ModelNotFound(String),
	/// A model file is larger than the configured limit.
	#[error("model is {size} bytes, more than the limit of {limit} bytes")]
	ModelTooLarge { size: u64, limit: u64 },
	/// Bytes do not hash to the hash they were announced under.
	#[error("hash mismatch: expected {expected}, the bytes hash to {actual}")]
	HashMismatch { expected: String, actual: String },
	/// The bytes are not a readable ONNX model.
	#[error("corrupt model: {0}")]
	CorruptModel(String),
	/// The model uses an operator the engine does not implement.
	#[error("unsupported operator: {0}")]
	UnsupportedOperator(String),
	/// Inputs, outputs or a declared schema disagree with the model's graph.
	#[error("schema mismatch: {0}")]
	SchemaMismatch(String),
	/// A request is malformed: values out of range, wrong lengths, unknown fields.
	#[error("bad input: {0}")]
	BadInput(String),
	/// The inputs are larger than the configured limit.
	#[error("inputs are {size} bytes, more than the limit of {limit} bytes")]
	InputTooLarge { size: u64, limit: u64 },
	/// The requested engine is not configured on this executor.
	#[error("engine {0} is not available here")]
	EngineUnavailable(String),
	/// The engine failed while loading or running a model.
	#[error("engine failure: {0}")]
	Engine(String),
	/// A URI is outside the fetch policy (scheme, host or address).
	#[error("fetch refused: {0}")]
	FetchRefused(String),
	/// A permitted fetch did not produce the model.
	#[error("fetch failed: {0}")]
	FetchFailed(String),
	/// A remote input could not be fetched now (network failure, HTTP error, no answer in
	/// time): it may be there later.
	#[error("input unavailable: {0}")]
	InputUnavailable(String),
	/// A remote input that can never be used: its URI is outside the fetch policy, or it is too
	/// large, not SCALE-encoded tensors, or not of the expected input hash.
	#[error("bad remote input: {0}")]
	BadRemoteInput(String),
	/// The request did not finish in time.
	#[error("timed out after {0} ms")]
	Timeout(u64),
	/// No capacity: every execution slot stayed busy until the deadline, or the task table is
	/// full of running tasks.
	#[error("overloaded: {0}")]
	Overloaded(String),
	/// No asynchronous task with this id is known (never created, or forgotten).
	#[error("unknown task {0}")]
	UnknownTask(String),
	/// The model store could not be read or written.
	#[error("storage error: {0}")]
	Storage(String),
	/// A bearer token is required and was missing or wrong.
	#[error("missing or wrong bearer token")]
	Unauthorized,
}

impl Error {
	/// A short, stable name for the error: the `kind` of JSON errors and the `kind` label of
	/// the error metric.
	pub fn kind(&self) -> &'static str {
		match self {
			Self::ModelNotFound(_) => "model_not_found",
			Self::ModelTooLarge { .. } => "model_too_large",
			Self::HashMismatch { .. } => "hash_mismatch",
			Self::CorruptModel(_) => "corrupt_model",
			Self::UnsupportedOperator(_) => "unsupported_operator",
			Self::SchemaMismatch(_) => "schema_mismatch",
			Self::BadInput(_) => "bad_input",
			Self::InputTooLarge { .. } => "input_too_large",
			Self::EngineUnavailable(_) => "engine_unavailable",
			Self::Engine(_) => "engine_failure",
			Self::FetchRefused(_) => "fetch_refused",
			Self::FetchFailed(_) => "fetch_failed",
			Self::InputUnavailable(_) => "input_unavailable",
			Self::BadRemoteInput(_) => "bad_remote_input",
			Self::Timeout(_) => "timeout",
			Self::Overloaded(_) => "overloaded",
			Self::UnknownTask(_) => "unknown_task",
			Self::Storage(_) => "storage",
			Self::Unauthorized => "unauthorized",
		}
	}

	/// Whether the same request can never succeed on this model: a worker reports such
	/// failures to the chain as "cannot execute" instead of retrying.
	pub fn is_permanent(&self) -> bool {
		matches!(
			self,
			Self::ModelTooLarge { .. }
				| Self::HashMismatch { .. }
				| Self::CorruptModel(_)
				| Self::UnsupportedOperator(_)
				| Self::SchemaMismatch(_)
				| Self::BadInput(_)
				| Self::BadRemoteInput(_)
				| Self::InputTooLarge { .. }
		)
	}
}

/// The executor's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
