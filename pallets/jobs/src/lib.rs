//! # Job market
//!
//! dApps pay for inference, bonded workers answer, the chain settles.
//!
//! ## Life of a job
//!
//! 1. `submit {model, input, k, max_fee, deadline}`: the model must take jobs, the input match
//!    its schema (inline tensors) or be a canonical hash and URI; the price is snapshotted and
//!    `max_fee` held in escrow ([`HoldReason::JobEscrow`]). Refused if fewer than `k` operators
//!    have eligible workers for the model now.
//! 2. A job included in block N is assigned at block N + [`Config::AssignmentDelay`] (D), from
//!    the VRF outputs of blocks N+1 … N+D−1 mixed with the job id: an author knows its own
//!    block's VRF output in advance, so biasing the draw takes authoring all of those blocks.
//!    When that draw is full (`MaxJobsPerBlock` jobs or `MaxModelsPerBlock` models), the job
//!    goes to the first of the next [`MAX_LATER_DRAWS`] draws with room, as far as its
//!    deadline exceeds the least allowed; only then does the submission fail. A later draw
//!    mixes every VRF output since the submission's block. A deadline block whose expiries
//!    are full moves the deadline up to `MaxLaterDeadline` blocks later, never earlier.
//!    Workers are drawn stake-weighted, of distinct operators, among those the worker staking
//!    pallet reports eligible. With too few, the job is refunded.
//! 3. The worker answers with `submit_results`, a general transaction the pallet authorizes
//!    itself (see [`answers`]): the output with a receipt signed by the worker key, or "cannot
//!    execute" (a refund but for the minimum fee, nobody paid or slashed). The worker key signs the batch; no
//!    account, nonce or fee is needed, and the pool refuses any answer the block would not take.
//! 4. Settlement: the worker earns the snapshotted price, the owner its royalty, the treasury the
//!    protocol fee; the submitter gets the rest of the escrow back. Earnings accrue to claimable
//!    balances in the pallet's account, paid out by `claim`, so a payout never makes settlement
//!    fail. The result is stored for [`Config::ResultRetention`] blocks. A result on one worker's
//!    word is provisional for [`Config::DisputeWindow`] blocks: its earnings accrue only then,
//!    and anyone may challenge it meanwhile (see `challenge.rs`).
//! 5. No result by the deadline: the worker is slashed for a no-show (the amount fixed at
//!    submission) and the submitter refunded in full.
//!
//! Quorum jobs (k of 3 or 5) commit blind, reveal and are compared (see `quorum.rs`); audited
//! jobs (one worker) commit blind and are audited at random by a worker of another operator;
//! contradictions and split quorums go to referee quorums (see `audit.rs`). A quorum that
//! slashes a member for a wrong result settles provisionally too: the member's operator may
//! appeal to a referee quorum before the slash is applied (see `appeal.rs`).
//!
//! Every path releases the whole escrow: to the submitter, the earners, or (the minimum fee of
//! a cancelled or not executable job) the treasury. Hooks touch only what is due at their block: queues of
//! assignments and deadlines are indexed by block and bounded; results are pruned in bounded
//! batches.
//!
//! ## Code map
//!
//! - `submission.rs`: the quote, the input checks, and queueing a job;
//! - [`answers`]: which answers the pool and the block take, and how a batch is applied;
//! - `draw.rs`: the draw of a job's workers;
//! - `quorum.rs`: commit windows, reveals and quorum decisions;
//! - `audit.rs`: audits, their rate's draw, and referee quorums;
//! - `challenge.rs`: provisional results, their dispute window and challenges;
//! - `appeal.rs`: appeals of a quorum's slashes;
//! - `settlement.rs`: answers, refunds, earnings and claims;
//! - `hooks.rs`: the per-block work (expiry, commit windows, checks drawn, the draw of due
//!   jobs, dispute windows, pruning);
//! - `asset.rs`: every movement of funds (escrow held, costs collected, earnings paid);
//! - `invariants.rs`: the checks of `try_state`;
//! - `queries.rs`: reads for the runtime API and the calls' weights;
//! - [`offchain`]: the worker node's off-chain worker.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

/// The target of every log line of the pallet, its off-chain worker's included.
pub(crate) const LOG_TARGET: &str = "runtime::jobs";

/// Logs at `$level` under [`LOG_TARGET`]: `log!(warn, "job {job_id}: ...")`.
macro_rules! log {
	($level:ident, $($arg:tt)+) => {
		::log::$level!(target: $crate::LOG_TARGET, $($arg)+)
	};
}

pub use pallet::*;
pub use submission::MAX_LATER_DRAWS;

pub mod answers;
mod appeal;
mod asset;
mod audit;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
mod challenge;
mod draw;
pub mod executor_client;
mod hooks;
#[cfg(any(test, feature = "try-runtime"))]
mod invariants;
pub mod migrations;
#[cfg(test)]
mod mock;
pub mod offchain;
mod queries;
pub mod queue;
mod quorum;
mod recompute;
pub mod runtime_api;
mod settlement;
mod submission;
#[cfg(test)]
mod tests;
pub mod types;
pub mod weights;

pub use queue::{Chunk, ChunkCursor};
pub use types::*;
pub use weights::WeightInfo;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		traits::{fungible, Randomness},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use sp_runtime::Perbill;
	use veritensor_primitives::{
		traits::{ModelRegistry, WorkerStaking},
		JobId, ModelHash, VerificationTerms, WorkerId, WorkerSignature,
	};

	/// Most VRF outputs kept for the draw: the assignment delay, less one, plus
	/// [`MAX_LATER_DRAWS`] is at most this.
	pub type MaxRecentVrf = ConstU32<8>;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(4);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the job market.
	#[pallet::config]
	pub trait Config:
		frame_system::Config<Hash = sp_core::H256>
		+ frame_system::offchain::CreateAuthorizedTransaction<Call<Self>>
	{
		/// The overarching hold reason; escrow is held under [`HoldReason::JobEscrow`].
		type RuntimeHoldReason: From<HoldReason>;

		/// The currency jobs are paid in.
		type Currency: fungible::Mutate<Self::AccountId>
			+ fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>;

		/// The model registry.
		type Models: ModelRegistry<Self::AccountId, BalanceOf<Self>>;

		/// Worker staking: candidates, assignment bookkeeping and slashing.
		type Workers: WorkerStaking<Self::AccountId, BalanceOf<Self>>;

		/// The VRF output of the parent block (BABE's `ParentBlockRandomness`).
		type ParentVrf: Randomness<Option<Self::Hash>, BlockNumberFor<Self>>;

		/// Receives the protocol fee, less the block author's share.
		#[pallet::constant]
		type TreasuryAccount: Get<Self::AccountId>;

		/// The author of the block being built, who earns [`Config::AuthorShare`] of the
		/// protocol fees its block accrues; `None` gives the treasury all of them.
		type BlockAuthor: Get<Option<Self::AccountId>>;

		/// The block author's share of each protocol fee (a governance parameter in the
		/// runtime). Only the protocol fee is shared: what cancelled or unexecutable jobs keep
		/// and challenge fees go to the treasury whole, so that a validator does not get its
		/// own cancellations and lost challenges cheaper than anyone else.
		type AuthorShare: Get<Perbill>;

		/// The pallet's account, which keeps earnings until they are claimed.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The audit pool's account: audited jobs' premiums and the bounties of the slashes
		/// referees decide come in, auditors' and referees' pay goes out.
		#[pallet::constant]
		type AuditPoolId: Get<PalletId>;

		/// The treasury's share on top of the workers' price and the owner's royalty.
		///
		/// This and the four items below are governance parameters in the runtime: they change
		/// without an upgrade, so they are not metadata constants (read the runtime's
		/// parameters, or a job's price, instead).
		type ProtocolFee: Get<Perbill>;

		/// The least a job costs, so that spam is never free; any difference goes to the
		/// treasury. A cancelled job, and one its worker cannot execute, still cost it, so that
		/// no job that takes a place in a draw is free.
		type MinFee: Get<BalanceOf<Self>>;

		/// The least a worker is slashed for not answering by the deadline, however cheap the
		/// job.
		type NoShowSlashFloor: Get<BalanceOf<Self>>;

		/// A no-show is slashed this many times the worker's price for the job, when that is
		/// above the floor; never more than an assignment's exposure.
		type NoShowSlashMultiple: Get<u32>;

		/// The least probability with which an audited job is audited, whatever its model's
		/// price and slash: the rate from the slash ([`veritensor_primitives::audit_rate`])
		/// makes skipping the work lose in expectation, but a cheater that gains something
		/// outside the job from a wrong answer needs a higher rate, which this floor sets.
		type AuditRateFloor: Get<Perbill>;

		/// What a job pays per byte of the largest result its model's schema allows, for
		/// keeping the result in state for [`Config::ResultRetention`] blocks.
		type ResultBytePrice: Get<BalanceOf<Self>>;

		/// Blocks after a quorum's draw (or its replacement of no-shows) in which its members
		/// commit: a member that has not committed by then is a no-show.
		#[pallet::constant]
		type CommitWindow: Get<u32>;

		/// The fewest blocks a quorum's members have to reveal: no-shows are replaced only if
		/// the deadline leaves a commit window and this after the replacement.
		#[pallet::constant]
		type RevealWindow: Get<u32>;

		/// The soonest deadline of a quorum or audited job, in blocks after submission: the
		/// draw, a commit window, one replacement's commit window and the reveal window; for an
		/// audit, also the decision's two blocks.
		#[pallet::constant]
		type MinQuorumDeadline: Get<BlockNumberFor<Self>>;

		/// Blocks after a quorum's decision before its slashes are applied and a disputed job
		/// is refunded; the slashed workers' exposure stays covered meanwhile.
		#[pallet::constant]
		type DisputeWindow: Get<BlockNumberFor<Self>>;

		/// Most decided quorums whose dispute window ends are closed in one block (their slashes
		/// applied, a disputed one refunded): more wait for the next block, their exposure still
		/// reserved, so that a burst of decisions never overfills a block's hooks.
		#[pallet::constant]
		type MaxDisputeEndsPerBlock: Get<u32>;

		/// Blocks from a job's inclusion to the draw of its workers (at least 2).
		#[pallet::constant]
		type AssignmentDelay: Get<u32>;

		/// The soonest deadline, in blocks after submission.
		#[pallet::constant]
		type MinDeadline: Get<BlockNumberFor<Self>>;

		/// The latest deadline, in blocks after submission.
		#[pallet::constant]
		type MaxDeadline: Get<BlockNumberFor<Self>>;

		/// Blocks a settled result is kept.
		#[pallet::constant]
		type ResultRetention: Get<BlockNumberFor<Self>>;

		/// Most workers one job may ask for (k).
		#[pallet::constant]
		type MaxWorkersPerJob: Get<u32>;

		/// Largest inline tensor, in bytes of packed data.
		#[pallet::constant]
		type MaxInlineTensorBytes: Get<u32>;

		/// Longest URI of remote inputs and outputs.
		#[pallet::constant]
		type MaxUriLen: Get<u32>;

		/// Most jobs assigned, and most deadlines falling due, in one block.
		#[pallet::constant]
		type MaxJobsPerBlock: Get<u32>;

		/// Most distinct models among the jobs assigned in one block: each needs one candidate
		/// query.
		#[pallet::constant]
		type MaxModelsPerBlock: Get<u32>;

		/// Most answers in one `submit_results` call.
		#[pallet::constant]
		type MaxResultsPerCall: Get<u32>;

		/// Most results pruned in one block: at least `MaxJobsPerBlock`, so that pruning keeps
		/// up with the most jobs a block can take in.
		#[pallet::constant]
		type MaxPrunedPerBlock: Get<u32>;

		/// The pool priority of valid answers: above what ordinary tips buy, so that a block's
		/// author takes answers before anything else and no one can keep them out of blocks by
		/// outbidding them and get honest workers slashed for no-shows. Answers are also in the
		/// operational class, whose share of the block normal transactions cannot fill, however
		/// high their tips. Only assigned workers can send valid answers, one per job, so the
		/// priority cannot be used to crowd others out.
		#[pallet::constant]
		type AnswerPriority: Get<TransactionPriority>;

		/// Milliseconds one off-chain worker run may spend (about half a slot): runs never
		/// overlap, and a run with more work than fits leaves the rest to the next block.
		#[pallet::constant]
		type WorkerRunBudget: Get<u64>;

		/// Milliseconds between blocks, as the chain's consensus aims for. Turns the blocks
		/// left before a job's give-up point into the deadline its executor task is given, so
		/// that the executor drops work whose answer would come too late to count: a flood of
		/// jobs with near deadlines cannot keep a worker's executor busy on answers that can no
		/// longer land while fresher jobs wait.
		#[pallet::constant]
		type ExpectedBlockTime: Get<u64>;

		/// Weights of this pallet's calls and hooks.
		type WeightInfo: WeightInfo;

		/// Lists models and makes workers eligible for the benchmarks.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper;
	}

	/// What the benchmarks need from the runtime.
	#[cfg(feature = "runtime-benchmarks")]
	pub trait BenchmarkHelper {
		/// Lists `model` with `schema`, taking jobs.
		fn list_model(model: ModelHash, schema: veritensor_primitives::IoSchema);
		/// Registers a new worker key (kept in the keystore) for `models` with `capacity`, under
		/// a new operator numbered `index`.
		fn add_worker(models: &[ModelHash], index: u32, capacity: u32) -> WorkerId;
		/// Registers a new worker key for `model` with a capacity of one under a new operator
		/// numbered `index` whose every worker slot is taken (its other workers serve other
		/// models) and whose bond covers them exactly: any slash chills all of them.
		fn add_crowded_worker(model: ModelHash, index: u32) -> WorkerId;
		/// The most models one worker serves.
		fn max_models_per_worker() -> u32;
		/// Lets the workers added so far become eligible (the eligibility delay passes).
		fn make_eligible();
		/// Makes [`Config::BlockAuthor`] name an author for the rest of the block.
		fn set_block_author();
	}

	/// Why this pallet holds funds.
	#[pallet::composite_enum]
	pub enum HoldReason {
		/// A submitter's escrow for an open job.
		#[codec(index = 0)]
		JobEscrow,
		/// A challenger's (or an appellant's) deposit while referees judge a provisional
		/// result.
		#[codec(index = 1)]
		ChallengeDeposit,
	}

	/// The id the next job gets.
	#[pallet::storage]
	pub type NextJobId<T> = StorageValue<_, JobId, ValueQuery>;

	/// Open jobs.
	#[pallet::storage]
	pub type Jobs<T: Config> = StorageMap<_, Twox64Concat, JobId, Job<T>>;

	/// Open jobs' inputs.
	#[pallet::storage]
	pub type Inputs<T: Config> = StorageMap<_, Twox64Concat, JobId, Payload<T>>;

	/// Open jobs whose input is remote. Their answers do not count towards workers' refusal
	/// rates: the input's server, which the submitter runs, could fail one worker alone.
	#[pallet::storage]
	pub type RemoteInputs<T: Config> = StorageMap<_, Twox64Concat, JobId, ()>;

	/// Settled jobs' results, until pruned.
	#[pallet::storage]
	pub type Results<T: Config> = StorageMap<_, Twox64Concat, JobId, JobResult<T>>;

	/// Jobs whose workers are drawn at a block.
	#[pallet::storage]
	pub type AssignmentQueue<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxJobsPerBlock>,
		ValueQuery,
	>;

	/// The distinct models of the jobs assigned at a block, each with how many of those jobs
	/// are for it: a model's slot is freed when its last job there is cancelled.
	#[pallet::storage]
	pub type AssignmentModels<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<(ModelHash, u32), T::MaxModelsPerBlock>,
		ValueQuery,
	>;

	/// Jobs whose deadline has passed at a block (the block after the deadline).
	#[pallet::storage]
	pub type ExpiryQueue<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxJobsPerBlock>,
		ValueQuery,
	>;

	/// The VRF outputs of the last `AssignmentDelay − 1 + MAX_LATER_DRAWS` blocks, oldest
	/// first.
	#[pallet::storage]
	pub type RecentVrf<T: Config> =
		StorageValue<_, BoundedVec<sp_core::H256, MaxRecentVrf>, ValueQuery>;

	/// Open assignments by worker key (for the worker's off-chain worker).
	#[pallet::storage]
	pub type WorkerJobs<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, WorkerId, Twox64Concat, JobId, (), OptionQuery>;

	/// Earnings not yet claimed, by account.
	#[pallet::storage]
	pub type Claimable<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, BalanceOf<T>>;

	/// How many operators had eligible workers for a model, counted once per block by the first
	/// submission for it (eligibility changes only at block boundaries and in hooks).
	#[pallet::storage]
	pub type EligibleOperators<T: Config> =
		StorageMap<_, Blake2_128Concat, ModelHash, (BlockNumberFor<T>, u32)>;

	/// Settled jobs whose results are to be pruned, in the order they were settled (so by
	/// settlement block), each with its settlement block; in chunks by position (see
	/// [`crate::queue`]).
	#[pallet::storage]
	pub type PruneChunks<T: Config> =
		StorageMap<_, Twox64Concat, u64, Chunk<(JobId, BlockNumberFor<T>)>>;

	/// Where [`PruneChunks`]' entries are.
	#[pallet::storage]
	pub type PruneChunkCursor<T> = StorageValue<_, ChunkCursor, ValueQuery>;

	/// Results to prune queued one entry per job, as before [`PruneChunks`]: taken before
	/// those (they are older) until none is left; nothing is added to it any more.
	#[pallet::storage]
	pub type PruneQueue<T: Config> = StorageMap<_, Twox64Concat, u64, (JobId, BlockNumberFor<T>)>;

	/// The positions in [`PruneQueue`] still in use: from the first (inclusive) to the next
	/// free one (exclusive).
	#[pallet::storage]
	pub type PruneQueueRange<T> = StorageValue<_, (u64, u64), ValueQuery>;

	/// Open quorum jobs' commit and reveal progress.
	#[pallet::storage]
	pub type Quorums<T: Config> = StorageMap<_, Twox64Concat, JobId, Quorum<T>>;

	/// Revealed findings of open quorum jobs, by job and member (its place in the draw).
	#[pallet::storage]
	pub type Reveals<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Twox64Concat, u32, RevealedFinding<T>>;

	/// How decided quorums were decided, kept as long as results.
	#[pallet::storage]
	pub type Decisions<T: Config> = StorageMap<_, Twox64Concat, JobId, QuorumDecision<T>>;

	/// Quorum jobs whose commit window ends at a block: at most the jobs drawn in one block
	/// and the jobs whose no-shows were replaced in one block.
	#[pallet::storage]
	pub type CommitQueue<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, CommitEndsPerBlock<T>>,
		ValueQuery,
	>;

	/// Decided quorums whose dispute window is open (slashes to apply, or a dispute to
	/// refund), in the order they were decided (so by the window's end); keyed by position.
	#[pallet::storage]
	pub type DisputeQueue<T: Config> = StorageMap<_, Twox64Concat, u64, JobId>;

	/// The positions in [`DisputeQueue`] still in use: from the first (inclusive) to the next
	/// free one (exclusive).
	#[pallet::storage]
	pub type DisputeQueueRange<T> = StorageValue<_, (u64, u64), ValueQuery>;

	/// Open audited jobs' checks.
	#[pallet::storage]
	pub type Audits<T: Config> = StorageMap<_, Twox64Concat, JobId, Audit<T>>;

	/// Jobs whose check is drawn at a block: an audited job's audit decided, or a referee
	/// quorum drawn. Both take randomness that did not exist when the job got there.
	#[pallet::storage]
	pub type CheckQueue<T: Config> = StorageMap<
		_,
		Twox64Concat,
		BlockNumberFor<T>,
		BoundedVec<JobId, T::MaxJobsPerBlock>,
		ValueQuery,
	>;

	/// Jobs in the hands of a referee quorum, from the escalation to the referees' decision.
	#[pallet::storage]
	pub type Referrals<T: Config> = StorageMap<_, Twox64Concat, JobId, Referral>;

	/// The findings a referee quorum judges, by job and party: each party's worker key and what
	/// it revealed.
	#[pallet::storage]
	pub type Parties<T: Config> =
		StorageDoubleMap<_, Twox64Concat, JobId, Twox64Concat, u32, (WorkerId, RevealedFinding<T>)>;

	/// Results settled on one worker's word and still open to challenge (see
	/// [`Provisional`]): their cost waits in the pot, their input is kept.
	#[pallet::storage]
	pub type Provisionals<T: Config> = StorageMap<_, Twox64Concat, JobId, Provisional<T>>;

	/// Provisional results in the order they were settled (so by the end of their dispute
	/// window), each with that end; in chunks by position (see [`crate::queue`]).
	#[pallet::storage]
	pub type FinalizeChunks<T: Config> =
		StorageMap<_, Twox64Concat, u64, Chunk<(JobId, BlockNumberFor<T>)>>;

	/// Where [`FinalizeChunks`]' entries are.
	#[pallet::storage]
	pub type FinalizeChunkCursor<T> = StorageValue<_, ChunkCursor, ValueQuery>;

	/// Provisional results queued one entry per job, as before [`FinalizeChunks`]: taken
	/// before those (they are older) until none is left; nothing is added to it any more.
	#[pallet::storage]
	pub type FinalizeQueue<T: Config> =
		StorageMap<_, Twox64Concat, u64, (JobId, BlockNumberFor<T>)>;

	/// The positions in [`FinalizeQueue`] still in use: from the first (inclusive) to the next
	/// free one (exclusive).
	#[pallet::storage]
	pub type FinalizeQueueRange<T> = StorageValue<_, (u64, u64), ValueQuery>;

	/// Quorums whose slashes were appealed, with the appellant: their wrong members' slashes
	/// are the referees' to apply. Kept as long as the quorum's decision.
	#[pallet::storage]
	pub type Appeals<T: Config> = StorageMap<_, Twox64Concat, JobId, WorkerId>;

	/// Results a referee quorum or the runtime overturned, with the worker whose output they
	/// replaced; kept as long as the results. The runtime's own run (of a model it runs itself)
	/// keeps the replaced worker as the result's `worker` (with its signature, which does not
	/// match the new output), while referees put one of theirs there, never the worker judged:
	/// that tells the two apart.
	#[pallet::storage]
	pub type Overturned<T: Config> = StorageMap<_, Twox64Concat, JobId, WorkerId>;

	/// Events of the job market.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A job was submitted and its escrow held; workers are drawn at `assign_at`. `deadline`
		/// is the block the job must be answered by: the one asked for, or up to
		/// `MaxLaterDeadline` blocks later when that block's expiries were full.
		Submitted {
			job: JobId,
			submitter: T::AccountId,
			model: ModelHash,
			k: u32,
			cost: BalanceOf<T>,
			escrow: BalanceOf<T>,
			assign_at: BlockNumberFor<T>,
			deadline: BlockNumberFor<T>,
		},
		/// Workers were drawn for a job.
		Assigned { job: JobId, workers: alloc::vec::Vec<WorkerId>, deadline: BlockNumberFor<T> },
		/// A job was settled: `worker`'s result accepted, `cost` paid, the rest refunded. The
		/// output itself is in `Results` (and the runtime API's `result`) for the retention
		/// period; `output_hash` is its canonical hash. A result on one worker's word is
		/// provisional until `provisional_until`: open to challenge, its earnings held.
		Settled {
			job: JobId,
			worker: WorkerId,
			output_hash: sp_core::H256,
			single_worker: bool,
			cost: BalanceOf<T>,
			refunded: BalanceOf<T>,
			provisional_until: Option<BlockNumberFor<T>>,
		},
		/// A provisional result became final: its earnings accrued, its input was dropped.
		Finalized { job: JobId, worker: WorkerId },
		/// `challenger` challenged `job`'s provisional result, claiming the output whose hash is
		/// `claimed`, with `deposit` held: referees are drawn at `draw_at`.
		Challenged {
			job: JobId,
			challenger: T::AccountId,
			deposit: BalanceOf<T>,
			claimed: sp_core::H256,
			draw_at: BlockNumberFor<T>,
		},
		/// A challenge ended: `won` if the referees overturned the result. `returned` of the
		/// deposit went back to the challenger: when won, all of it that the slash's bounty did
		/// not have to make up of the referees' pay, and `reward`, what the bounty left after
		/// paying them, is claimable by the challenger; when lost, nothing (it paid the referees
		/// and the audit pool); when no referee quorum decided, all but the minimum fee.
		ChallengeEnded {
			job: JobId,
			challenger: T::AccountId,
			won: bool,
			returned: BalanceOf<T>,
			reward: BalanceOf<T>,
		},
		/// `operator` appealed its `worker`'s slash in `job`'s quorum, with `deposit` held:
		/// referees are drawn at `draw_at`.
		Appealed {
			job: JobId,
			worker: WorkerId,
			operator: T::AccountId,
			deposit: BalanceOf<T>,
			draw_at: BlockNumberFor<T>,
		},
		/// An appeal ended: `won` if the referees cleared `worker`. `returned` of the deposit
		/// went back to `operator` and `reward` is claimable by it, as for a challenge
		/// ([`Event::ChallengeEnded`]); when no referee quorum decided (`won` false), nobody was
		/// slashed and all but the minimum fee came back.
		AppealEnded {
			job: JobId,
			worker: WorkerId,
			operator: T::AccountId,
			won: bool,
			returned: BalanceOf<T>,
			reward: BalanceOf<T>,
		},
		/// Referees overturned `worker`'s provisional result of `job`: the stored result is now
		/// the referees', `worker` was slashed and the submitter got `refunded` back, all it
		/// paid.
		Overturned { job: JobId, worker: WorkerId, refunded: BalanceOf<T> },
		/// A job ended without a result; `amount` of its escrow was returned and `kept` went to
		/// the treasury (the minimum fee for a cancelled job or one its worker cannot execute,
		/// nothing otherwise).
		Refunded {
			job: JobId,
			submitter: T::AccountId,
			amount: BalanceOf<T>,
			kept: BalanceOf<T>,
			reason: Refund,
		},
		/// Earnings were paid out.
		Claimed { who: T::AccountId, amount: BalanceOf<T> },
		/// A quorum member committed to its finding.
		Committed { job: JobId, worker: WorkerId },
		/// A quorum's reveals opened: every member committed, or the commit window ended with
		/// `committed` of them.
		RevealsOpened { job: JobId, committed: u32 },
		/// A quorum member revealed its finding, which matched its commitment.
		Revealed { job: JobId, worker: WorkerId },
		/// Quorum members that had not committed by the end of the commit window were slashed
		/// as no-shows and replaced by fresh draws, who commit until `commit_end`.
		NoShowsReplaced {
			job: JobId,
			replaced: alloc::vec::Vec<WorkerId>,
			by: alloc::vec::Vec<WorkerId>,
			commit_end: BlockNumberFor<T>,
		},
		/// A quorum was decided: `canonical` names the member whose answer a strict majority
		/// agreed with (none: a dispute); each member's verdict; slashes (`Wrong`,
		/// `Unrevealed`) are applied at `dispute_end`.
		QuorumDecided {
			job: JobId,
			canonical: Option<WorkerId>,
			verdicts: alloc::vec::Vec<(WorkerId, veritensor_primitives::quorum::Verdict)>,
			dispute_end: BlockNumberFor<T>,
		},
		/// A quorum found no strict majority: the job is refunded, less the minimum fee, at
		/// `until`.
		Disputed { job: JobId, until: BlockNumberFor<T> },
		/// A quorum's dispute window ended and its slashes were applied: `slashed` lists each
		/// slashed member with what was taken.
		QuorumSlashesApplied { job: JobId, slashed: alloc::vec::Vec<(WorkerId, BalanceOf<T>)> },
		/// An audited job's audit was decided: `auditor` runs the job too, blind (none: not
		/// audited, or `audited` but no worker of another operator was free).
		AuditDecided { job: JobId, audited: bool, auditor: Option<WorkerId> },
		/// An audit ended without contradiction: the auditor's answer was consistent with the
		/// worker's output (`checked`), or it checked nothing (no reveal, or its own failure).
		AuditEnded { job: JobId, auditor: WorkerId, checked: bool },
		/// The parties of `job` contradict each other: a referee quorum is drawn at `draw_at`.
		Escalated {
			job: JobId,
			cause: RefereeCause,
			parties: alloc::vec::Vec<WorkerId>,
			draw_at: BlockNumberFor<T>,
		},
		/// Three referees of operators with no part in `job` were drawn; they commit blind,
		/// then reveal, by `deadline`.
		RefereesDrawn {
			job: JobId,
			referees: alloc::vec::Vec<WorkerId>,
			deadline: BlockNumberFor<T>,
		},
		/// A referee quorum decided `job`: `slashed` lists each slashed party or referee with
		/// what was taken.
		Refereed {
			job: JobId,
			outcome: RefereeOutcome,
			slashed: alloc::vec::Vec<(WorkerId, BalanceOf<T>)>,
		},
		/// An answer of `worker` to `job` was skipped, for `reason`: it went stale between the
		/// pool and the block (the job ended or its deadline passed), or it failed to apply.
		/// The batch's other answers stand.
		AnswerSkipped { job: JobId, worker: WorkerId, reason: DispatchError },
		/// A dispute of `job` was settled by the runtime's own run of its model (one it runs
		/// itself) on the job's input, at `challenger`'s request (a challenger, an appellant,
		/// or the caller of `settle_by_execution`): the run's output has the hash
		/// `output_hash`; `upheld` if the result under dispute stands (a challenged worker's
		/// output, a quorum's canonical output, or an escalation where nobody was wrong).
		Recomputed {
			job: JobId,
			challenger: T::AccountId,
			output_hash: sp_core::H256,
			upheld: bool,
		},
	}

	/// Errors of the job market.
	#[pallet::error]
	pub enum Error<T> {
		/// The model is unknown, not listed, or deprecated.
		ModelNotUsable,
		/// The verification terms ask for a replica count other than 1, 3 or 5, or above
		/// `MaxWorkersPerJob`, or for an audit of more than one worker.
		UnsupportedK,
		/// A quorum or an audit compares outputs on chain: the model's outputs must all fit
		/// inline.
		QuorumNeedsInlineOutputs,
		/// A quorum job is answered by a commitment, then a reveal, not directly.
		MustCommit,
		/// Only quorum jobs take commitments and reveals.
		NotQuorumJob,
		/// This member has committed already.
		AlreadyCommitted,
		/// The quorum takes no more commitments: every member committed, or the commit window
		/// ended.
		CommitWindowClosed,
		/// Reveals are not open yet: some member may still commit.
		RevealsNotOpen,
		/// This member has no commitment to reveal.
		NotCommitted,
		/// The revealed finding and salt do not hash to the member's commitment.
		RevealMismatch,
		/// The input does not have the model's number of input tensors.
		InputCountMismatch,
		/// An input tensor's element type differs from the schema's.
		InputTypeMismatch,
		/// An input tensor's shape differs from the schema's.
		InputShapeMismatch,
		/// An input tensor's fraction bits differ from the schema's.
		InputFracBitsMismatch,
		/// An input tensor's data does not match its shape and type, or a boolean is not 0/1.
		InputMalformed,
		/// A remote payload has an empty URI.
		EmptyUri,
		/// `max_fee` does not cover the quote.
		FeeTooLow,
		/// The submitter cannot cover `max_fee`.
		InsufficientBalance,
		/// The deadline is sooner than `MinDeadline` (or than the assignment).
		DeadlineTooSoon,
		/// The deadline is later than `MaxDeadline`.
		DeadlineTooLate,
		/// The draws the job could go to are full (of jobs, or of distinct models): its usual
		/// one and, as far as its deadline leaves room, the next `MAX_LATER_DRAWS`; submit in
		/// a later block, or with a later deadline.
		AssignmentQueueFull,
		/// The block after the deadline and the next `MaxLaterDeadline` blocks each have as many
		/// new jobs' expiries queued as they take (three quarters of `MaxJobsPerBlock`; the rest
		/// is kept for checks); choose another deadline.
		ExpiryQueueFull,
		/// Fewer than k operators have eligible workers for the model (five for an audited job:
		/// its worker, its auditor and three referees).
		NotEnoughWorkers,
		/// No open job has this id.
		UnknownJob,
		/// Only the submitter may do this.
		NotSubmitter,
		/// The job's workers have been drawn already.
		AlreadyAssigned,
		/// The job's workers have not been drawn yet.
		NotAssigned,
		/// The worker is not assigned to this job.
		NotAssignedWorker,
		/// The worker key has no account: it is not a registered worker.
		NotWorkerAccount,
		/// The receipt signature is not the worker key's over this job's receipt.
		BadReceipt,
		/// The output does not have the model's number of output tensors.
		OutputCountMismatch,
		/// An output tensor's type, shape or fraction bits differ from the schema's, or its
		/// data is malformed.
		OutputMismatch,
		/// The call carries no answer.
		NoAnswers,
		/// The call answers one job twice.
		DuplicateAnswer,
		/// Nothing to claim.
		NothingToClaim,
		/// The pallet's account cannot pay the claim now (it would fall below the existential
		/// deposit), or the beneficiary cannot receive it.
		ClaimFailed,
		/// A counter overflowed.
		Overflow,
		/// This worker has answered the job already.
		AlreadyAnswered,
		/// The job's deadline has passed.
		AnswerTooLate,
		/// A job may be cancelled only in the block it was submitted in: later, its draw's
		/// randomness is being revealed.
		CancelTooLate,
		/// The output is remote although the model's outputs fit inline: outputs travel inline
		/// whenever they can, so that the chain checks them against the schema.
		OutputMustBeInline,
		/// The job has no provisional result: it is unknown, still open, final already, or was
		/// settled by a quorum or referees.
		NotProvisional,
		/// The result's dispute window has ended.
		ChallengeWindowClosed,
		/// The result is being challenged already (one challenge per result).
		AlreadyChallenged,
		/// The result's output is remote: referees compare outputs on chain, inline only.
		ChallengeNeedsInlineOutput,
		/// The claimed output is the result's own: there is nothing to challenge.
		ClaimMatchesResult,
		/// The challenger cannot cover the deposit.
		InsufficientDeposit,
		/// No block in reach has room to draw the referees; challenge or appeal in a later
		/// block.
		RefereeQueueFull,
		/// A quorum's result is contested by the members it slashed, through `appeal`, not by
		/// challenge.
		QuorumResultNotChallengeable,
		/// The worker was not slashed for a wrong output by the job's quorum (or the job has no
		/// quorum decision, or the worker answered "cannot execute"): there is nothing to
		/// appeal.
		NotAppealable,
		/// Only the worker's operator may appeal its slash.
		NotWorkersOperator,
		/// The quorum's dispute window has ended (its slashes are applied): too late to appeal.
		AppealWindowClosed,
		/// The quorum's slashes are under appeal already (one appeal judges every wrong member).
		AlreadyAppealed,
		/// The job is not a contradicted audit or a split quorum awaiting its referees.
		NotEscalated,
		/// The runtime does not run this job's model itself, its input is remote, or the run
		/// failed: the referees judge it.
		NotRunByTheRuntime,
	}

	/// Genesis: the pallet's account is endowed with the existential deposit, so that earnings
	/// of any size can accrue to it.
	#[pallet::genesis_config]
	#[derive(frame_support::DefaultNoBound)]
	pub struct GenesisConfig<T: Config> {
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			crate::asset::endow_pot::<T>();
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			Self::on_block(now)
		}

		/// Runs the jobs assigned to the worker keys in this node's keystore and answers them
		/// (see [`crate::offchain`]).
		fn offchain_worker(now: BlockNumberFor<T>) {
			crate::offchain::run::<T>(now);
		}

		fn integrity_test() {
			assert!(T::AssignmentDelay::get() >= 2, "the draw needs at least one block's VRF");
			assert!(
				Pallet::<T>::vrf_kept() <= <MaxRecentVrf as Get<u32>>::get(),
				"RecentVrf keeps too few outputs for the assignment delay and the later draws"
			);
			// The draw, then two full attempts, then the give-up margin: a job with the soonest
			// deadline survives one transient failure.
			let attempts = T::AssignmentDelay::get()
				.saturating_add(crate::offchain::GIVE_UP_MARGIN)
				.saturating_add(1);
			assert!(
				T::MinDeadline::get() > attempts.into(),
				"the soonest deadline must leave two attempts after the draw and the give-up margin"
			);
			assert!(
				T::Workers::eligibility_delay() >= T::AssignmentDelay::get(),
				"a worker must not become eligible between a job's submission and its draw"
			);
			assert!(T::MinDeadline::get() <= T::MaxDeadline::get(), "deadline bounds reversed");
			assert!(
				T::NoShowSlashFloor::get() <= T::Workers::max_exposure(),
				"a no-show cannot be slashed for more than an assignment's exposure"
			);
			assert!(T::MaxJobsPerBlock::get() > 0 && T::MaxResultsPerCall::get() > 0);
			assert!(
				T::MaxPrunedPerBlock::get() >= T::MaxJobsPerBlock::get(),
				"pruning must keep up with the most jobs a block takes in"
			);
			assert!(T::WorkerRunBudget::get() > 0, "an off-chain worker run needs time");
			assert!(
				T::ExpectedBlockTime::get() > T::WorkerRunBudget::get(),
				"an off-chain worker run must end within a block"
			);
			// As for a single worker's deadline: two attempts at the job before the give-up
			// margin, so that a member that cannot run the job abstains instead of failing to
			// commit.
			assert!(
				T::CommitWindow::get() > crate::offchain::GIVE_UP_MARGIN.saturating_add(2),
				"the commit window must leave two attempts and the give-up margin"
			);
			assert!(
				T::RevealWindow::get() >= 2,
				"a reveal needs a block to be seen and one to land"
			);
			let quorum = T::AssignmentDelay::get()
				.saturating_add(T::CommitWindow::get().saturating_mul(2))
				.saturating_add(T::RevealWindow::get())
				.saturating_add(crate::audit::decision_delay::<T>());
			assert!(
				T::MinQuorumDeadline::get() >= quorum.into(),
				"a quorum's soonest deadline must leave the draw, two commit windows, the reveal \
				 window and an audit's decision"
			);
			assert!(T::MinQuorumDeadline::get() <= T::MaxDeadline::get());
			let judged: BlockNumberFor<T> = crate::challenge::longest_judgement::<T>().into();
			assert!(
				T::ResultRetention::get()
					> sp_runtime::traits::Saturating::saturating_add(
						T::DisputeWindow::get(),
						judged
					),
				"a decision is read when its dispute window ends, and a result overturned by a \
				 challenge judged after it: both must outlive them"
			);
			assert!(
				T::MaxWorkersPerJob::get() >= REFEREES,
				"a job's members hold an audited worker and its auditor, or three referees"
			);
			assert!(T::MaxDisputeEndsPerBlock::get() > 0, "disputes must end");
			assert!(
				T::DisputeWindow::get() >= 20u32.into(),
				"a provisional result stays open to challenge for at least 20 blocks"
			);
			// A challenge made in the window's last block is judged by referees drawn up to a
			// slide after the decision delay, within two commit windows and a reveal window;
			// the latest deadline is the longest asked for, moved a slide later when its block's
			// expiries are full. The worker's bond must still be slashable then, so no unbonding
			// may complete.
			let slashable: BlockNumberFor<T> = T::Workers::slashable_window().into();
			let latest_deadline = sp_runtime::traits::Saturating::saturating_add(
				T::MaxDeadline::get(),
				crate::audit::CHECK_SLIDE.into(),
			);
			assert!(
				sp_runtime::traits::Saturating::saturating_add(
					sp_runtime::traits::Saturating::saturating_add(
						latest_deadline,
						T::DisputeWindow::get()
					),
					judged
				) <= slashable,
				"a challenged result must be judged while its worker's bond is still slashable"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::extra_constants]
	impl<T: Config> Pallet<T> {
		/// How many blocks after its usual draw a job may be drawn when that draw is full, as
		/// far as its deadline exceeds the least allowed for its kind.
		#[pallet::constant_name(MaxLaterDraws)]
		fn max_later_draws() -> u32 {
			MAX_LATER_DRAWS
		}

		/// How many blocks later than asked a job's deadline may be, when the blocks after the
		/// asked one already have as many expiries of new jobs queued as they take (three
		/// quarters of `MaxJobsPerBlock`). Never earlier: its workers keep at least the time
		/// asked for.
		#[pallet::constant_name(MaxLaterDeadline)]
		fn max_later_deadline() -> u32 {
			crate::audit::CHECK_SLIDE
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Submits a job for `model` with `input`, verified as `verification` says (one worker,
		/// or a quorum of 3 or 5 that commit, reveal and are compared), paying at most `max_fee`
		/// (held in escrow until the job ends), answered within `deadline` blocks (or a few
		/// more when too many jobs end in that block: the `Submitted` event says which block).
		///
		/// Origin: any signed account.
		///
		/// Fails with `ModelNotUsable`, `UnsupportedK`, `QuorumNeedsInlineOutputs`, an `Input*`
		/// error or `EmptyUri` for a bad input, `DeadlineTooSoon` (below `MinDeadline`, or
		/// `MinQuorumDeadline` for a quorum)/`DeadlineTooLate`, `FeeTooLow` if `max_fee` is below the
		/// quote, `NotEnoughWorkers`, `AssignmentQueueFull`/`ExpiryQueueFull`, or
		/// `InsufficientBalance`.
		#[pallet::call_index(0)]
		#[pallet::weight(
			T::WeightInfo::submit(
				Pallet::<T>::payload_bytes(input),
				MAX_LATER_DRAWS,
				crate::audit::CHECK_SLIDE,
			)
			.saturating_add(T::WeightInfo::count_eligible())
		)]
		pub fn submit(
			origin: OriginFor<T>,
			model: ModelHash,
			input: Payload<T>,
			verification: VerificationTerms,
			max_fee: BalanceOf<T>,
			deadline: BlockNumberFor<T>,
		) -> DispatchResultWithPostInfo {
			let submitter = ensure_signed(origin)?;
			let bytes = Self::payload_bytes(&input);
			let cost = Self::do_submit(submitter, model, input, verification, max_fee, deadline)?;
			let submitted = T::WeightInfo::submit(bytes, cost.later_draws, cost.later_deadline);
			let used = if cost.counted {
				submitted.saturating_add(T::WeightInfo::count_eligible())
			} else {
				submitted
			};
			Ok(Some(used).into())
		}

		/// Cancels a job in the block it was submitted in (a later transaction of the same
		/// block, or a batch, can revoke it). The minimum fee goes to the treasury, the rest of
		/// the escrow comes back, and the job's place in its draw is freed.
		///
		/// Later blocks carry the VRF outputs its draw is made from, so cancelling then would let
		/// an author drop jobs whose draw it dislikes; and a free cancel would let anyone fill a
		/// block's draw for nothing.
		///
		/// Origin: the job's submitter.
		///
		/// Fails with `UnknownJob`, `NotSubmitter`, `CancelTooLate` after the submission's block,
		/// or (defensively) `AlreadyAssigned`.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::cancel())]
		pub fn cancel(origin: OriginFor<T>, job: JobId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let record = Jobs::<T>::get(job).ok_or(Error::<T>::UnknownJob)?;
			ensure!(record.submitter == who, Error::<T>::NotSubmitter);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(record.submitted_at == now, Error::<T>::CancelTooLate);
			let JobState::Queued { assign_at } = record.state else {
				return Err(Error::<T>::AlreadyAssigned.into());
			};
			Self::unqueue(job, assign_at, &record);
			let kept = Self::minimum_charge(&record);
			Self::refund_keeping(job, record, Refund::Cancelled, kept)
		}

		/// Answers jobs assigned to `worker`: for each, the output with the worker key's receipt
		/// signature, or "cannot execute". `signature` is the worker key's over the batch
		/// ([`answers::answers_payload`]). Accepted outputs settle their jobs at once.
		///
		/// Origin: a general transaction this pallet authorizes; no account, nonce or fee. The
		/// pool takes it only if every answer is good: for an open job assigned to `worker`
		/// and not answered yet, before its deadline, with an output that fits the schema and a
		/// valid receipt (see [`answers`]). In the block the authorization runs again, just
		/// before the call: an answer that went stale meanwhile is skipped with an
		/// `AnswerSkipped` event, the rest stand, and the weight charged counts only accepted
		/// answers.
		///
		/// The worker's earnings accrue to its operator's payee (the operator unless it set
		/// another), not to the worker key.
		///
		/// Fails, answering nothing, with `BadOrigin` (not an authorized transaction: sent
		/// from a signed account it fails, and its sender pays the fee) or `NotWorkerAccount`
		/// (the key is not a registered worker).
		#[pallet::call_index(2)]
		#[pallet::weight((Pallet::<T>::answers_weight(answers), DispatchClass::Operational))]
		#[pallet::authorize(Pallet::<T>::authorize_answers)]
		#[pallet::weight_of_authorize(Pallet::<T>::authorize_weight(answers))]
		pub fn submit_results(
			origin: OriginFor<T>,
			worker: WorkerId,
			answers: AnswersOf<T>,
			signature: WorkerSignature,
		) -> DispatchResultWithPostInfo {
			ensure_authorized(origin)?;
			// The batch signature and the receipts were checked by the authorization of this
			// very call, in this transaction, just now.
			let _ = signature;
			let applied = Self::apply_answers(&worker, answers.into_inner())?;
			if applied.accepted == 0 && applied.commits == 0 && applied.reveals == 0 {
				// Every answer went stale on the way: the declared weight, which covers their
				// checks.
				return Ok(().into());
			}
			let used = Self::answer_kinds_weight(
				applied.accepted,
				applied.commits,
				applied.reveals,
				applied.largest,
			)
			.saturating_add(applied.decisions);
			Ok(Some(used).into())
		}

		/// Challenges `job`'s provisional result (one worker's word), claiming that the right
		/// output is the one whose canonical hash is `claimed`.
		///
		/// On a model the runtime runs itself (listed as executable, with the job's input
		/// inline), the challenge is settled in this call: the runtime runs the model on the
		/// job's stored input. If the worker's output differs, the worker is slashed (the
		/// challenger gets the bounty), the submitter is refunded in full and gets the runtime's
		/// output, and the call is free. If it is the same, the result is final at once, the
		/// challenger pays the call's weight (the run included) and loses the minimum fee.
		///
		/// Otherwise three referees of operators with no part in the job (nor the
		/// challenger's) run it again, blind, and their majority judges the worker's output
		/// under the model's slash rule. The deposit, held until the referees decide, is three
		/// workers' prices plus the minimum fee: what the resolution costs. If the referees
		/// find the output wrong, the worker is slashed (the challenger gets the bounty), the
		/// submitter is refunded in full and gets the referees' output, and the challenger gets
		/// its deposit back. If they uphold it, the deposit pays the referees and the rest goes
		/// to the audit pool. If they cannot decide, the result stands and the deposit comes
		/// back less the minimum fee.
		///
		/// Origin: any signed account.
		///
		/// Fails with `NotProvisional`, `QuorumResultNotChallengeable`,
		/// `ChallengeWindowClosed`, `AlreadyChallenged`, `ChallengeNeedsInlineOutput`,
		/// `ClaimMatchesResult`, `InsufficientDeposit`, or `RefereeQueueFull`.
		#[pallet::call_index(4)]
		#[pallet::weight(Pallet::<T>::challenge_weight_bound())]
		pub fn challenge(
			origin: OriginFor<T>,
			job: JobId,
			claimed: sp_core::H256,
		) -> DispatchResultWithPostInfo {
			let challenger = ensure_signed(origin)?;
			Self::do_challenge(challenger, job, claimed)
		}

		/// Appeals `worker`'s slash for a wrong result in `job`'s quorum, before the quorum's
		/// dispute window ends (the slash waits for the referees). Three referees of operators
		/// with no part in the job run it again, blind, and their majority judges the canonical
		/// output and every member the quorum found wrong, under the model's slash rule.
		///
		/// The deposit is a challenge's. A member the referees clear is not slashed, one they
		/// contradict is; if they contradict the canonical output, the quorum's majority is
		/// slashed, the submitter refunded in full and given the referees' output. The slashes'
		/// bounties pay the referees first, the deposit what they do not cover; if `worker` is
		/// cleared, its operator gets the rest of the deposit back and the rest of the bounties,
		/// otherwise the rest of the deposit goes to the audit pool. If no referee quorum
		/// decides, nobody is slashed, the result stands and the deposit comes back less the
		/// minimum fee.
		///
		/// On a model the runtime runs itself (with the job's input inline), the appeal is
		/// settled in this call instead, the runtime's run on the job's input in the referees'
		/// place, and only the minimum fee is held: returned and the call free if `worker` is
		/// cleared, lost to the audit pool (and the call's weight paid) otherwise.
		///
		/// Origin: signed by `worker`'s operator.
		///
		/// Fails with `NotAppealable`, `NotWorkersOperator`, `AppealWindowClosed`,
		/// `AlreadyAppealed`, `InsufficientDeposit`, or `RefereeQueueFull`.
		#[pallet::call_index(5)]
		#[pallet::weight(Pallet::<T>::appeal_weight_bound())]
		pub fn appeal(
			origin: OriginFor<T>,
			job: JobId,
			worker: WorkerId,
		) -> DispatchResultWithPostInfo {
			let operator = ensure_signed(origin)?;
			Self::do_appeal(operator, job, worker)
		}

		/// Pays `beneficiary` its earnings from settled jobs.
		///
		/// Origin: any signed account (the funds always go to `beneficiary`).
		///
		/// Fails with `NothingToClaim`, or `ClaimFailed` if the transfer cannot be made (for
		/// example, a new account below the existential deposit); the earnings then stay.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::claim())]
		pub fn claim(origin: OriginFor<T>, beneficiary: T::AccountId) -> DispatchResult {
			ensure_signed(origin)?;
			Self::do_claim(beneficiary)
		}

		/// Settles `job`'s contradicted audit or split quorum, escalated to referees not yet
		/// drawn, by the runtime's own run of the model (one it runs itself) on the job's input:
		/// each party whose output differs is slashed, the job settles on a party's output
		/// that equals the runtime's, else the submitter gets the runtime's output and pays
		/// nothing. Free when it slashes a party; otherwise the caller pays its weight, the run
		/// included.
		///
		/// Origin: any signed account.
		///
		/// Fails with `UnknownJob`, `NotEscalated` (the job is not a contradicted audit or a
		/// split quorum awaiting its referees), or `NotRunByTheRuntime` (the runtime does not
		/// run the model, the input is remote, or the run failed: the referees will judge).
		#[pallet::call_index(6)]
		#[pallet::weight(Pallet::<T>::escalation_settlement_bound())]
		pub fn settle_by_execution(origin: OriginFor<T>, job: JobId) -> DispatchResultWithPostInfo {
			let caller = ensure_signed(origin)?;
			Self::do_settle_by_execution(caller, job)
		}
	}
}
