//! Deciding a quorum: how two answers compare under a model's [`ComparisonRule`], which answer
//! is canonical, and what each worker's answer earns. Pure functions over revealed answers, run
//! by the runtime when a quorum's reveals are in.
//!
//! - For each answer, its agreement set is the answers within the agree rule of it on every
//!   output tensor (itself included). The canonical answer is the one with the largest set (ties
//!   go to the earlier in draw order), and it needs a strict majority of the quorum's size.
//! - An output whose derived label is not a maximum of its own source tensor is provably wrong:
//!   it is never canonical, agrees with nothing, and is slashed when a consistent majority
//!   settles the job (without one, a rule that does not fit the model's graph would slash
//!   every honest member).
//! - Deterministic "cannot execute" reasons (for a model pinned to one engine: the input does not
//!   suit the model, or the engine does not support it) are answers: they agree with the same
//!   reason and vote, and are wrong when a majority ran the job. Environment failures are abstentions: they neither
//!   vote nor agree.

use crate::{
	model::{ComparisonRule, OutputRule},
	tensor::Tensor,
	CannotExecuteReason,
};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::Get;

/// How far apart two answers are.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum Closeness {
	/// Within the agree rule on every tensor.
	Agree,
	/// Beyond agreement on some tensor, within the slash rule on all: honest noise.
	Near,
	/// Beyond the slash rule on some tensor.
	Wrong,
}

/// One quorum member's part in the decision.
#[derive(PartialEq, Eq, Debug)]
pub enum Ballot<'a, MaxBytes: Get<u32>> {
	/// A revealed output (already checked against the model's schema).
	Output(&'a [Tensor<MaxBytes>]),
	/// A revealed "cannot execute".
	CannotExecute(CannotExecuteReason),
	/// Committed, never revealed.
	Unrevealed,
	/// Never committed.
	Absent,
}

// Written out because a derive would ask `MaxBytes: Copy` of a bound that is only a type.
impl<MaxBytes: Get<u32>> Clone for Ballot<'_, MaxBytes> {
	fn clone(&self) -> Self {
		*self
	}
}

impl<MaxBytes: Get<u32>> Copy for Ballot<'_, MaxBytes> {}

/// What one member's answer earns.
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
pub enum Verdict {
	/// Within agreement of the canonical answer: paid (when the canonical answer is an output).
	Agreed,
	/// Beyond agreement but within the slash rule, a different "cannot execute", or any answer
	/// when there is no canonical one: unpaid, not slashed.
	Differed,
	/// Beyond the slash rule of the canonical output on some tensor, a derived label that
	/// contradicts the worker's own tensor, or a reason of the job for not running it when a
	/// majority ran it: slashed.
	Wrong,
	/// An environment failure (model or input unavailable, the worker's own limits, engine
	/// unavailable): unpaid, not slashed, counted towards the worker's refusal rate.
	Abstained,
	/// A commitment never revealed: slashed.
	Unrevealed,
	/// Never committed: a no-show.
	NoShow,
}

impl Verdict {
	/// Whether the verdict is slashed when the dispute window ends.
	pub fn is_slashed(self) -> bool {
		matches!(self, Self::Wrong | Self::Unrevealed)
	}
}

/// The outcome of a quorum.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Decision {
	/// The member whose answer is canonical, if a strict majority agrees with it.
	pub canonical: Option<usize>,
	/// Each member's verdict, in draw order.
	pub verdicts: Vec<Verdict>,
}

impl CannotExecuteReason {
	/// Whether every correct worker gives this reason for the job: then it is an answer that
	/// votes. Only for a model pinned to one engine (`pinned`): an input or a model one engine
	/// refuses, another may run.
	pub fn is_deterministic(self, pinned: bool) -> bool {
		match self {
			// Engines differ in what they accept (the interpreter takes no float input, say):
			// only one pinned engine makes a refusal a fact of the job.
			Self::BadInput | Self::ModelUnsupported => pinned,
			Self::ModelUnavailable
			| Self::InputUnavailable
			| Self::ExecutionFailed
			| Self::EngineUnavailable
			| Self::WorkerLimits => false,
		}
	}
}

/// How far apart two outputs are under `rule`. Outputs of different tensor counts or sizes
/// (never the case for outputs checked against one schema) are wrong.
pub fn compare<MaxBytes: Get<u32>>(
	rule: &ComparisonRule,
	a: &[Tensor<MaxBytes>],
	b: &[Tensor<MaxBytes>],
) -> Closeness {
	if a.len() != b.len() {
		return Closeness::Wrong;
	}
	let mut closeness = Closeness::Agree;
	for (index, (x, y)) in a.iter().zip(b).enumerate() {
		let tensor = match rule.output_rule(index) {
			None => Closeness::Wrong,
			Some(OutputRule::Exact) => {
				if x == y {
					Closeness::Agree
				} else {
					Closeness::Wrong
				}
			}
			Some(OutputRule::ArgMaxOf(_)) => {
				// A differing label that matches its own tensor is an honest near-tie; one that
				// does not is caught by `labels_consistent`.
				if x == y {
					Closeness::Agree
				} else {
					Closeness::Near
				}
			}
			Some(OutputRule::Tolerance { agree, slash }) => match largest_difference(x, y) {
				Some(difference) if difference <= agree as u128 => Closeness::Agree,
				Some(difference) if difference <= slash as u128 => Closeness::Near,
				_ => Closeness::Wrong,
			},
		};
		closeness = closeness.max(tensor);
		if closeness == Closeness::Wrong {
			break;
		}
	}
	closeness
}

/// The largest element-wise difference of two tensors in raw units; `None` if their element
/// types, shapes or lengths differ.
fn largest_difference<MaxBytes: Get<u32>>(
	x: &Tensor<MaxBytes>,
	y: &Tensor<MaxBytes>,
) -> Option<u128> {
	if x.elem != y.elem || x.shape != y.shape || x.data.len() != y.data.len() {
		return None;
	}
	let count = x.data.len() / x.elem.wire_width() as usize;
	let mut largest = 0u128;
	for index in 0..count {
		let difference = (x.raw_element(index)? as i128).abs_diff(y.raw_element(index)? as i128);
		largest = largest.max(difference);
	}
	Some(largest)
}

/// Whether every label of `output` that `rule` derives from another tensor is a maximum of its
/// row in that tensor (ties allowed: rounding to fixed point can tie two classes, never swap
/// them).
pub fn labels_consistent<MaxBytes: Get<u32>>(
	rule: &ComparisonRule,
	output: &[Tensor<MaxBytes>],
) -> bool {
	let ComparisonRule::PerOutput(rules) = rule else { return true };
	rules.iter().enumerate().all(|(index, rule)| {
		let OutputRule::ArgMaxOf(of) = rule else { return true };
		let (Some(labels), Some(source)) = (output.get(index), output.get(*of as usize)) else {
			return false;
		};
		let Some(&classes) = source.shape.last() else { return false };
		let classes = classes as usize;
		let rows = labels.data.len() / labels.elem.wire_width() as usize;
		(0..rows).all(|row| {
			let Some(label) = labels.raw_element(row) else { return false };
			let Ok(label) = usize::try_from(label) else { return false };
			if label >= classes {
				return false;
			}
			let start = row * classes;
			let values: Option<Vec<i64>> =
				(start..start + classes).map(|index| source.raw_element(index)).collect();
			let Some(values) = values else { return false };
			values.iter().max() == values.get(label)
		})
	})
}

/// Decides a quorum of `size` members from their ballots, in draw order (see the module's
/// docs). `pinned` says whether the model is pinned to one engine.
pub fn decide<MaxBytes: Get<u32>>(
	rule: &ComparisonRule,
	pinned: bool,
	ballots: &[Ballot<'_, MaxBytes>],
	size: u32,
) -> Decision {
	// What may vote: consistent outputs and deterministic refusals.
	let votes = |ballot: &Ballot<'_, MaxBytes>| match ballot {
		Ballot::Output(output) => labels_consistent(rule, output),
		Ballot::CannotExecute(reason) => reason.is_deterministic(pinned),
		Ballot::Unrevealed | Ballot::Absent => false,
	};
	let agree = |a: &Ballot<'_, MaxBytes>, b: &Ballot<'_, MaxBytes>| match (a, b) {
		(Ballot::Output(a), Ballot::Output(b)) => compare(rule, a, b) == Closeness::Agree,
		(Ballot::CannotExecute(a), Ballot::CannotExecute(b)) => a == b,
		_ => false,
	};
	let voting: Vec<bool> = ballots.iter().map(votes).collect();
	let mut best: Option<(usize, u32)> = None;
	for (index, ballot) in ballots.iter().enumerate() {
		if !voting[index] {
			continue;
		}
		let set = ballots
			.iter()
			.zip(&voting)
			.filter(|(other, votes)| **votes && agree(ballot, other))
			.count() as u32;
		if best.is_none_or(|(_, largest)| set > largest) {
			best = Some((index, set));
		}
	}
	let canonical = best.filter(|(_, set)| set.saturating_mul(2) > size).map(|(index, _)| index);
	let canonical_ballot = canonical.and_then(|index| ballots.get(index));
	let verdicts =
		ballots.iter().map(|ballot| judge(rule, pinned, ballot, canonical_ballot)).collect();
	Decision { canonical, verdicts }
}

/// The verdict on `ballot` against the `canonical` answer (none: no majority), as a quorum's
/// decision and a referee quorum's give it.
pub fn judge<MaxBytes: Get<u32>>(
	rule: &ComparisonRule,
	pinned: bool,
	ballot: &Ballot<'_, MaxBytes>,
	canonical: Option<&Ballot<'_, MaxBytes>>,
) -> Verdict {
	match (ballot, canonical) {
		(Ballot::Absent, _) => Verdict::NoShow,
		(Ballot::Unrevealed, _) => Verdict::Unrevealed,
		(Ballot::CannotExecute(reason), _) if !reason.is_deterministic(pinned) => {
			Verdict::Abstained
		}
		(Ballot::CannotExecute(reason), Some(Ballot::CannotExecute(canonical)))
			if reason == canonical =>
		{
			Verdict::Agreed
		}
		// A reason of the job itself, contradicted by a majority that ran it: a claim made
		// without running it.
		(Ballot::CannotExecute(_), Some(Ballot::Output(_))) => Verdict::Wrong,
		(Ballot::CannotExecute(_), _) => Verdict::Differed,
		// A label against its own scores is wrong when a consistent majority shows what the
		// model gives; without one, a rule that does not fit the graph would slash everyone.
		(Ballot::Output(output), Some(Ballot::Output(_))) if !labels_consistent(rule, output) => {
			Verdict::Wrong
		}
		(Ballot::Output(output), Some(Ballot::Output(canonical))) => {
			match compare(rule, output, canonical) {
				Closeness::Agree => Verdict::Agreed,
				Closeness::Near => Verdict::Differed,
				Closeness::Wrong => Verdict::Wrong,
			}
		}
		// An output is never slashed because a majority said "cannot execute", nor when
		// nobody has a majority.
		(Ballot::Output(_), _) => Verdict::Differed,
	}
}

/// What an audit found of an audited worker's output.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuditFinding {
	/// The auditor's answer is consistent with the output: both outputs fit their own labels
	/// and stay within the slash rule of each other (honest float pairs may differ beyond
	/// agreement and must not escalate).
	Consistent,
	/// The auditor's answer contradicts the output: a referee quorum decides.
	Contradicted,
	/// The auditor checked nothing: it never revealed, or could not run the job for a reason
	/// of its own environment.
	Unchecked,
}

/// Compares an audited worker's revealed ballot with its auditor's under `rule` (see
/// [`AuditFinding`]). `pinned` says whether the model is pinned to one engine. A worker's
/// environment failure ("cannot execute" for a reason of its own) earns nothing and is not
/// checked; a reason of the job itself against an auditor's output is a contradiction.
pub fn audit<MaxBytes: Get<u32>>(
	rule: &ComparisonRule,
	pinned: bool,
	original: &Ballot<'_, MaxBytes>,
	auditor: &Ballot<'_, MaxBytes>,
) -> AuditFinding {
	match (original, auditor) {
		(Ballot::Output(output), Ballot::Output(other)) => {
			if labels_consistent(rule, output)
				&& labels_consistent(rule, other)
				&& compare(rule, output, other) != Closeness::Wrong
			{
				AuditFinding::Consistent
			} else {
				AuditFinding::Contradicted
			}
		}
		(Ballot::CannotExecute(a), Ballot::CannotExecute(b))
			if a.is_deterministic(pinned) && b.is_deterministic(pinned) =>
		{
			if a == b {
				AuditFinding::Consistent
			} else {
				AuditFinding::Contradicted
			}
		}
		// "The job cannot be run" against an output: one of them did not run it.
		(Ballot::Output(_), Ballot::CannotExecute(reason))
		| (Ballot::CannotExecute(reason), Ballot::Output(_))
			if reason.is_deterministic(pinned) =>
		{
			AuditFinding::Contradicted
		}
		_ => AuditFinding::Unchecked,
	}
}
