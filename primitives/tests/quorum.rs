//! The quorum's comparison and decision rules, on small tensors.

use sp_core::ConstU32;
use veritensor_primitives::{
	quorum::{compare, decide, labels_consistent, Ballot, Closeness, Verdict},
	tensor::{ElementType, Tensor, TensorSpec},
	CannotExecuteReason, ComparisonRule, OutputRule,
};

type Bytes = ConstU32<1024>;
type Output = Vec<Tensor<Bytes>>;

fn tensor(elem: ElementType, shape: &[u32], frac_bits: u8, values: &[i64]) -> Tensor<Bytes> {
	let data: Vec<u8> = values
		.iter()
		.flat_map(|value| match elem {
			ElementType::I64 => value.to_le_bytes().to_vec(),
			ElementType::I32 | ElementType::F32 => (*value as i32).to_le_bytes().to_vec(),
			_ => vec![*value as u8],
		})
		.collect();
	Tensor {
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits,
		data: data.try_into().unwrap(),
	}
}

/// A label and four class scores in raw fixed-point units.
fn answer(label: i64, scores: [i64; 4]) -> Output {
	vec![
		tensor(ElementType::I64, &[1], 0, &[label]),
		tensor(ElementType::F32, &[1, 4], 16, &scores),
	]
}

fn rule(agree: u32, slash: u32) -> ComparisonRule {
	ComparisonRule::PerOutput(
		vec![OutputRule::ArgMaxOf(1), OutputRule::Tolerance { agree, slash }].try_into().unwrap(),
	)
}

fn spec(elem: ElementType, shape: &[u32]) -> TensorSpec {
	TensorSpec {
		name: b"t".to_vec().try_into().unwrap(),
		elem,
		shape: shape.to_vec().try_into().unwrap(),
		frac_bits: if elem == ElementType::F32 { 16 } else { 0 },
	}
}

fn outputs(list: &[Output]) -> Vec<Ballot<'_, Bytes>> {
	list.iter().map(|output| Ballot::Output(output)).collect()
}

#[test]
fn tolerance_compares_in_raw_units() {
	let rule = rule(4, 64);
	let base = answer(0, [1000, 10, 10, 10]);
	assert_eq!(compare(&rule, &base, &answer(0, [1004, 6, 10, 10])), Closeness::Agree);
	assert_eq!(compare(&rule, &base, &answer(0, [1005, 10, 10, 10])), Closeness::Near);
	assert_eq!(compare(&rule, &base, &answer(0, [1064, 10, 10, 10])), Closeness::Near);
	assert_eq!(compare(&rule, &base, &answer(0, [1065, 10, 10, 10])), Closeness::Wrong);
	// A differing label alone is a near-tie, never wrong by itself.
	assert_eq!(compare(&rule, &base, &answer(1, [1000, 10, 10, 10])), Closeness::Near);
	// Extremes of the raw range do not overflow.
	let low = answer(0, [i32::MIN as i64, 0, 0, 0]);
	let high = answer(0, [i32::MAX as i64, 0, 0, 0]);
	assert_eq!(compare(&rule, &low, &high), Closeness::Wrong);
	let exact =
		ComparisonRule::PerOutput(vec![OutputRule::Exact, OutputRule::Exact].try_into().unwrap());
	assert_eq!(compare(&exact, &base, &base), Closeness::Agree);
	assert_eq!(compare(&exact, &base, &answer(0, [1001, 10, 10, 10])), Closeness::Wrong);
}

#[test]
fn a_label_must_be_a_maximum_of_its_own_scores() {
	let rule = rule(4, 64);
	assert!(labels_consistent(&rule, &answer(2, [1, 2, 30, 4])));
	assert!(!labels_consistent(&rule, &answer(3, [1, 2, 30, 4])));
	// Rounding may tie two classes: either label is honest.
	assert!(labels_consistent(&rule, &answer(1, [5, 30, 30, 4])));
	assert!(labels_consistent(&rule, &answer(2, [5, 30, 30, 4])));
	// Out of range or negative labels are wrong.
	assert!(!labels_consistent(&rule, &answer(4, [1, 2, 3, 4])));
	assert!(!labels_consistent(&rule, &answer(-1, [1, 2, 3, 4])));
}

#[test]
fn honest_quorums_agree_and_one_wrong_member_is_caught() {
	let rule = rule(4, 64);
	let honest = answer(0, [900, 50, 30, 20]);
	let noisy = answer(0, [902, 49, 30, 20]);
	let all = [honest.clone(), noisy.clone(), honest.clone()];
	let decision = decide(&rule, false, &outputs(&all), 3);
	assert_eq!(decision.canonical, Some(0));
	assert_eq!(decision.verdicts, vec![Verdict::Agreed; 3]);

	let five = [honest.clone(), noisy.clone(), honest.clone(), noisy.clone(), honest.clone()];
	let decision = decide(&rule, false, &outputs(&five), 5);
	assert_eq!(decision.verdicts, vec![Verdict::Agreed; 5]);

	// Wrong scores far beyond the slash tolerance, first in draw order.
	let wrong = answer(1, [20, 900, 30, 50]);
	let decision = decide(&rule, false, &outputs(&[wrong, honest.clone(), noisy.clone()]), 3);
	assert_eq!(decision.canonical, Some(1));
	assert_eq!(decision.verdicts, vec![Verdict::Wrong, Verdict::Agreed, Verdict::Agreed]);
}

#[test]
fn a_wrong_label_with_correct_scores_is_wrong_and_never_canonical() {
	let rule = rule(4, 64);
	let honest = answer(0, [900, 50, 30, 20]);
	let lying = answer(3, [900, 50, 30, 20]);
	let decision = decide(&rule, false, &outputs(&[lying.clone(), honest.clone(), honest]), 3);
	assert_eq!(decision.verdicts, vec![Verdict::Wrong, Verdict::Agreed, Verdict::Agreed]);
	// Two liars agreeing with each other still have no say: no majority, nobody paid; and
	// nobody slashed without a consistent majority (a rule that does not fit the model's graph
	// must not slash every honest member).
	let decision =
		decide(&rule, false, &outputs(&[lying.clone(), lying, answer(0, [9, 1, 1, 1])]), 3);
	assert_eq!(decision.canonical, None);
	assert_eq!(decision.verdicts, vec![Verdict::Differed; 3]);
}

#[test]
fn an_honest_near_tie_label_flip_is_not_slashed() {
	let rule = rule(4, 64);
	let a = answer(0, [500, 499, 1, 0]);
	let flipped = answer(1, [499, 500, 1, 0]);
	let decision = decide(&rule, false, &outputs(&[a.clone(), flipped, a]), 3);
	assert_eq!(decision.canonical, Some(0));
	assert_eq!(decision.verdicts, vec![Verdict::Agreed, Verdict::Differed, Verdict::Agreed]);
}

#[test]
fn within_the_slash_tolerance_only_nobody_is_slashed_and_nobody_has_a_majority() {
	let rule = rule(4, 64);
	let all = [answer(0, [900, 0, 0, 0]), answer(0, [930, 0, 0, 0]), answer(0, [960, 0, 0, 0])];
	// 0 and 2 are 60 apart: near; each agrees only with itself.
	let decision = decide(&rule, false, &outputs(&all), 3);
	assert_eq!(decision.canonical, None);
	assert_eq!(decision.verdicts, vec![Verdict::Differed; 3]);
	// Two of three within agreement and one within the slash tolerance only.
	let all = [answer(0, [900, 0, 0, 0]), answer(0, [902, 0, 0, 0]), answer(0, [950, 0, 0, 0])];
	let decision = decide(&rule, false, &outputs(&all), 3);
	assert_eq!(decision.canonical, Some(0));
	assert_eq!(decision.verdicts, vec![Verdict::Agreed, Verdict::Agreed, Verdict::Differed]);
}

#[test]
fn refusals_vote_abstentions_do_not_and_absences_count_against_the_majority() {
	let rule = rule(4, 64);
	let honest = answer(0, [900, 50, 30, 20]);
	let bad_input = Ballot::CannotExecute(CannotExecuteReason::BadInput);
	let unavailable = Ballot::CannotExecute(CannotExecuteReason::ModelUnavailable);
	// For a model pinned to one engine, an input it refuses is a fact of the job.
	let ballots = [bad_input, bad_input, Ballot::Output(&honest)];
	let decision = decide(&rule, true, &ballots, 3);
	assert_eq!(decision.canonical, Some(0));
	// An output is never slashed because a majority said it cannot be run.
	assert_eq!(decision.verdicts, vec![Verdict::Agreed, Verdict::Agreed, Verdict::Differed]);
	// Unpinned, another engine may accept what one refuses: an abstention.
	let decision = decide(&rule, false, &ballots, 3);
	assert_eq!(decision.canonical, None);
	assert_eq!(decision.verdicts, vec![Verdict::Abstained, Verdict::Abstained, Verdict::Differed]);

	// A reason of the job, contradicted by a majority that ran it: wrong.
	let ballots = [bad_input, Ballot::Output(&honest), Ballot::Output(&honest)];
	let decision = decide(&rule, true, &ballots, 3);
	assert_eq!(decision.verdicts, vec![Verdict::Wrong, Verdict::Agreed, Verdict::Agreed]);
	let decision = decide(&rule, false, &ballots, 3);
	assert_eq!(decision.verdicts, vec![Verdict::Abstained, Verdict::Agreed, Verdict::Agreed]);

	let ballots = [unavailable, Ballot::Output(&honest), Ballot::Output(&honest)];
	let decision = decide(&rule, false, &ballots, 3);
	assert_eq!(decision.canonical, Some(1));
	assert_eq!(decision.verdicts, vec![Verdict::Abstained, Verdict::Agreed, Verdict::Agreed]);

	// One answer and two abstentions: one of three is no majority.
	let ballots = [unavailable, unavailable, Ballot::Output(&honest)];
	assert_eq!(decide(&rule, false, &ballots, 3).canonical, None);
	// An unsupported model is a fact of the job only for a model pinned to one engine.
	let unsupported = Ballot::CannotExecute(CannotExecuteReason::ModelUnsupported);
	let ballots = [unsupported, unsupported, Ballot::Output(&honest)];
	assert_eq!(decide(&rule, true, &ballots, 3).canonical, Some(0));
	assert_eq!(decide(&rule, false, &ballots, 3).canonical, None);

	let ballots =
		[Ballot::Unrevealed, Ballot::Absent, Ballot::Output(&honest), Ballot::Output(&honest)];
	let decision = decide(&rule, false, &ballots, 5);
	assert_eq!(decision.canonical, None, "two of five is no majority");
	assert_eq!(
		decision.verdicts,
		vec![Verdict::Unrevealed, Verdict::NoShow, Verdict::Differed, Verdict::Differed]
	);
}

#[test]
fn ties_between_agreement_sets_go_to_the_earlier_member() {
	let rule = rule(4, 64);
	let a = answer(0, [900, 0, 0, 0]);
	let b = answer(0, [904, 0, 0, 0]);
	let c = answer(0, [908, 0, 0, 0]);
	// a~b, b~c, a and c near: b's set is the largest.
	let decision = decide(&rule, false, &outputs(&[a.clone(), b.clone(), c.clone()]), 3);
	assert_eq!(decision.canonical, Some(1));
	assert_eq!(decision.verdicts, vec![Verdict::Agreed; 3]);
	// Five members, two pairs of equal size: the earlier pair wins only with a majority.
	let far = answer(0, [990, 0, 0, 0]);
	let decision = decide(&rule, false, &outputs(&[far.clone(), a.clone(), far, a, c]), 5);
	assert_eq!(decision.canonical, None);
}

#[test]
fn rules_must_suit_the_outputs() {
	let outputs = [spec(ElementType::I64, &[1]), spec(ElementType::F32, &[1, 10])];
	assert_eq!(rule(4, 64).check(&outputs), Ok(()));
	assert!(rule(65, 64).check(&outputs).is_err());
	let one = ComparisonRule::PerOutput(vec![OutputRule::Exact].try_into().unwrap());
	assert!(one.check(&outputs).is_err());
	let on_itself = ComparisonRule::PerOutput(
		vec![OutputRule::ArgMaxOf(0), OutputRule::Exact].try_into().unwrap(),
	);
	assert!(on_itself.check(&outputs).is_err());
	let missing = ComparisonRule::PerOutput(
		vec![OutputRule::ArgMaxOf(2), OutputRule::Exact].try_into().unwrap(),
	);
	assert!(missing.check(&outputs).is_err());
	// A float label, or one label for a tensor of two rows, does not fit.
	let float_label = [spec(ElementType::F32, &[1]), spec(ElementType::F32, &[1, 10])];
	assert!(rule(4, 64).check(&float_label).is_err());
	let two_rows = [spec(ElementType::I64, &[1]), spec(ElementType::F32, &[2, 10])];
	assert!(rule(4, 64).check(&two_rows).is_err());
	let batch = [spec(ElementType::I64, &[2]), spec(ElementType::F32, &[2, 10])];
	assert_eq!(rule(4, 64).check(&batch), Ok(()));
}

#[test]
fn a_label_under_its_scores_tolerance_is_never_wrong_enough_the_argmax_rule_is() {
	// The float demo model's version-0 rule: one tolerance of 4 (slash 64) for the label and
	// the probabilities alike. A label off by up to 4 classes agrees with the honest one, and
	// one off by up to 9 is never slashable.
	let honest = answer(2, [1_000, 2_000, 60_000, 2_536]);
	let lying = answer(6, [1_000, 2_000, 60_000, 2_536]);
	let old = ComparisonRule::PerOutput(
		vec![OutputRule::Tolerance { agree: 4, slash: 64 }; 2].try_into().unwrap(),
	);
	assert_eq!(compare(&old, &honest, &lying), Closeness::Agree);
	let decision =
		decide(&old, false, &outputs(&[lying.clone(), honest.clone(), honest.clone()]), 3);
	assert_eq!(decision.verdicts, vec![Verdict::Agreed; 3], "the liar is even paid");
	// The corrected rule: the label must be the argmax of the worker's own probabilities.
	let decision = decide(&rule(4, 64), false, &outputs(&[lying, honest.clone(), honest]), 3);
	assert_eq!(decision.verdicts, vec![Verdict::Wrong, Verdict::Agreed, Verdict::Agreed]);
}
