//! Every way a request can fail, each with a stable kind for JSON errors and metrics.

pub use veritensor_primitives::ExecutorErrorKind;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why the executor refused or failed a request. Serialisable so that a child process can
/// hand it to its parent.
#[derive(Clone, Debug, Error, Serialize, Deserialize)]
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
	/// The request pins an engine and version (the model's exact comparison rule) that this
	/// executor does not run.
	#[error("engine mismatch: {0}")]
	EngineMismatch(String),
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
	/// A remote input that can never be used: not SCALE-encoded tensors, or not of the expected
	/// input hash.
	#[error("bad remote input: {0}")]
	BadRemoteInput(String),
	/// A remote input this executor will not fetch: its URI is outside the fetch policy, or it
	/// is larger than the input limit. Another executor, with another policy, may fetch it.
	#[error("remote input refused: {0}")]
	RemoteInputRefused(String),
	/// The request did not finish in time.
	#[error("timed out after {0} ms")]
	Timeout(u64),
	/// Loading or running the model broke a limit of its process: memory or CPU time. The same
	/// request breaks it again here; an executor with higher limits may run it.
	#[error("resource exhausted: {0}")]
	ResourceExhausted(String),
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
	/// The error's kind: the `kind` of JSON errors and the `kind` label of the error metric, in
	/// the form the off-chain worker reads (see [`ExecutorErrorKind`]).
	pub fn kind(&self) -> ExecutorErrorKind {
		match self {
			Self::ModelNotFound(_) => ExecutorErrorKind::ModelNotFound,
			Self::ModelTooLarge { .. } => ExecutorErrorKind::ModelTooLarge,
			Self::HashMismatch { .. } => ExecutorErrorKind::HashMismatch,
			Self::CorruptModel(_) => ExecutorErrorKind::CorruptModel,
			Self::UnsupportedOperator(_) => ExecutorErrorKind::UnsupportedOperator,
			Self::SchemaMismatch(_) => ExecutorErrorKind::SchemaMismatch,
			Self::BadInput(_) => ExecutorErrorKind::BadInput,
			Self::InputTooLarge { .. } => ExecutorErrorKind::InputTooLarge,
			Self::EngineUnavailable(_) => ExecutorErrorKind::EngineUnavailable,
			Self::EngineMismatch(_) => ExecutorErrorKind::EngineMismatch,
			Self::Engine(_) => ExecutorErrorKind::EngineFailure,
			Self::FetchRefused(_) => ExecutorErrorKind::FetchRefused,
			Self::FetchFailed(_) => ExecutorErrorKind::FetchFailed,
			Self::InputUnavailable(_) => ExecutorErrorKind::InputUnavailable,
			Self::BadRemoteInput(_) => ExecutorErrorKind::BadRemoteInput,
			Self::RemoteInputRefused(_) => ExecutorErrorKind::RemoteInputRefused,
			Self::Timeout(_) => ExecutorErrorKind::Timeout,
			Self::ResourceExhausted(_) => ExecutorErrorKind::ResourceExhausted,
			Self::Overloaded(_) => ExecutorErrorKind::Overloaded,
			Self::UnknownTask(_) => ExecutorErrorKind::UnknownTask,
			Self::Storage(_) => ExecutorErrorKind::Storage,
			Self::Unauthorized => ExecutorErrorKind::Unauthorized,
		}
	}

	/// Whether the same request can never succeed on this executor: a worker reports such
	/// failures to the chain as "cannot execute" instead of retrying.
	pub fn is_permanent(&self) -> bool {
		self.kind().is_permanent()
	}
}

/// The executor's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;
