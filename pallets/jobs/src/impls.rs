//! The job market's logic: submission checks, the draw, settlement, refunds and the hooks.

use crate::{pallet::*, types::*, WeightInfo};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{
	defensive,
	pallet_prelude::*,
	traits::{
		fungible::{Mutate, MutateHold},
		tokens::{Fortitude, Precision, Preservation, Restriction},
		Randomness,
	},
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::{
	traits::{AccountIdConversion, Saturating, UniqueSaturatedInto, Zero},
	DispatchError,
};
use veritensor_primitives::{
	input_hash, output_hash,
	traits::{
		Candidate, ModelRegistry, ModelTerms, Outcome, SlashAmount, SlashReason, WorkerStaking,
	},
	JobId, ModelHash, Receipt, TensorError, TensorSpec, WorkerId,
};

/// Domain separator of the draw's seed.
const DRAW_DOMAIN: &[u8] = b"veritensor:draw:v1";

/// The largest k the market settles today: single-worker jobs.
pub const SUPPORTED_K: u32 = 1;

impl<T: Config> Pallet<T> {
	/// The pallet's account, which keeps earnings until they are claimed.
	pub fn pot() -> T::AccountId {
		T::PalletId::get().into_account_truncating()
	}

	/// What a job of `model` with `k` workers costs now, and how it splits; `None` if the model
	/// takes no jobs or `k` is unsupported.
	pub fn quote(
		model: &ModelHash,
		k: u32,
	) -> Option<(Price<T::AccountId, BalanceOf<T>>, BalanceOf<T>)> {
		if k == 0 || k > SUPPORTED_K.min(T::MaxWorkersPerJob::get()) {
			return None;
		}
		T::Models::terms_for_new_job(model).map(|terms| Self::price(&terms, k))
	}

	fn price(
		terms: &ModelTerms<T::AccountId, BalanceOf<T>>,
		k: u32,
	) -> (Price<T::AccountId, BalanceOf<T>>, BalanceOf<T>) {
		let base =
			terms.price_per_worker.saturating_mul(k.into()).saturating_add(terms.owner_royalty);
		let mut protocol = T::ProtocolFee::get() * base;
		let mut cost = base.saturating_add(protocol);
		if cost < T::MinFee::get() {
			protocol = protocol.saturating_add(T::MinFee::get().saturating_sub(cost));
			cost = T::MinFee::get();
		}
		let price = Price {
			per_worker: terms.price_per_worker,
			owner: terms.owner.clone(),
			royalty: terms.owner_royalty,
			protocol,
		};
		(price, cost)
	}

	/// Bytes of inline tensor data in a payload: what hashing and storing it costs with.
	pub fn payload_bytes(payload: &Payload<T>) -> u32 {
		match payload {
			Payload::Inline(tensors) => {
				tensors.iter().map(|tensor| tensor.data.len() as u32).fold(0, u32::saturating_add)
			}
			Payload::Remote { .. } => 0,
		}
	}

	/// The most bytes of inline output data in one answer of a batch.
	pub fn largest_answer_bytes(answers: &[Submission<T>]) -> u32 {
		answers
			.iter()
			.map(|submission| match &submission.answer {
				Answer::Output { output, .. } => Self::payload_bytes(output),
				Answer::CannotExecute { .. } => 0,
			})
			.max()
			.unwrap_or(0)
	}

	/// What a settled job of `job` pays in total.
	pub(crate) fn job_cost(job: &Job<T>) -> BalanceOf<T> {
		job.price
			.per_worker
			.saturating_mul(job.k.into())
			.saturating_add(job.price.royalty)
			.saturating_add(job.price.protocol)
	}

	/// Checks a payload against one side of a schema; returns its canonical hash.
	fn check_payload(
		payload: &Payload<T>,
		specs: &[TensorSpec],
		hash: fn(&[veritensor_primitives::Tensor<T::MaxInlineTensorBytes>]) -> H256,
	) -> Result<H256, PayloadError> {
		match payload {
			Payload::Inline(tensors) => {
				veritensor_primitives::tensor::check_tensors(tensors, specs)
					.map_err(PayloadError::Tensor)?;
				Ok(hash(tensors))
			}
			Payload::Remote { hash, uri } => {
				if uri.is_empty() {
					return Err(PayloadError::EmptyUri);
				}
				Ok(*hash)
			}
		}
	}

	pub(crate) fn do_submit(
		submitter: T::AccountId,
		model: ModelHash,
		input: Payload<T>,
		k: u32,
		max_fee: BalanceOf<T>,
		deadline: BlockNumberFor<T>,
	) -> Result<(JobId, bool), DispatchError> {
		ensure!(
			k > 0 && k <= SUPPORTED_K.min(T::MaxWorkersPerJob::get()),
			Error::<T>::UnsupportedK
		);
		let terms = T::Models::terms_for_new_job(&model).ok_or(Error::<T>::ModelNotUsable)?;
		let input_hash =
			Self::check_payload(&input, &terms.schema.inputs, input_hash).map_err(|error| {
				match error {
					PayloadError::EmptyUri => Error::<T>::EmptyUri,
					PayloadError::Tensor(TensorError::CountMismatch) => {
						Error::<T>::InputCountMismatch
					}
					PayloadError::Tensor(TensorError::TypeMismatch) => {
						Error::<T>::InputTypeMismatch
					}
					PayloadError::Tensor(TensorError::ShapeMismatch) => {
						Error::<T>::InputShapeMismatch
					}
					PayloadError::Tensor(TensorError::FracBitsMismatch) => {
						Error::<T>::InputFracBitsMismatch
					}
					PayloadError::Tensor(TensorError::LengthMismatch | TensorError::BadBool) => {
						Error::<T>::InputMalformed
					}
				}
			})?;
		ensure!(deadline >= T::MinDeadline::get(), Error::<T>::DeadlineTooSoon);
		ensure!(deadline <= T::MaxDeadline::get(), Error::<T>::DeadlineTooLate);
		let (price, cost) = Self::price(&terms, k);
		ensure!(max_fee >= cost, Error::<T>::FeeTooLow);
		let (eligible, counted) = Self::eligible_operators(&model);
		ensure!(eligible >= k, Error::<T>::NotEnoughWorkers);

		let job = NextJobId::<T>::get();
		NextJobId::<T>::put(job.checked_add(1).ok_or(Error::<T>::Overflow)?);
		let now = frame_system::Pallet::<T>::block_number();
		let assign_at = now.saturating_add(T::AssignmentDelay::get().into());
		let deadline = now.saturating_add(deadline);
		AssignmentQueue::<T>::try_mutate(assign_at, |queue| queue.try_push(job))
			.map_err(|_| Error::<T>::AssignmentQueueFull)?;
		AssignmentModels::<T>::try_mutate(assign_at, |models| {
			if models.contains(&model) {
				Ok(())
			} else {
				models.try_push(model)
			}
		})
		.map_err(|_| Error::<T>::AssignmentQueueFull)?;
		ExpiryQueue::<T>::try_mutate(deadline.saturating_add(1u32.into()), |queue| {
			queue.try_push(job)
		})
		.map_err(|_| Error::<T>::ExpiryQueueFull)?;
		T::Models::acquire(&model)?;
		T::Currency::hold(&HoldReason::JobEscrow.into(), &submitter, max_fee)
			.map_err(|_| Error::<T>::InsufficientBalance)?;

		Jobs::<T>::insert(
			job,
			Job {
				submitter: submitter.clone(),
				model,
				input_hash,
				k,
				price,
				escrow: max_fee,
				submitted_at: now,
				deadline,
				state: JobState::Queued { assign_at },
			},
		);
		Inputs::<T>::insert(job, input);
		Self::deposit_event(Event::Submitted {
			job,
			submitter,
			model,
			k,
			cost,
			escrow: max_fee,
			assign_at,
			deadline,
		});
		Ok((job, counted))
	}

	/// How many distinct operators have workers eligible for `model` in this block, counted
	/// once per block and model; and whether this call counted them.
	pub fn eligible_operators(model: &ModelHash) -> (u32, bool) {
		let now = frame_system::Pallet::<T>::block_number();
		if let Some((counted_at, count)) = EligibleOperators::<T>::get(model) {
			if counted_at == now {
				return (count, false);
			}
		}
		let mut operators: Vec<T::AccountId> = Vec::new();
		for candidate in T::Workers::candidates(model, T::Workers::max_exposure()) {
			if !operators.contains(&candidate.operator) {
				operators.push(candidate.operator);
			}
		}
		let count = operators.len() as u32;
		EligibleOperators::<T>::insert(model, (now, count));
		(count, true)
	}

	/// The hooks' work at block `now`: note the parent's VRF output, expire what is due, draw
	/// the workers of what is due, prune old results. Returns the weight used.
	pub(crate) fn on_block(now: BlockNumberFor<T>) -> Weight {
		Self::record_parent_vrf();
		let expired = Self::expire_due(now);
		let (assigned, models) = Self::assign_due(now);
		let visited = Self::prune_results(now);
		let mut weight = T::WeightInfo::on_initialize_base();
		if expired > 0 {
			weight.saturating_accrue(T::WeightInfo::expire_jobs(expired));
		}
		if assigned > 0 {
			// `assign_jobs` covers one model's candidates; each further model reads its own.
			weight.saturating_accrue(T::WeightInfo::assign_jobs(assigned));
			weight.saturating_accrue(
				T::WeightInfo::count_eligible().saturating_mul(models.saturating_sub(1) as u64),
			);
		}
		if visited > 0 {
			weight.saturating_accrue(T::WeightInfo::prune_results(visited));
		}
		weight
	}

	/// Ends the jobs whose deadline passed; returns how many were due.
	pub(crate) fn expire_due(now: BlockNumberFor<T>) -> u32 {
		let expiring = ExpiryQueue::<T>::take(now);
		for job in &expiring {
			Self::expire(*job);
		}
		expiring.len() as u32
	}

	/// Draws the workers of the jobs due at `now`; returns how many jobs and models were due.
	pub(crate) fn assign_due(now: BlockNumberFor<T>) -> (u32, u32) {
		let due = AssignmentQueue::<T>::take(now);
		AssignmentModels::<T>::remove(now);
		if due.is_empty() {
			return (0, 0);
		}
		let seed = Self::draw_seed();
		let mut pools = BTreeMap::new();
		for job in &due {
			Self::assign(*job, &seed, &mut pools, now);
		}
		(due.len() as u32, pools.len() as u32)
	}

	pub(crate) fn record_parent_vrf() {
		let (output, _) = T::ParentVrf::random(&[]);
		let keep = T::AssignmentDelay::get().saturating_sub(1) as usize;
		RecentVrf::<T>::mutate(|recent| {
			let mut outputs = recent.to_vec();
			outputs.push(output.unwrap_or_default());
			let excess = outputs.len().saturating_sub(keep);
			outputs.drain(..excess);
			*recent = BoundedVec::truncate_from(outputs);
		});
	}

	/// The seed of this block's draw: the VRF outputs of the `AssignmentDelay − 1` blocks
	/// before it, so for a job from block N those of N+1 … N+D−1.
	fn draw_seed() -> [u8; 32] {
		let mut preimage = Vec::from(DRAW_DOMAIN);
		RecentVrf::<T>::get().encode_to(&mut preimage);
		sp_io::hashing::blake2_256(&preimage)
	}

	/// Draws the workers of `job`. `pools` caches each model's candidates for this block, with
	/// free slots counted down as workers are drawn.
	fn assign(
		job_id: JobId,
		seed: &[u8; 32],
		pools: &mut BTreeMap<ModelHash, Vec<Candidate<T::AccountId, BalanceOf<T>>>>,
		now: BlockNumberFor<T>,
	) {
		let Some(mut job) = Jobs::<T>::get(job_id) else { return };
		let exposure = T::Workers::max_exposure();
		let pool = pools
			.entry(job.model)
			.or_insert_with(|| T::Workers::candidates(&job.model, exposure).into_inner());
		let mut random = sp_io::hashing::blake2_256(&(seed, job_id).encode());
		let mut workers: Vec<WorkerId> = Vec::new();
		let mut operators: Vec<T::AccountId> = Vec::new();
		while (workers.len() as u32) < job.k {
			let Some(index) = Self::draw_one(pool, &operators, &random) else { break };
			random = sp_io::hashing::blake2_256(&random);
			let candidate = &mut pool[index];
			if T::Workers::note_assigned(&candidate.worker, exposure).is_err() {
				candidate.free_slots = 0;
				continue;
			}
			candidate.free_slots = candidate.free_slots.saturating_sub(1);
			workers.push(candidate.worker.clone());
			operators.push(candidate.operator.clone());
		}
		if (workers.len() as u32) < job.k {
			for worker in &workers {
				T::Workers::note_released(worker, exposure, Outcome::Voided);
			}
			Self::refund(job_id, job, Refund::NoWorkers);
			return;
		}
		for worker in &workers {
			WorkerJobs::<T>::insert(worker, job_id, ());
		}
		let deadline = job.deadline;
		job.state =
			JobState::Assigned { workers: BoundedVec::truncate_from(workers.clone()), at: now };
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::Assigned { job: job_id, workers, deadline });
	}

	/// Picks a candidate with a free slot whose operator is not in `excluded`, with probability
	/// proportional to its stake.
	fn draw_one(
		pool: &[Candidate<T::AccountId, BalanceOf<T>>],
		excluded: &[T::AccountId],
		random: &[u8; 32],
	) -> Option<usize> {
		let weight = |candidate: &Candidate<T::AccountId, BalanceOf<T>>| -> u128 {
			if candidate.free_slots == 0 || excluded.contains(&candidate.operator) {
				0
			} else {
				UniqueSaturatedInto::<u128>::unique_saturated_into(candidate.stake).max(1)
			}
		};
		let total = pool.iter().map(weight).fold(0u128, |sum, w| sum.saturating_add(w));
		if total == 0 {
			return None;
		}
		let mut word = [0u8; 16];
		word.copy_from_slice(&random[..16]);
		let mut point = u128::from_le_bytes(word) % total;
		for (index, candidate) in pool.iter().enumerate() {
			let w = weight(candidate);
			if point < w {
				return Some(index);
			}
			point -= w;
		}
		defensive!("the point lies below the total weight");
		None
	}

	/// Ends a job whose deadline passed without a result: each assigned worker is slashed for a
	/// no-show, the submitter refunded in full.
	fn expire(job_id: JobId) {
		let Some(job) = Jobs::<T>::get(job_id) else { return };
		if let JobState::Assigned { workers, .. } = &job.state {
			let exposure = T::Workers::max_exposure();
			for worker in workers {
				if T::Workers::slash(
					worker,
					SlashAmount::Fixed(T::NoShowSlash::get()),
					SlashReason::NoShow,
					None,
				)
				.is_err()
				{
					log::warn!(target: "runtime::jobs", "no-show of job {job_id}: worker gone");
				}
				T::Workers::note_released(worker, exposure, Outcome::Missed);
				WorkerJobs::<T>::remove(worker, job_id);
			}
		}
		Self::refund(job_id, job, Refund::Expired);
	}

	/// Returns a job's whole escrow to its submitter and closes it.
	pub(crate) fn refund(job_id: JobId, job: Job<T>, reason: Refund) {
		let amount = T::Currency::release(
			&HoldReason::JobEscrow.into(),
			&job.submitter,
			job.escrow,
			Precision::BestEffort,
		)
		.unwrap_or_else(|_| {
			defensive!("an open job's escrow is held");
			Zero::zero()
		});
		Self::close(job_id, &job.model);
		Self::deposit_event(Event::Refunded {
			job: job_id,
			submitter: job.submitter,
			amount,
			reason,
		});
	}

	fn close(job_id: JobId, model: &ModelHash) {
		Jobs::<T>::remove(job_id);
		Inputs::<T>::remove(job_id);
		T::Models::release(model);
	}

	/// Checks and applies one answer from `who`.
	pub(crate) fn accept_answer(who: &T::AccountId, submission: Submission<T>) -> DispatchResult {
		let Submission { job: job_id, worker, answer } = submission;
		let job = Jobs::<T>::get(job_id).ok_or(Error::<T>::UnknownJob)?;
		let JobState::Assigned { workers, .. } = &job.state else {
			return Err(Error::<T>::NotAssigned.into());
		};
		ensure!(workers.contains(&worker), Error::<T>::NotAssignedWorker);
		ensure!(
			T::Workers::worker_account(&worker).as_ref() == Some(who),
			Error::<T>::NotWorkerAccount
		);
		let exposure = T::Workers::max_exposure();
		match answer {
			Answer::CannotExecute { reason } => {
				T::Workers::note_released(&worker, exposure, Outcome::Failed);
				WorkerJobs::<T>::remove(&worker, job_id);
				Self::refund(job_id, job, Refund::CannotExecute(reason));
			}
			Answer::Output { output, signature } => {
				let schema = T::Models::schema(&job.model).ok_or_else(|| {
					defensive!("a model with open jobs stays registered");
					Error::<T>::ModelNotUsable
				})?;
				let output_hash = Self::check_payload(&output, &schema.outputs, output_hash)
					.map_err(|error| match error {
						PayloadError::EmptyUri => Error::<T>::EmptyUri,
						PayloadError::Tensor(TensorError::CountMismatch) => {
							Error::<T>::OutputCountMismatch
						}
						PayloadError::Tensor(_) => Error::<T>::OutputMismatch,
					})?;
				let receipt = Receipt {
					genesis_hash: frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero()),
					job_id,
					model: job.model,
					input_hash: job.input_hash,
					output_hash,
					worker: worker.clone(),
				};
				ensure!(receipt.verify(&signature), Error::<T>::BadReceipt);
				T::Workers::note_released(&worker, exposure, Outcome::Completed);
				WorkerJobs::<T>::remove(&worker, job_id);
				Self::settle(job_id, job, worker, who, output, output_hash)?;
			}
		}
		Ok(())
	}

	/// Pays for a job with an accepted result and stores the result.
	fn settle(
		job_id: JobId,
		job: Job<T>,
		worker: WorkerId,
		worker_account: &T::AccountId,
		output: Payload<T>,
		output_hash: H256,
	) -> DispatchResult {
		let cost = Self::job_cost(&job);
		T::Currency::transfer_on_hold(
			&HoldReason::JobEscrow.into(),
			&job.submitter,
			&Self::pot(),
			cost,
			Precision::Exact,
			Restriction::Free,
			Fortitude::Polite,
		)?;
		let refunded = T::Currency::release(
			&HoldReason::JobEscrow.into(),
			&job.submitter,
			job.escrow.saturating_sub(cost),
			Precision::Exact,
		)?;
		Self::accrue(worker_account, job.price.per_worker.saturating_mul(job.k.into()));
		Self::accrue(&job.price.owner, job.price.royalty);
		Self::accrue(&T::TreasuryAccount::get(), job.price.protocol);
		let now = frame_system::Pallet::<T>::block_number();
		let single_worker = job.k == 1;
		Results::<T>::insert(
			job_id,
			JobResult {
				model: job.model,
				worker: worker.clone(),
				output: output.clone(),
				output_hash,
				single_worker,
				settled_at: now,
			},
		);
		Self::close(job_id, &job.model);
		Self::deposit_event(Event::Settled {
			job: job_id,
			worker,
			output_hash,
			output,
			single_worker,
			cost,
			refunded,
		});
		Ok(())
	}

	fn accrue(who: &T::AccountId, amount: BalanceOf<T>) {
		if amount.is_zero() {
			return;
		}
		Claimable::<T>::mutate(who, |claimable| {
			*claimable = Some(claimable.unwrap_or_default().saturating_add(amount));
		});
	}

	pub(crate) fn pay_out(beneficiary: &T::AccountId, amount: BalanceOf<T>) -> DispatchResult {
		T::Currency::transfer(&Self::pot(), beneficiary, amount, Preservation::Preserve)
			.map(|_| ())
			.map_err(|_| Error::<T>::ClaimFailed.into())
	}

	/// Removes results older than the retention period, in job order, at most
	/// `MaxPrunedPerBlock` ids a block. Returns how many ids it looked at.
	pub(crate) fn prune_results(now: BlockNumberFor<T>) -> u32 {
		let mut cursor = PruneCursor::<T>::get();
		let next = NextJobId::<T>::get();
		let mut visited = 0;
		while visited < T::MaxPrunedPerBlock::get() && cursor < next {
			if let Some(result) = Results::<T>::get(cursor) {
				if result.settled_at.saturating_add(T::ResultRetention::get()) > now {
					break;
				}
				Results::<T>::remove(cursor);
			} else if Jobs::<T>::contains_key(cursor) {
				break;
			}
			cursor = cursor.saturating_add(1);
			visited += 1;
		}
		PruneCursor::<T>::put(cursor);
		visited
	}

	/// The jobs assigned to `worker` and still open.
	pub fn open_assignments(worker: &WorkerId) -> Vec<JobId> {
		WorkerJobs::<T>::iter_key_prefix(worker).collect()
	}

	/// Checks the pallet's invariants:
	/// - every submitter's escrow hold equals the escrow of its open jobs;
	/// - every open job has an input, is in its queue or has registered workers noted as
	///   assigned to it, and has no result yet;
	/// - the pallet's account holds at least everything claimable.
	#[cfg(any(test, feature = "try-runtime"))]
	pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
		use frame_support::traits::fungible::{Inspect, InspectHold};
		let mut escrow: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
		for (job_id, job) in Jobs::<T>::iter() {
			let sum = escrow.entry(job.submitter.clone()).or_default();
			*sum = sum.saturating_add(job.escrow);
			ensure!(Inputs::<T>::contains_key(job_id), "an open job without input");
			ensure!(!Results::<T>::contains_key(job_id), "a job both open and settled");
			ensure!(job.escrow >= Self::job_cost(&job), "an escrow below the job's cost");
			match &job.state {
				JobState::Queued { assign_at } => ensure!(
					AssignmentQueue::<T>::get(assign_at).contains(&job_id),
					"a queued job missing from its queue"
				),
				JobState::Assigned { workers, .. } => {
					for worker in workers {
						ensure!(
							T::Workers::worker_account(worker).is_some(),
							"an assignment of an unregistered worker"
						);
						ensure!(
							WorkerJobs::<T>::contains_key(worker, job_id),
							"an assignment missing from the worker's list"
						);
					}
				}
			}
		}
		for (submitter, sum) in &escrow {
			let held = T::Currency::balance_on_hold(&HoldReason::JobEscrow.into(), submitter);
			ensure!(held == *sum, "escrow held differs from open jobs' escrow");
		}
		for (worker, job_id, ()) in WorkerJobs::<T>::iter() {
			let job = Jobs::<T>::get(job_id).ok_or("an assignment of a closed job")?;
			let assigned = matches!(&job.state, JobState::Assigned { workers, .. } if workers.contains(&worker));
			ensure!(assigned, "an assignment the job does not name");
		}
		let claimable = Claimable::<T>::iter_values()
			.fold(BalanceOf::<T>::zero(), |sum, amount| sum.saturating_add(amount));
		ensure!(
			T::Currency::balance(&Self::pot()) >= claimable,
			"the pallet's account holds less than is claimable"
		);
		Ok(())
	}
}

/// Why a payload does not fit a schema.
pub(crate) enum PayloadError {
	EmptyUri,
	Tensor(TensorError),
}
