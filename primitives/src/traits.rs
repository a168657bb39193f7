//! The interfaces pallets use to reach each other.
//!
//! The job market knows the model registry only through [`ModelRegistry`] and the worker pallet
//! only through [`WorkerStaking`]; both are mocked in its unit tests.

use crate::{tensor::IoSchema, ComparisonRule, ModelHash, WorkerId};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::Get;
use sp_runtime::{BoundedVec, DispatchResult};
use sp_runtime::{DispatchError, Perbill, Weight};

/// What the job market needs to know about a model to take a job for it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct ModelTerms<AccountId, Balance> {
	/// The model's owner, who earns the royalty.
	pub owner: AccountId,
	/// Price paid to each assigned worker per job.
	pub price_per_worker: Balance,
	/// Royalty paid to the owner per job.
	pub owner_royalty: Balance,
	/// Input and output tensors.
	pub schema: IoSchema,
	/// How outputs are compared.
	pub comparison: ComparisonRule,
}

/// The model registry, as the job market sees it.
pub trait ModelRegistry<AccountId, Balance> {
	/// The terms of `model` if new jobs may be submitted for it (listed, not deprecated).
	fn terms_for_new_job(model: &ModelHash) -> Option<ModelTerms<AccountId, Balance>>;

	/// The schema of any registered model, whatever its status: open jobs of a deprecated or
	/// delisted model still need it to check their results.
	fn schema(model: &ModelHash) -> Option<IoSchema>;

	/// Notes one more open job for `model`, so that it cannot be removed under the job.
	fn acquire(model: &ModelHash) -> DispatchResult;

	/// Notes that an open job for `model` has ended.
	fn release(model: &ModelHash);

	/// How many open jobs the registry counts for `model`; `None` for an unknown model.
	fn open_jobs(model: &ModelHash) -> Option<u32>;

	/// How workers' outputs for `model` are compared, and so the engine and version an exact
	/// rule pins; `None` for an unknown model. Read by off-chain workers, never in a call.
	fn comparison(model: &ModelHash) -> Option<crate::ComparisonRule>;

	/// Where workers fetch the model's file from (UTF-8 URIs, tried in order); empty for an
	/// unknown model. Read by off-chain workers, never in a call.
	fn uris(model: &ModelHash) -> alloc::vec::Vec<alloc::vec::Vec<u8>>;

	/// The weight of one run of `model` by the runtime itself, if the runtime runs it (a model
	/// listed as executable, within today's bounds); `None` otherwise. Disputes on such a
	/// model are settled by [`Self::execute`] instead of by referees.
	fn execution_weight(_model: &ModelHash) -> Option<Weight> {
		None
	}

	/// The most weight [`Self::execution_weight`] can return: what a call that may re-execute
	/// declares before it knows the model.
	fn max_execution_weight() -> Weight {
		// A registry that runs no model adds nothing to any call's weight.
		Weight::zero()
	}

	/// Runs `model` on `inputs` in the runtime: the outputs every honest worker computes, since
	/// an executable model's exact rule pins the interpreter the runtime runs.
	fn execute<B: Get<u32>>(
		_model: &ModelHash,
		_inputs: &[crate::Tensor<B>],
	) -> Result<alloc::vec::Vec<crate::Tensor<B>>, ExecutionError> {
		Err(ExecutionError::NotExecutable)
	}
}

/// Why a run of a model in the runtime gave no outputs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ExecutionError {
	/// The model is not listed as executable (or its artifact is gone).
	NotExecutable,
	/// The inputs do not match the model's schema.
	BadInput,
	/// The run failed on these inputs (an integer division by zero): the same on any machine.
	Failed,
	/// The run's cost is above what the runtime now allows (the bound was lowered after
	/// listing): the dispute needs another referee.
	TooCostly,
}

/// Why a worker is slashed.
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
pub enum SlashReason {
	/// No result before the job's deadline.
	NoShow,
	/// A result the quorum or a spot check disagreed with beyond the slash tolerance.
	WrongResult,
	/// A commitment without its reveal.
	CommitWithoutReveal,
	/// Two different signed results for one job.
	Equivocation,
}

/// How much to slash.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub enum SlashAmount<Balance> {
	/// A fixed amount, capped at what the operator has at stake.
	Fixed(Balance),
	/// A fraction of the operator's stake (active bond plus unbonding funds).
	Fraction(Perbill),
}

/// How an assignment ended, for the worker's public counters.
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
pub enum Outcome {
	/// The worker delivered a result that was accepted.
	Completed,
	/// The worker answered that it cannot execute the job.
	Failed,
	/// The worker did not answer before the deadline.
	Missed,
	/// The assignment ended without a verdict on the worker (for instance, the job was dropped).
	Voided,
}

/// A worker that may take a job, as the job market's assignment draw sees it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, MaxEncodedLen, TypeInfo)]
pub struct Candidate<AccountId, Balance> {
	/// The worker key.
	pub worker: WorkerId,
	/// The operator whose bond backs the worker.
	pub operator: AccountId,
	/// The operator's stake. The draw picks an operator with probability proportional to it,
	/// then one of that operator's candidates for the model, so the stake is split across them.
	pub stake: Balance,
	/// How many more assignments the worker can take now.
	pub free_slots: u32,
}

/// The worker staking pallet, as the job market sees it.
pub trait WorkerStaking<AccountId, Balance> {
	/// Bound on the candidates returned for one model.
	type MaxCandidates: Get<u32>;

	/// The largest exposure one assignment may carry: no single job may slash a worker for
	/// more.
	fn max_exposure() -> Balance;

	/// Blocks between a worker's registration (or a change of its models) and its eligibility.
	fn eligibility_delay() -> u32;

	/// Blocks from an assignment during which its worker's bond is sure to stay slashable
	/// (funds unbonded meanwhile stay held and slashable longer): the job's lifetime and any
	/// challenge of its result must end within it.
	fn slashable_window() -> u32;

	/// The workers eligible now for a new job of `model` that could be slashed for up to
	/// `exposure`.
	fn candidates(
		model: &ModelHash,
		exposure: Balance,
	) -> BoundedVec<Candidate<AccountId, Balance>, Self::MaxCandidates>;

	/// The account of a worker key, if the key is registered.
	fn worker_account(worker: &WorkerId) -> Option<AccountId>;

	/// The operator whose bond backs a worker; `None` if the key is not registered.
	fn operator(worker: &WorkerId) -> Option<AccountId>;

	/// Where a worker's earnings go: its operator's payee (the operator unless it set
	/// another); `None` if the key is not registered.
	fn payee(worker: &WorkerId) -> Option<AccountId>;

	/// How many open assignments the staking pallet counts for `worker`; `None` if the key is
	/// not registered.
	fn open_assignments(worker: &WorkerId) -> Option<u32>;

	/// Records that `worker` holds an assignment that could be slashed for `exposure`. Fails if
	/// the worker is not eligible now, has no free slot, or `exposure` exceeds
	/// [`Self::max_exposure`].
	fn note_assigned(worker: &WorkerId, exposure: Balance) -> DispatchResult;

	/// Records that an assignment of `worker` with `exposure` has ended with `outcome`.
	fn note_released(worker: &WorkerId, exposure: Balance, outcome: Outcome);

	/// Counts an answer of `worker` to a job of `model`, a refusal ("cannot execute") if
	/// `refused`, towards its refusal rate on the model, which is compared with its peers'. The
	/// job market reports only answers to jobs every worker sees alike (inline inputs): a
	/// remote input's server could fail one worker alone.
	fn note_answer(worker: &WorkerId, model: &ModelHash, refused: bool);

	/// Slashes the operator behind `worker`: from its active bond first, then from its
	/// unbonding funds. A share goes to `reporter` if any, the rest to the treasury. Returns the
	/// amount actually slashed (capped at what the operator has at stake).
	fn slash(
		worker: &WorkerId,
		amount: SlashAmount<Balance>,
		reason: SlashReason,
		reporter: Option<AccountId>,
	) -> Result<Balance, DispatchError>;

	/// Slashes `operator` for an offence of `worker` found after the worker's assignment ended:
	/// as [`Self::slash`], but the key may have been unregistered since (an operator cannot
	/// escape a slash by dropping the key; its bond stays slashable while it unbonds).
	fn slash_operator(
		operator: &AccountId,
		worker: &WorkerId,
		amount: SlashAmount<Balance>,
		reason: SlashReason,
		reporter: Option<AccountId>,
	) -> Result<Balance, DispatchError>;
}
