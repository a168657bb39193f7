//! The contract between a worker's off-chain worker and its executor: the kinds of error the
//! executor answers with, whether a retry can cure each, and the reason a worker reports to the
//! chain when it gives up on a job. Both sides use these types, so they cannot drift apart.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Why a worker answered a job with "cannot execute".
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum CannotExecuteReason {
	/// The model file could not be fetched, or its hash did not match.
	ModelUnavailable,
	/// The engine refused the model (unsupported operator, corrupt file).
	ModelUnsupported,
	/// The input could not be fetched, or its hash did not match.
	InputUnavailable,
	/// The input does not suit the model.
	BadInput,
	/// The engine failed or timed out.
	ExecutionFailed,
	/// This worker cannot run the engine and version the model is pinned to. Says nothing about
	/// the job: a worker with that engine may run it.
	EngineUnavailable,
	/// The job is beyond this worker's own limits (model or input size, fetch policy). Says
	/// nothing about the job: a worker with other limits may run it.
	WorkerLimits,
}

/// An error kind of the executor's API: the `kind` of its JSON errors
/// (`{"error": {"kind", "message"}}`), in the stable string form [`Self::as_str`].
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub enum ExecutorErrorKind {
	/// The model is not in the store, and could not be fetched.
	ModelNotFound,
	/// The model file is larger than this executor's limit.
	ModelTooLarge,
	/// Bytes do not hash to the hash they were announced under.
	HashMismatch,
	/// The bytes are not a readable model.
	CorruptModel,
	/// The model uses an operator the engine does not implement.
	UnsupportedOperator,
	/// Inputs, outputs or the declared schema disagree with the model's graph.
	SchemaMismatch,
	/// The request is malformed: values out of range, wrong lengths.
	BadInput,
	/// The inputs are larger than this executor's limit.
	InputTooLarge,
	/// The requested engine is not configured on this executor.
	EngineUnavailable,
	/// The model is pinned to an engine and version this executor does not run.
	EngineMismatch,
	/// The engine failed while loading or running the model.
	EngineFailure,
	/// A model URI is outside this executor's fetch policy.
	FetchRefused,
	/// A permitted model fetch did not produce the model.
	FetchFailed,
	/// A remote input could not be fetched now.
	InputUnavailable,
	/// A remote input can never be used: not tensors, or not of the expected input hash.
	BadRemoteInput,
	/// A remote input is outside this executor's fetch policy or size limit.
	RemoteInputRefused,
	/// The request did not finish in time.
	Timeout,
	/// No free execution slot.
	Overloaded,
	/// No asynchronous task with this id is known.
	UnknownTask,
	/// The model store could not be read or written.
	Storage,
	/// A bearer token is required and was missing or wrong.
	Unauthorized,
	/// Loading or running the model broke the memory or CPU-time limit of the executor's
	/// inference process.
	ResourceExhausted,
}

impl ExecutorErrorKind {
	/// The stable string form, as it appears in the executor's JSON and metrics.
	pub fn as_str(self) -> &'static str {
		match self {
			Self::ModelNotFound => "model_not_found",
			Self::ModelTooLarge => "model_too_large",
			Self::HashMismatch => "hash_mismatch",
			Self::CorruptModel => "corrupt_model",
			Self::UnsupportedOperator => "unsupported_operator",
			Self::SchemaMismatch => "schema_mismatch",
			Self::BadInput => "bad_input",
			Self::InputTooLarge => "input_too_large",
			Self::EngineUnavailable => "engine_unavailable",
			Self::EngineMismatch => "engine_mismatch",
			Self::EngineFailure => "engine_failure",
			Self::FetchRefused => "fetch_refused",
			Self::FetchFailed => "fetch_failed",
			Self::InputUnavailable => "input_unavailable",
			Self::BadRemoteInput => "bad_remote_input",
			Self::RemoteInputRefused => "remote_input_refused",
			Self::Timeout => "timeout",
			Self::Overloaded => "overloaded",
			Self::UnknownTask => "unknown_task",
			Self::Storage => "storage",
			Self::Unauthorized => "unauthorized",
			Self::ResourceExhausted => "resource_exhausted",
		}
	}

	/// The kind whose string form is `text`; `None` for a kind this side does not know (an
	/// executor newer than the runtime), which a worker treats as passing.
	pub fn parse(text: &str) -> Option<Self> {
		Self::all().into_iter().find(|kind| kind.as_str() == text)
	}

	/// Whether no retry of the same request on this executor can succeed: a worker answers
	/// "cannot execute" at once instead of trying again in later blocks.
	pub fn is_permanent(self) -> bool {
		matches!(
			self,
			Self::ModelTooLarge
				| Self::HashMismatch
				| Self::CorruptModel
				| Self::UnsupportedOperator
				| Self::SchemaMismatch
				| Self::BadInput
				| Self::InputTooLarge
				| Self::EngineMismatch
				| Self::FetchRefused
				| Self::BadRemoteInput
				| Self::RemoteInputRefused
				| Self::ResourceExhausted
		)
	}

	/// The reason a worker reports when it gives up on a job over this error. Errors that come
	/// from the worker's own configuration (its size limits, fetch policy, engines) name the
	/// worker, never the job, since another worker may run the job.
	pub fn reason(self) -> CannotExecuteReason {
		match self {
			Self::ModelNotFound | Self::HashMismatch | Self::FetchFailed => {
				CannotExecuteReason::ModelUnavailable
			}
			Self::CorruptModel | Self::UnsupportedOperator | Self::SchemaMismatch => {
				CannotExecuteReason::ModelUnsupported
			}
			Self::BadInput => CannotExecuteReason::BadInput,
			Self::InputUnavailable | Self::BadRemoteInput => CannotExecuteReason::InputUnavailable,
			Self::ModelTooLarge
			| Self::InputTooLarge
			| Self::FetchRefused
			| Self::RemoteInputRefused
			| Self::ResourceExhausted => CannotExecuteReason::WorkerLimits,
			Self::EngineUnavailable | Self::EngineMismatch => {
				CannotExecuteReason::EngineUnavailable
			}
			Self::EngineFailure
			| Self::Timeout
			| Self::Overloaded
			| Self::UnknownTask
			| Self::Storage
			| Self::Unauthorized => CannotExecuteReason::ExecutionFailed,
		}
	}

	/// Every kind, in declaration order, read off the type itself by codec index, so a new
	/// variant joins the list without anyone writing it down.
	pub fn all() -> alloc::vec::Vec<Self> {
		(0u8..=u8::MAX).map_while(|index| Self::decode(&mut &[index][..]).ok()).collect()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use scale_info::{TypeDef, TypeInfo};

	#[test]
	fn every_kind_is_listed_and_parses_back_from_its_string() {
		let TypeDef::Variant(variants) = ExecutorErrorKind::type_info().type_def else {
			panic!("an enum")
		};
		let all = ExecutorErrorKind::all();
		// The variants as the type describes itself: a gap in codec indices would hide kinds
		// from `all` and `parse`, and this count would disagree.
		assert_eq!(all.len(), variants.variants.len());
		for (kind, variant) in all.iter().zip(&variants.variants) {
			assert_eq!(format!("{kind:?}"), variant.name);
			assert_eq!(ExecutorErrorKind::parse(kind.as_str()), Some(*kind));
		}
		let mut names: alloc::vec::Vec<_> = all.iter().map(|kind| kind.as_str()).collect();
		names.sort();
		names.dedup();
		assert_eq!(names.len(), all.len(), "string forms are distinct");
		assert_eq!(ExecutorErrorKind::parse("no_such_kind"), None);
	}
}
