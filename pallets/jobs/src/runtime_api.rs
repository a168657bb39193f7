//! The job market's runtime API, for dApps and for workers' off-chain workers.

use alloc::vec::Vec;
use sp_runtime::Perbill;
use veritensor_primitives::{JobId, ModelHash, VerificationTerms, WorkerId};

sp_api::decl_runtime_apis! {
	/// Reads the job market.
	///
	/// Version 2 adds a quorum job's progress and decision; version 3 quotes any verification
	/// terms (audits included) and tells a model's audit rate; version 4 tells whether a result
	/// is provisional, final or overturned.
	#[api_version(2)]
	pub trait JobsApi<
		Balance: codec::Codec,
		Job: codec::Codec,
		JobResult: codec::Codec,
		Input: codec::Codec,
		QuorumProgress: codec::Codec,
		QuorumDecision: codec::Codec,
		ResultStatus: codec::Codec,
	> {
		/// What a job of `model` with `k` workers costs now (`max_fee` must cover it), or `None`
		/// if the model takes no jobs, `k` is unsupported (1, 3 or 5), or a quorum could not
		/// compare the model's outputs (they do not all fit inline).
		fn quote(model: ModelHash, k: u32) -> Option<Balance>;

		/// An open job: its price, escrow, deadline, and state (queued, or its workers).
		fn job(job: JobId) -> Option<Job>;

		/// An open job's input.
		fn input(job: JobId) -> Option<Input>;

		/// A settled job's result, until it is pruned.
		fn result(job: JobId) -> Option<JobResult>;

		/// The open jobs assigned to `worker`.
		fn open_assignments(worker: WorkerId) -> Vec<JobId>;

		/// An open quorum job's phase: when its commit window ends, whether reveals are open,
		/// whether no-shows were replaced, and each member with whether it committed and
		/// revealed. `None` for a job that is not an open quorum job.
		#[api_version(2)]
		fn quorum(job: JobId) -> Option<QuorumProgress>;

		/// How a quorum job was decided: its canonical answer (member and output hash), each
		/// member's verdict, the slash of the slashed ones and when it applies. Kept as long as
		/// results.
		#[api_version(2)]
		fn decision(job: JobId) -> Option<QuorumDecision>;

		/// What a job of `model` verified as `terms` say costs now, an audit's premium included
		/// (`max_fee` must cover it); `None` as for `quote`, or for an audit of more than one
		/// worker.
		#[api_version(3)]
		fn quote_terms(model: ModelHash, terms: VerificationTerms) -> Option<Balance>;

		/// The probability with which an audited job of `model` is audited now:
		/// max(floor, price / (price + slash)), the smallest rate at which a worker that skips
		/// the work loses in expectation (see docs/jobs.md); `None` if the model takes no jobs.
		#[api_version(3)]
		fn audit_rate(model: ModelHash) -> Option<Perbill>;

		/// Where a settled job's result stands while it is kept: provisional (open to
		/// challenge until a block, or being challenged), final, overturned by referees (the
		/// stored output is then theirs), or recomputed by the runtime (a model it runs itself:
		/// the stored output is the runtime's). `None` if no result is kept for the job.
		#[api_version(4)]
		fn result_status(job: JobId) -> Option<ResultStatus>;
	}
}
