//! How a model is run and how its outputs are compared.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::ConstU32;
use sp_runtime::BoundedVec;

/// Longest engine version string, in bytes.
pub const MAX_ENGINE_VERSION_LEN: u32 = 32;

/// The artifact format of a model.
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ModelFormat {
	/// An ONNX graph.
	Onnx,
}

/// An inference engine the executor can run.
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Engine {
	/// tract, the pure-Rust ONNX engine.
	Tract,
	/// ONNX Runtime.
	OnnxRuntime,
	/// Veritensor's exact integer interpreter (`veritensor-interpreter`), which the runtime can
	/// run as well.
	Interpreter,
}

impl Engine {
	/// The engine's name in the executor's API (requests, answers, command-line flags).
	pub fn api_name(self) -> &'static str {
		match self {
			Self::Tract => "tract",
			Self::OnnxRuntime => "onnxruntime",
			Self::Interpreter => "interpreter",
		}
	}
}

/// How the outputs of different workers for the same job are compared.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub enum ComparisonRule {
	/// Outputs must hash equal. Only sound for integer-only graphs run by one pinned engine:
	/// float arithmetic, and QDQ graphs that requantise through floats, differ across engines.
	ExactHash {
		/// The engine every worker must use.
		engine: Engine,
		/// The engine version every worker must use (UTF-8, e.g. `0.21.13`).
		#[cfg_attr(feature = "serde", serde(with = "crate::serde_text"))]
		version: BoundedVec<u8, ConstU32<MAX_ENGINE_VERSION_LEN>>,
	},
	/// Outputs are compared element by element in raw fixed-point units.
	Tolerance {
		/// Largest difference at which two outputs agree.
		agree: u32,
		/// Largest difference below which nobody is slashed; at least `agree`, so honest
		/// workers near a decision boundary are safe.
		slash: u32,
	},
}

impl ComparisonRule {
	/// Whether the rule is internally consistent.
	pub fn is_valid(&self) -> bool {
		match self {
			Self::ExactHash { version, .. } => !version.is_empty(),
			Self::Tolerance { agree, slash } => agree <= slash,
		}
	}
}
