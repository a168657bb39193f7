//! Jobs, their inputs and results.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	pallet_prelude::*, traits::fungible, BoundedVec, CloneNoBound, DebugNoBound, EqNoBound,
	PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;
use veritensor_primitives::{
	quorum::Verdict, tensor::MaxTensors, ModelHash, Tensor, WorkerId, WorkerSignature,
};

/// The balance type of the escrow currency.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// A job's price in the runtime's account and balance types.
pub type PriceOf<T> = Price<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
/// A worker the draw may pick, in the runtime's account and balance types.
pub type CandidateOf<T> =
	veritensor_primitives::traits::Candidate<<T as frame_system::Config>::AccountId, BalanceOf<T>>;
/// Tensors small enough to travel inline, one side of a model's schema.
pub type InlineTensors<T> = BoundedVec<Tensor<<T as Config>::MaxInlineTensorBytes>, MaxTensors>;

/// A fetch URI for data too large to travel inline.
pub type DataUri<T> = BoundedVec<u8, <T as Config>::MaxUriLen>;

/// A job's input or a result's output: inline tensors, or the canonical hash of tensors kept
/// elsewhere with where to fetch them.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub enum Payload<T: Config> {
	/// The tensors themselves, checked against the model's schema on chain.
	Inline(InlineTensors<T>),
	/// The canonical hash (see `veritensor_primitives::hashing`) of tensors at `uri`.
	Remote {
		/// Canonical hash of the tensors.
		hash: H256,
		/// Where to fetch them.
		uri: DataUri<T>,
	},
}

/// What a job pays, fixed when it is submitted.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Price<AccountId, Balance> {
	/// Paid to each assigned worker that delivers.
	pub per_worker: Balance,
	/// The model's owner, who earns the royalty.
	pub owner: AccountId,
	/// Paid to the owner per settled job.
	pub royalty: Balance,
	/// Paid to the treasury per settled job (the protocol fee, at least the minimum fee's
	/// difference).
	pub protocol: Balance,
	/// Paid to the treasury per settled job for keeping its result in state for the retention
	/// period: the result byte price times the largest result the model's schema allows.
	pub storage: Balance,
	/// What each assigned worker is slashed if it does not answer by the deadline: fixed at
	/// submission, like the rest of the terms, so that a later change of the parameters does
	/// not change assignments already taken.
	pub no_show_slash: Balance,
}

/// Where a job stands.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub enum JobState<T: Config> {
	/// Waiting for its workers to be drawn at block `assign_at`.
	Queued {
		/// The block whose initialisation draws the workers.
		assign_at: BlockNumberFor<T>,
	},
	/// Drawn workers are running it.
	Assigned {
		/// The workers, of distinct operators, in draw order (a quorum's no-shows replaced in
		/// place).
		workers: BoundedVec<WorkerId, T::MaxWorkersPerJob>,
		/// The block they were drawn in.
		at: BlockNumberFor<T>,
	},
	/// A quorum found no strict majority: the escrow stays held until `until`, the end of the
	/// dispute window, and is then returned less the minimum fee.
	Disputed {
		/// The block whose initialisation refunds the job.
		until: BlockNumberFor<T>,
	},
	/// Its parties contradict each other (see [`Referral`]): referees are drawn at `draw_at`.
	Escalated {
		/// The block whose initialisation draws the referees.
		draw_at: BlockNumberFor<T>,
	},
}

/// An open job.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Job<T: Config> {
	/// Who submitted and pays.
	pub submitter: T::AccountId,
	/// The model to run.
	pub model: ModelHash,
	/// Canonical hash of the input.
	pub input_hash: H256,
	/// How many workers run it.
	pub k: u32,
	/// What it pays, as quoted at submission.
	pub price: PriceOf<T>,
	/// The escrow held from the submitter: the whole `max_fee`.
	pub escrow: BalanceOf<T>,
	/// The submission block.
	pub submitted_at: BlockNumberFor<T>,
	/// The last block in which a result is accepted.
	pub deadline: BlockNumberFor<T>,
	/// Where it stands.
	pub state: JobState<T>,
}

/// A settled job's result, kept for [`Config::ResultRetention`] blocks.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct JobResult<T: Config> {
	/// The model run.
	pub model: ModelHash,
	/// The worker whose result was accepted; for a result the runtime recomputed
	/// ([`ResultStatus::Recomputed`]), the worker whose output it replaced.
	pub worker: WorkerId,
	/// The output.
	pub output: Payload<T>,
	/// Canonical hash of the output.
	pub output_hash: H256,
	/// The worker key's signature over the result's receipt `(genesis hash, job, model, input
	/// hash, output hash, worker)`: anyone may check the result against it later (except a
	/// recomputed result's, which is the replaced output's).
	pub signature: sp_core::sr25519::Signature,
	/// One worker's signed word only, not checked by others.
	pub single_worker: bool,
	/// The block it was settled in.
	pub settled_at: BlockNumberFor<T>,
}

/// What a worker found running a job: the output with its receipt, or that it cannot run it.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub enum Finding<T: Config> {
	/// The output, with the worker key's signature over the receipt
	/// `(genesis hash, job, model, input hash, output hash, worker)`.
	Output {
		/// The output.
		output: Payload<T>,
		/// The receipt signature.
		signature: WorkerSignature,
	},
	/// The worker cannot run the job.
	CannotExecute {
		/// Why, as the worker's executor reported it.
		reason: CannotExecuteReason,
	},
}

/// A revealed finding as state keeps it until its quorum is decided (the receipt signature as a
/// plain sr25519 signature, which has a bounded encoding).
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub enum RevealedFinding<T: Config> {
	/// The output and its receipt signature.
	Output {
		/// The output.
		output: Payload<T>,
		/// The receipt signature.
		signature: sp_core::sr25519::Signature,
	},
	/// The worker cannot run the job.
	CannotExecute {
		/// Why.
		reason: CannotExecuteReason,
	},
}

impl<T: Config> From<Finding<T>> for RevealedFinding<T> {
	fn from(finding: Finding<T>) -> Self {
		match finding {
			Finding::Output { output, signature } => {
				Self::Output { output, signature: signature.into() }
			}
			Finding::CannotExecute { reason } => Self::CannotExecute { reason },
		}
	}
}

/// A worker's answer to one job.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub enum Answer<T: Config> {
	/// The output, with the worker key's signature over the receipt
	/// `(genesis hash, job, model, input hash, output hash, worker)`.
	Output {
		/// The output.
		output: Payload<T>,
		/// The receipt signature.
		signature: WorkerSignature,
	},
	/// The worker cannot run the job: the user is refunded, nobody is paid or slashed.
	CannotExecute {
		/// Why, as the worker's executor reported it.
		reason: CannotExecuteReason,
	},
	/// A quorum member's commitment to its finding (see
	/// [`veritensor_primitives::hashing::commitment`]), taken until every member has committed
	/// or the commit window ends.
	Commit {
		/// The commitment.
		commitment: H256,
	},
	/// A quorum member's finding, opened once reveals are open: it must hash, with `salt`, to
	/// the member's commitment.
	Reveal {
		/// The finding committed to.
		finding: Finding<T>,
		/// The 32 random bytes committed with it.
		salt: [u8; 32],
	},
}

impl<T: Config> Answer<T> {
	/// The finding an answer gives directly, if it is one (a single-worker job's answer).
	pub fn as_finding(&self) -> Option<Finding<T>> {
		match self {
			Self::Output { output, signature } => {
				Some(Finding::Output { output: output.clone(), signature: signature.clone() })
			}
			Self::CannotExecute { reason } => Some(Finding::CannotExecute { reason: *reason }),
			Self::Commit { .. } | Self::Reveal { .. } => None,
		}
	}
}

pub use veritensor_primitives::CannotExecuteReason;

/// One answer in a [`crate::Pallet::submit_results`] call: the batch names its worker.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Submission<T: Config> {
	/// The job answered.
	pub job: veritensor_primitives::JobId,
	/// The answer.
	pub answer: Answer<T>,
}

/// The answers of one [`crate::Pallet::submit_results`] call.
pub type AnswersOf<T> = BoundedVec<Submission<T>, <T as Config>::MaxResultsPerCall>;

/// How a job ended.
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
pub enum Refund {
	/// The submitter cancelled it before assignment.
	Cancelled,
	/// Fewer eligible workers of distinct operators than it needed when drawn.
	NoWorkers,
	/// The worker answered "cannot execute".
	CannotExecute(CannotExecuteReason),
	/// No result by the deadline.
	Expired,
	/// A quorum found no strict majority; refunded less the minimum fee when the dispute window
	/// ended.
	Disputed,
	/// A referee quorum could not be drawn, found no majority, or found the job cannot be
	/// run; no party was slashed.
	Unresolved,
}

/// The commit and reveal progress of a quorum job (k > 1), kept while it is assigned.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Quorum<T: Config> {
	/// The first block in which commitments are no longer taken: its initialisation treats the
	/// members that have not committed as no-shows.
	pub commit_end: BlockNumberFor<T>,
	/// Whether reveals are open: every member has committed, or the commit window has ended.
	pub reveals_open: bool,
	/// Whether no-shows were replaced already (once at most).
	pub replaced: bool,
	/// Each member's commitment, in the order of the job's workers.
	pub commitments: BoundedVec<Option<H256>, T::MaxWorkersPerJob>,
}

/// How a quorum was decided, kept with the job's result for the retention period.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct QuorumDecision<T: Config> {
	/// The block it was decided in.
	pub decided_at: BlockNumberFor<T>,
	/// The member whose answer is canonical, and the canonical output's hash (`None` for a
	/// "cannot execute" majority); `None` when no strict majority agreed (a dispute).
	pub canonical: Option<(WorkerId, Option<H256>)>,
	/// Each member's verdict, in draw order.
	pub verdicts: BoundedVec<(WorkerId, Verdict), T::MaxWorkersPerJob>,
	/// What each slashed member is slashed (`Wrong` and `Unrevealed`) when the dispute window
	/// ends.
	pub slash: BalanceOf<T>,
	/// The block whose initialisation applies the slashes (and refunds a disputed job).
	pub dispute_end: BlockNumberFor<T>,
}

/// The most jobs whose commit window ends in one block, each commit window being as long:
/// those drawn in one block, those whose check (auditor or referees) was drawn in one block (at
/// most `MaxJobsPerBlock` together again), and those whose no-shows were replaced in one block
/// (at most the first windows of both kinds that ended in one block).
pub struct CommitEndsPerBlock<T>(core::marker::PhantomData<T>);

impl<T: Config> Get<u32> for CommitEndsPerBlock<T> {
	fn get() -> u32 {
		T::MaxJobsPerBlock::get().saturating_mul(4)
	}
}

/// A quorum member's progress, as the runtime API reports it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct MemberProgress {
	/// The member's worker key.
	pub worker: WorkerId,
	/// Whether it has committed.
	pub committed: bool,
	/// Whether it has revealed.
	pub revealed: bool,
}

/// An open quorum job's commit and reveal progress, as the runtime API reports it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, TypeInfo)]
pub struct QuorumProgress<BlockNumber> {
	/// The first block in which commitments are no longer taken.
	pub commit_end: BlockNumber,
	/// Whether reveals are open.
	pub reveals_open: bool,
	/// Whether no-shows were replaced already.
	pub replaced: bool,
	/// The members in draw order.
	pub members: alloc::vec::Vec<MemberProgress>,
}

/// An audited job's check (see [`crate::audit`]), kept while the job is open.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Audit<T: Config> {
	/// The probability it is audited, fixed at submission from the model's price and the slash
	/// (see [`veritensor_primitives::audit_rate`]).
	pub rate: sp_runtime::Perbill,
	/// What the job pays into the audit pool when it settles: the rate times a worker's price,
	/// what an audit costs in expectation.
	pub premium: BalanceOf<T>,
	/// Where the check stands.
	pub stage: AuditStage<BlockNumberFor<T>>,
}

/// Where an audited job's check stands.
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
pub enum AuditStage<BlockNumber> {
	/// The worker has not committed yet.
	Working,
	/// The worker committed; the initialisation of block `at` decides, from the VRF output of
	/// the block after the commitment's, whether to audit.
	Deciding {
		/// The block whose initialisation decides.
		at: BlockNumber,
	},
	/// Not audited (or no worker of another operator could audit): the worker reveals and the
	/// job settles on its word.
	Unaudited,
	/// Audited: the auditor, the job's second member, commits blind; then both reveal and are
	/// compared under the model's slash rule.
	Audited,
}

/// Why a referee quorum was called.
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
pub enum RefereeCause {
	/// An audited worker's output and its auditor's answer contradict each other.
	AuditContradicted,
	/// A quorum found no strict majority.
	QuorumSplit,
	/// A provisional result was challenged.
	Challenged,
	/// A quorum member slashed for a wrong result appealed.
	Appealed,
}

/// A job in the hands of a referee quorum: three workers of operators that took no part in it
/// run it afresh (commit, reveal), and their majority judges the parties.
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
pub struct Referral {
	/// Why.
	pub cause: RefereeCause,
	/// How many parties the referees judge: their findings are in `Parties`, the first the
	/// audited worker's (for an audit or a challenge) or the first member's.
	pub parties: u32,
}

/// A referee quorum's decision, as its event reports it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum RefereeOutcome {
	/// The referees agreed on an output: the parties that contradicted it were slashed.
	Decided {
		/// The referee whose output is canonical.
		canonical: WorkerId,
		/// Whether the job's result stands: the audited worker's output (an audit), or a
		/// member's output the referees agreed with (a split quorum). If not, the submitter
		/// gets the referees' output and pays nothing.
		upheld: bool,
	},
	/// The referees found no majority, or found the job cannot be run: the submitter is
	/// refunded and no party is slashed.
	Undecided,
	/// Fewer than three operators that took no part in the job could referee it: the
	/// submitter is refunded and no party is slashed.
	NoReferees,
	/// No referee was needed: the runtime ran the model itself (one it runs) on the job's
	/// input, and the parties that contradicted its output were slashed.
	Recomputed {
		/// Whether the job's result stands (as for `Decided`). If not, the submitter gets the
		/// runtime's output.
		upheld: bool,
	},
}

/// The number of referees of a referee quorum.
pub const REFEREES: u32 = 3;

/// A result that can still be overturned until `until`: settled on one worker's word (a
/// single-worker or audited job, open to challenge), or by a quorum that slashed a member
/// (open to that member's appeal). Its cost stays in the pot, unpaid, and its input is kept.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Provisional<T: Config> {
	/// The job as it settled: its submitter, model and price.
	pub job: Job<T>,
	/// The worker whose output the result is (a quorum's: its canonical member).
	pub worker: WorkerId,
	/// The operator whose bond backed the worker: slashed if a challenge overturns the result,
	/// even if the worker key has been unregistered since.
	pub operator: T::AccountId,
	/// The workers paid when the result becomes final (a quorum's: those that agreed), with
	/// their operators (slashed if an appeal overturns the result, even if the keys have been
	/// unregistered since) and payees.
	pub earners: BoundedVec<Earner<T>, T::MaxWorkersPerJob>,
	/// The audit premium the job paid, kept with its cost; it goes to the audit pool when the
	/// result becomes final.
	pub premium: BalanceOf<T>,
	/// The block whose initialisation makes the result final, unless it is challenged.
	pub until: BlockNumberFor<T>,
	/// The open challenge or appeal, if any: the job is back in the hands of a referee quorum.
	pub challenge: Option<Challenge<T>>,
}

/// A worker a provisional result pays when it becomes final.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Earner<T: Config> {
	/// The worker key.
	pub worker: WorkerId,
	/// The operator whose bond backs it.
	pub operator: T::AccountId,
	/// Where its earnings go.
	pub payee: T::AccountId,
}

/// A challenge of a provisional result, or a slashed quorum member's appeal.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
pub struct Challenge<T: Config> {
	/// Who challenged (an appeal: the slashed member's operator), and holds the deposit.
	pub challenger: T::AccountId,
	/// What is held from the challenger under [`crate::HoldReason::ChallengeDeposit`].
	pub deposit: BalanceOf<T>,
	/// The canonical hash of the output the challenger claims is right (an appeal: the
	/// appellant's own).
	pub claimed: H256,
}

/// Where a settled job's result stands, as the runtime API reports it.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub enum ResultStatus<BlockNumber> {
	/// Settled on one worker's word, open to challenge until `until`, or by a quorum that
	/// slashed a member, open to its appeal until then (unless `challenged` already, when a
	/// referee quorum is judging it); its earnings held until then.
	Provisional {
		/// The block whose initialisation makes it final.
		until: BlockNumber,
		/// Whether a challenge or an appeal is being judged.
		challenged: bool,
	},
	/// Final: agreed by a quorum or its referees, or provisional and not overturned.
	Final,
	/// The result was overturned by a referee quorum: the stored output is the referees', the
	/// submitter was refunded in full and the worker (a quorum's majority) slashed.
	Overturned {
		/// The worker whose output was overturned.
		worker: WorkerId,
	},
	/// A challenge showed the result wrong by the runtime's own run of the model: the stored
	/// output is the runtime's (exact, the output any honest worker computes), the submitter
	/// was refunded in full and the worker slashed.
	Recomputed {
		/// The worker whose output was replaced.
		worker: WorkerId,
	},
}
