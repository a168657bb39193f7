//! Workers' answers: which answers the chain takes, checked the same way in the transaction
//! pool and in the block, so that an answer the pool admits is an answer the block accepts.
//!
//! Answers travel in general transactions that the pallet authorizes itself
//! (`#[pallet::authorize]`, run by `frame_system::AuthorizeCall`): the worker key signs the
//! batch, so answering needs no account, nonce or fee. In the pool a batch is valid only if
//! every answer in it is: signed by the worker key, for an open job assigned to that key and
//! not answered yet, before the job's deadline, with an output that fits the model's schema and
//! a receipt the key signed. Anything else is refused before it reaches a block and costs its
//! sender nothing on chain. A valid batch gets [`crate::Config::AnswerPriority`], one
//! `provides` tag per (worker, job) so that two answers to one job never both enter the pool,
//! and a longevity that ends at the earliest deadline it answers.
//!
//! In a block (source `InBlock`) an answer may also have gone stale since the pool took it (its
//! job ended, or its deadline passed): the batch stays valid while one of its answers is still
//! good, and the call skips the stale ones, reporting each with its reason.

use crate::{pallet::*, submission::PayloadError, types::*};
use alloc::vec::Vec;
use codec::Encode;
use frame_support::{defensive, pallet_prelude::*, weights::Weight};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{Saturating, Zero},
	transaction_validity::TransactionValidityWithRefund,
	DispatchError, SaturatedConversion,
};
use veritensor_primitives::{
	hashing::commitment,
	output_hash,
	traits::{ModelRegistry, WorkerStaking},
	JobId, Receipt, TensorError, WorkerId, WorkerSignature,
};

/// What separates a worker key's signature over a batch of answers from its other signatures.
pub const ANSWERS_CONTEXT: &[u8] = b"veritensor:answers:v1";

/// The tag prefix of answers in the transaction pool.
const ANSWER_TAG: &str = "VeritensorJobAnswer";

/// What the worker key signs for a batch of answers: the blake2-256 hash of the context, the
/// chain's genesis hash, the worker key and the answers.
pub fn answers_payload<T: Config>(worker: &WorkerId, answers: &[Submission<T>]) -> [u8; 32] {
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	(ANSWERS_CONTEXT, genesis, worker, answers).using_encoded(sp_io::hashing::blake2_256)
}

/// An answer that passed every check, ready to apply.
pub(crate) struct CheckedAnswer<T: Config> {
	pub job_id: JobId,
	pub job: Job<T>,
	pub kind: Checked<T>,
}

/// What a checked answer says.
pub(crate) enum Checked<T: Config> {
	/// A single-worker job's finding.
	Direct(CheckedFinding<T>),
	/// A quorum member's commitment; `member` is its place in the draw.
	Commit { member: u32, commitment: H256 },
	/// A quorum member's finding, matching its commitment.
	Reveal { member: u32, finding: CheckedFinding<T>, revealed: Finding<T> },
}

/// A finding that fits the model's schema.
pub(crate) enum CheckedFinding<T: Config> {
	/// A result, its canonical hash and the receipt signature over it.
	Output { output: Payload<T>, output_hash: H256, signature: WorkerSignature },
	/// The worker cannot run the job.
	CannotExecute { reason: CannotExecuteReason },
}

/// What a batch of answers did, for its weight.
pub(crate) struct Applied {
	/// Direct answers (single-worker jobs) accepted.
	pub accepted: u32,
	/// Commitments accepted.
	pub commits: u32,
	/// Reveals accepted.
	pub reveals: u32,
	/// The largest output among them, in bytes of inline data.
	pub largest: u32,
	/// The weight of the quorum decisions they made.
	pub decisions: Weight,
}

/// The kind of an accepted answer, for the weight.
enum Kind {
	Direct,
	Commit,
	Reveal,
}

/// Why an answer is not taken.
pub(crate) enum Refusal<T> {
	/// It was good once and is no longer: its job ended or its deadline passed. Skipped in a
	/// block; refused in the pool.
	Stale(Error<T>),
	/// It never was: not the worker's job, a malformed output, a bad receipt.
	Invalid(Error<T>),
}

impl<T> Refusal<T> {
	pub(crate) fn error(self) -> Error<T> {
		match self {
			Refusal::Stale(error) | Refusal::Invalid(error) => error,
		}
	}
}

/// An invalid transaction carrying the pallet error's index, so that the refusal names it.
fn invalid<T: Config>(error: Error<T>) -> TransactionValidityError {
	let index = error.encode().first().copied().unwrap_or(u8::MAX);
	InvalidTransaction::Custom(index).into()
}

impl<T: Config> Pallet<T> {
	/// Checks `submission`, an answer of `worker`, against the chain's state now: everything but
	/// its receipt signature (see [`Self::verify_receipt`]), so that a batch's cheap checks all
	/// come before any signature is verified.
	pub(crate) fn check_answer(
		worker: &WorkerId,
		submission: &Submission<T>,
	) -> Result<CheckedAnswer<T>, Refusal<T>> {
		let job_id = submission.job;
		// A job that never existed is no race: the answer is junk.
		ensure!(job_id < NextJobId::<T>::get(), Refusal::Invalid(Error::<T>::UnknownJob));
		let job = Jobs::<T>::get(job_id).ok_or(Refusal::Stale(Error::<T>::UnknownJob))?;
		let workers = match &job.state {
			JobState::Assigned { workers, .. } => workers,
			// Decided while the answer travelled: a race, not junk.
			JobState::Disputed { .. } | JobState::Escalated { .. } => {
				return Err(Refusal::Stale(Error::<T>::NotAssigned))
			}
			JobState::Queued { .. } => return Err(Refusal::Invalid(Error::<T>::NotAssigned)),
		};
		let member = match workers.iter().position(|assigned| assigned == worker) {
			Some(member) => member as u32,
			// A quorum replaces its no-shows, and a referee quorum its parties: their late
			// answers are races too, and must not sink the rest of their batch in a block.
			None if Quorums::<T>::contains_key(job_id) || Referrals::<T>::contains_key(job_id) => {
				return Err(Refusal::Stale(Error::<T>::NotAssignedWorker))
			}
			None => return Err(Refusal::Invalid(Error::<T>::NotAssignedWorker)),
		};
		// Assigned and no longer listed: this worker answered already (or, in a quorum, was a
		// no-show).
		ensure!(
			WorkerJobs::<T>::contains_key(worker, job_id),
			Refusal::Stale(Error::<T>::AlreadyAnswered)
		);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now <= job.deadline, Refusal::Stale(Error::<T>::AnswerTooLate));
		let quorum = Quorums::<T>::get(job_id);
		let kind = match (&submission.answer, quorum) {
			(Answer::Output { .. } | Answer::CannotExecute { .. }, Some(_)) => {
				return Err(Refusal::Invalid(Error::<T>::MustCommit))
			}
			(Answer::Commit { .. } | Answer::Reveal { .. }, None) => {
				return Err(Refusal::Invalid(Error::<T>::NotQuorumJob))
			}
			(Answer::Output { output, signature }, None) => {
				let finding =
					Finding::Output { output: output.clone(), signature: signature.clone() };
				Checked::Direct(Self::check_finding(&job, finding)?)
			}
			(Answer::CannotExecute { reason }, None) => {
				Checked::Direct(CheckedFinding::CannotExecute { reason: *reason })
			}
			(Answer::Commit { commitment }, Some(quorum)) => {
				let committed = quorum.commitments.get(member as usize).copied().flatten();
				ensure!(committed.is_none(), Refusal::Stale(Error::<T>::AlreadyCommitted));
				ensure!(
					!quorum.reveals_open && now < quorum.commit_end,
					Refusal::Stale(Error::<T>::CommitWindowClosed)
				);
				Checked::Commit { member, commitment: *commitment }
			}
			(Answer::Reveal { finding, salt }, Some(quorum)) => {
				ensure!(quorum.reveals_open, Refusal::Invalid(Error::<T>::RevealsNotOpen));
				let committed = quorum
					.commitments
					.get(member as usize)
					.copied()
					.flatten()
					.ok_or(Refusal::Invalid(Error::<T>::NotCommitted))?;
				ensure!(
					!Reveals::<T>::contains_key(job_id, member),
					Refusal::Stale(Error::<T>::AlreadyAnswered)
				);
				let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
				ensure!(
					commitment(&genesis, job_id, worker, finding, salt) == committed,
					Refusal::Invalid(Error::<T>::RevealMismatch)
				);
				let checked = Self::check_finding(&job, finding.clone())?;
				Checked::Reveal { member, finding: checked, revealed: finding.clone() }
			}
		};
		Ok(CheckedAnswer { job_id, job, kind })
	}

	/// Checks a finding against the model's schema: an output must fit it, and travel inline
	/// where it can (every quorum output can: see `QuorumNeedsInlineOutputs`).
	pub(crate) fn check_finding(
		job: &Job<T>,
		finding: Finding<T>,
	) -> Result<CheckedFinding<T>, Refusal<T>> {
		let (output, signature) = match finding {
			Finding::CannotExecute { reason } => {
				return Ok(CheckedFinding::CannotExecute { reason })
			}
			Finding::Output { output, signature } => (output, signature),
		};
		let schema = T::Models::schema(&job.model).ok_or_else(|| {
			defensive!("a model with open jobs stays registered");
			Refusal::Stale(Error::<T>::ModelNotUsable)
		})?;
		// A remote output is only a hash and a URI the chain cannot check: allowed only where
		// the outputs cannot travel inline.
		if matches!(output, Payload::Remote { .. }) && Self::outputs_fit_inline(&schema) {
			return Err(Refusal::Invalid(Error::<T>::OutputMustBeInline));
		}
		let output_hash =
			Self::check_payload(&output, &schema.outputs, output_hash).map_err(|error| {
				Refusal::Invalid(match error {
					PayloadError::EmptyUri => Error::<T>::EmptyUri,
					PayloadError::Tensor(TensorError::CountMismatch) => {
						Error::<T>::OutputCountMismatch
					}
					PayloadError::Tensor(_) => Error::<T>::OutputMismatch,
				})
			})?;
		Ok(CheckedFinding::Output { output, output_hash, signature })
	}

	/// Whether a checked answer's receipt is `worker`'s signature (always, for "cannot
	/// execute" and commitments).
	pub(crate) fn verify_receipt(worker: &WorkerId, checked: &CheckedAnswer<T>) -> bool {
		match &checked.kind {
			Checked::Commit { .. }
			| Checked::Direct(CheckedFinding::CannotExecute { .. })
			| Checked::Reveal { finding: CheckedFinding::CannotExecute { .. }, .. } => true,
			Checked::Direct(CheckedFinding::Output { output_hash, signature, .. })
			| Checked::Reveal {
				finding: CheckedFinding::Output { output_hash, signature, .. },
				..
			} => Self::receipt(checked.job_id, &checked.job, *output_hash, worker).verify(signature),
		}
	}

	/// The receipt a worker signs for `output_hash` as `job`'s result.
	pub(crate) fn receipt(
		job_id: JobId,
		job: &Job<T>,
		output_hash: H256,
		worker: &WorkerId,
	) -> Receipt {
		Receipt {
			genesis_hash: frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()),
			job_id,
			model: job.model,
			input_hash: job.input_hash,
			output_hash,
			worker: worker.clone(),
		}
	}

	/// The authorization of [`Pallet::submit_results`]: whether a batch of answers may enter
	/// the pool (any source but `InBlock`) or a block (`InBlock`), and with which priority,
	/// tags and longevity. See the module's docs.
	pub(crate) fn authorize_answers(
		source: TransactionSource,
		worker: &WorkerId,
		answers: &AnswersOf<T>,
		signature: &WorkerSignature,
	) -> TransactionValidityWithRefund {
		ensure!(!answers.is_empty(), invalid::<T>(Error::<T>::NoAnswers));
		for (index, answer) in answers.iter().enumerate() {
			ensure!(
				answers[..index].iter().all(|earlier| earlier.job != answer.job),
				invalid::<T>(Error::<T>::DuplicateAnswer)
			);
		}
		// A key with nothing assigned is refused before anything costlier than one read.
		ensure!(
			WorkerJobs::<T>::iter_key_prefix(worker).next().is_some(),
			InvalidTransaction::Stale
		);
		let payload = answers_payload::<T>(worker, answers);
		ensure!(
			sp_runtime::RuntimeAppPublic::verify(worker, &payload, signature),
			InvalidTransaction::BadProof
		);
		let in_block = source == TransactionSource::InBlock;
		let now = frame_system::Pallet::<T>::block_number();
		let mut valid = ValidTransaction::with_tag_prefix(ANSWER_TAG)
			.priority(T::AnswerPriority::get())
			.propagate(true);
		let mut longevity = TransactionLongevity::MAX;
		let mut good = Vec::with_capacity(answers.len());
		for answer in answers {
			match Self::check_answer(worker, answer) {
				Ok(checked) => {
					// A commitment is taken only until its commit window ends.
					let last = match &checked.kind {
						Checked::Commit { .. } => Quorums::<T>::get(checked.job_id)
							.map(|quorum| quorum.commit_end.saturating_sub(1u32.into()))
							.unwrap_or(checked.job.deadline)
							.min(checked.job.deadline),
						_ => checked.job.deadline,
					};
					let left = last.saturating_sub(now).saturating_add(1u32.into());
					longevity = longevity.min(left.saturated_into());
					// A commitment and a reveal of one member are two steps: each has its tag.
					let step = matches!(answer.answer, Answer::Reveal { .. }) as u8;
					valid = valid.and_provides((worker, answer.job, step));
					good.push(checked);
				}
				Err(Refusal::Stale(_)) if in_block => {}
				Err(Refusal::Stale(_)) => return Err(InvalidTransaction::Stale.into()),
				Err(Refusal::Invalid(error)) => return Err(invalid::<T>(error)),
			}
		}
		ensure!(!good.is_empty(), InvalidTransaction::Stale);
		// Signatures last, once every cheaper check has passed.
		for checked in &good {
			ensure!(Self::verify_receipt(worker, checked), invalid::<T>(Error::<T>::BadReceipt));
		}
		// The weight to refund, not a weight charged: none, because the declared weight is the
		// benchmark's for exactly this batch's count and largest output.
		Ok((valid.longevity(longevity).build()?, Weight::zero()))
	}

	/// Applies a batch of answers of `worker` that its authorization has just checked, in this
	/// same transaction: each answer's state is checked again (an answer still good was
	/// accepted by the authorization, receipt and all; one that is not is skipped with its
	/// reason). Returns what was applied, for the weight.
	pub(crate) fn apply_answers(
		worker: &WorkerId,
		answers: Vec<Submission<T>>,
	) -> Result<Applied, DispatchError> {
		let payee = T::Workers::payee(worker).ok_or(Error::<T>::NotWorkerAccount)?;
		let (mut accepted, mut commits, mut reveals) = (0u32, 0u32, 0u32);
		let mut largest = 0u32;
		// The start of a sum: each term added below is a benchmarked decision weight.
		let mut decisions = Weight::zero();
		for answer in answers {
			let job = answer.job;
			match Self::check_answer(worker, &answer) {
				Ok(checked) => {
					let answer_kind = match &checked.kind {
						Checked::Commit { .. } => Kind::Commit,
						Checked::Reveal { .. } => Kind::Reveal,
						Checked::Direct(_) => Kind::Direct,
					};
					if let Checked::Direct(CheckedFinding::Output { output, .. })
					| Checked::Reveal {
						finding: CheckedFinding::Output { output, .. }, ..
					} = &checked.kind
					{
						largest = largest.max(Self::payload_bytes(output));
					}
					// One answer's failure leaves no trace of it and the others stand.
					let applied = frame_support::storage::with_storage_layer(|| {
						Self::accept_answer(worker, &payee, checked)
					});
					match applied {
						Ok(decision) => {
							match answer_kind {
								Kind::Commit => commits.saturating_inc(),
								Kind::Reveal => reveals.saturating_inc(),
								Kind::Direct => accepted.saturating_inc(),
							}
							decisions.saturating_accrue(decision.unwrap_or_default());
						}
						Err(reason) => {
							log!(error, "job {job}: a checked answer failed to settle: {reason:?}");
							Self::deposit_event(Event::AnswerSkipped {
								job,
								worker: worker.clone(),
								reason,
							})
						}
					}
				}
				Err(refusal) => Self::deposit_event(Event::AnswerSkipped {
					job,
					worker: worker.clone(),
					reason: refusal.error().into(),
				}),
			}
		}
		Ok(Applied { accepted, commits, reveals, largest, decisions })
	}
}
