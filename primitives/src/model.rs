//! How a model is run and how its outputs are compared.

use crate::tensor::{ElementType, MaxTensors, TensorSpec};
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

/// How one output tensor of different workers' answers to the same job is compared. Values are
/// compared as raw wire integers (fixed-point units for `F32`): the runtime never touches floats.
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
pub enum OutputRule {
	/// Equal element for element: integer outputs of integer arithmetic.
	Exact,
	/// Element by element in raw units: answers within `agree` of each other on every element
	/// agree; one more than `slash` away from the canonical answer on some element is wrong.
	Tolerance {
		/// Largest difference at which two answers agree.
		agree: u32,
		/// Largest difference at which an answer is not wrong; at least `agree`, so that honest
		/// float noise is never slashed.
		slash: u32,
	},
	/// A label derived from output tensor `of` (its index): the argmax along that tensor's last
	/// axis, one label per row. Two answers agree when their labels are equal. A label that is
	/// not a maximum of the worker's own tensor `of` is provably wrong; a label that differs from
	/// the canonical one while matching the worker's own tensor is an honest near-tie.
	ArgMaxOf(u8),
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
	/// One rule per output tensor, in the schema's order; any engine may run the model.
	PerOutput(BoundedVec<OutputRule, MaxTensors>),
}

/// Why a comparison rule does not suit a schema.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RuleError {
	/// An exact-hash rule without an engine version.
	NoEngineVersion,
	/// Not one rule per output tensor.
	RuleCountMismatch,
	/// A tolerance whose `agree` is above its `slash`.
	AgreeAboveSlash,
	/// A label rule that names itself, a tensor that does not exist, or another label.
	BadLabelSource,
	/// A label that is not an integer tensor with one element per row of its source tensor.
	BadLabelShape,
}

impl ComparisonRule {
	/// Checks that the rule is consistent and suits the output tensors `outputs`.
	pub fn check(&self, outputs: &[TensorSpec]) -> Result<(), RuleError> {
		let rules = match self {
			Self::ExactHash { version, .. } => {
				return if version.is_empty() { Err(RuleError::NoEngineVersion) } else { Ok(()) }
			}
			Self::PerOutput(rules) => rules,
		};
		if rules.len() != outputs.len() {
			return Err(RuleError::RuleCountMismatch);
		}
		for (index, (rule, spec)) in rules.iter().zip(outputs).enumerate() {
			match *rule {
				OutputRule::Exact => {}
				OutputRule::Tolerance { agree, slash } => {
					if agree > slash {
						return Err(RuleError::AgreeAboveSlash);
					}
				}
				OutputRule::ArgMaxOf(of) => {
					let of = of as usize;
					let source = match rules.get(of) {
						Some(OutputRule::ArgMaxOf(_)) | None => {
							return Err(RuleError::BadLabelSource)
						}
						Some(_) if of == index => return Err(RuleError::BadLabelSource),
						Some(_) => &outputs[of],
					};
					let integer = !matches!(spec.elem, ElementType::Bool | ElementType::F32);
					let rows = label_rows(source);
					if !integer || rows.is_none() || rows != spec.element_count() {
						return Err(RuleError::BadLabelShape);
					}
				}
			}
		}
		Ok(())
	}

	/// The rule of output tensor `index`, for per-output rules.
	pub fn output_rule(&self, index: usize) -> Option<OutputRule> {
		match self {
			Self::ExactHash { .. } => Some(OutputRule::Exact),
			Self::PerOutput(rules) => rules.get(index).copied(),
		}
	}
}

/// How many rows (labels) a label's source tensor has: its elements over its last dimension.
pub fn label_rows(source: &TensorSpec) -> Option<u32> {
	let classes = *source.shape.last()?;
	if classes == 0 {
		return None;
	}
	source.element_count().map(|count| count / classes)
}

/// How a job's answers are verified. Chosen by the submitter and priced into the job.
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
pub struct VerificationTerms {
	/// How many workers of distinct operators run the job: 1 (one worker's signed word), or 3
	/// or 5 (a quorum: each commits blind, then reveals, and a strict majority decides).
	pub replicas: u32,
	/// One worker, checked at random (only with `replicas` 1): the worker commits blind, and
	/// randomness that did not exist at its commitment decides, with the model's audit rate,
	/// whether a worker of another operator runs the job too and the two are compared.
	pub audited: bool,
}

impl VerificationTerms {
	/// The replica counts the market settles.
	pub const SUPPORTED_REPLICAS: [u32; 3] = [1, 3, 5];

	/// One worker's signed word.
	pub const fn single() -> Self {
		Self { replicas: 1, audited: false }
	}

	/// One worker, audited at random.
	pub const fn audited() -> Self {
		Self { replicas: 1, audited: true }
	}

	/// A quorum of `replicas` workers.
	pub const fn quorum(replicas: u32) -> Self {
		Self { replicas, audited: false }
	}

	/// Whether the market settles these terms: 1, 3 or 5 replicas, audits for one only.
	pub fn is_supported(&self) -> bool {
		Self::SUPPORTED_REPLICAS.contains(&self.replicas) && (!self.audited || self.replicas == 1)
	}

	/// Whether the answers are compared by a quorum (commit, reveal, majority).
	pub fn is_quorum(&self) -> bool {
		self.replicas > 1
	}

	/// Whether the workers commit blind before they reveal: a quorum, or an audited job.
	pub fn commits(&self) -> bool {
		self.is_quorum() || self.audited
	}
}

/// The probability with which an audited job of a model is audited: the smallest rate (in
/// parts per billion) at which a worker that skips the work and returns anything loses in
/// expectation, never below `floor`.
///
/// A worker paid `price` that cheats is caught with probability p and then loses `slash`: it
/// gains (1 − p)·price − p·slash, below zero exactly when p > price / (price + slash). The floor
/// covers what this does not: a cheater whose wrong answer is worth V outside the job needs
/// p > V / (V + slash).
pub fn audit_rate(price: u128, slash: u128, floor: sp_runtime::Perbill) -> sp_runtime::Perbill {
	use sp_runtime::{traits::Saturating, PerThing, Perbill, Rounding};
	let total = price.saturating_add(slash);
	let rate = if price == 0 {
		// Nothing to gain by cheating.
		Perbill::zero()
	} else {
		// The break-even rate rounded down, plus one part: strictly above it.
		Perbill::from_rational_with_rounding(price, total, Rounding::Down)
			.unwrap_or(Perbill::one())
			.saturating_add(Perbill::from_parts(1))
	};
	rate.max(floor)
}
