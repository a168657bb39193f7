//! The draw of a job's workers: the seed from recent VRF outputs, and the stake-weighted pick
//! among eligible workers of distinct operators.

use crate::{pallet::*, types::*, MAX_LATER_DRAWS};
use alloc::{collections::BTreeMap, vec::Vec};
use frame_support::{defensive, pallet_prelude::*, traits::Randomness};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_runtime::traits::{Saturating, UniqueSaturatedInto};
use veritensor_primitives::{
	traits::{Outcome, WorkerStaking},
	JobId, ModelHash, WorkerId,
};

/// Domain separator of the draw's seed.
const DRAW_DOMAIN: &[u8] = b"veritensor:draw:v1";

impl<T: Config> Pallet<T> {
	/// Notes the parent block's VRF output, keeping the last `AssignmentDelay − 1 +
	/// MAX_LATER_DRAWS`: every output since the submission of a job drawn as late as it may be.
	pub(crate) fn record_parent_vrf() {
		let (output, _) = T::ParentVrf::random(&[]);
		let keep = Self::vrf_kept() as usize;
		RecentVrf::<T>::mutate(|recent| {
			let mut outputs = recent.to_vec();
			outputs.push(output.unwrap_or_default());
			let excess = outputs.len().saturating_sub(keep);
			outputs.drain(..excess);
			*recent = BoundedVec::truncate_from(outputs);
		});
	}

	/// How many VRF outputs [`RecentVrf`] keeps.
	pub(crate) fn vrf_kept() -> u32 {
		T::AssignmentDelay::get().saturating_sub(1).saturating_add(MAX_LATER_DRAWS)
	}

	/// The seed of this block's draws for jobs submitted `D` blocks ago, and of its checks: the
	/// VRF outputs of the `AssignmentDelay − 1` blocks before it (N+1 … N+D−1 for a job from
	/// block N).
	pub(crate) fn draw_seed() -> [u8; 32] {
		Self::seed_of(&RecentVrf::<T>::get(), T::AssignmentDelay::get().saturating_sub(1))
	}

	/// The seed made of the last `outputs` of `recent` (as many as it has, if fewer).
	fn seed_of(recent: &[sp_core::H256], outputs: u32) -> [u8; 32] {
		let from = recent.len().saturating_sub(outputs as usize);
		let mut preimage = Vec::from(DRAW_DOMAIN);
		recent[from..].encode_to(&mut preimage);
		sp_io::hashing::blake2_256(&preimage)
	}

	/// Draws the workers of the jobs due at `now`; returns how many jobs and models were due.
	///
	/// A job drawn later than usual (its usual draw was full) is drawn with every VRF output
	/// since its submission, N+1 … now−1: choosing which of its allowed draws a job lands in
	/// (by filling the earlier ones) gains nobody anything without authoring all of those
	/// blocks.
	pub(crate) fn assign_due(now: BlockNumberFor<T>) -> (u32, u32) {
		let due = AssignmentQueue::<T>::take(now);
		AssignmentModels::<T>::remove(now);
		if due.is_empty() {
			return (0, 0);
		}
		let recent = RecentVrf::<T>::get();
		let mut seeds = BTreeMap::new();
		let mut pools = BTreeMap::new();
		for job_id in &due {
			let Some(job) = Jobs::<T>::get(job_id) else { continue };
			let since: u32 = now
				.saturating_sub(job.submitted_at)
				.saturating_sub(1u32.into())
				.unique_saturated_into();
			let seed = *seeds.entry(since).or_insert_with(|| Self::seed_of(&recent, since));
			Self::assign(*job_id, job, &seed, &mut pools, now);
		}
		(due.len() as u32, pools.len() as u32)
	}

	/// Draws the workers of `job_id` (whose record is `job`). `pools` caches each model's
	/// candidates for this block, with free slots counted down as workers are drawn.
	fn assign(
		job_id: JobId,
		mut job: Job<T>,
		seed: &[u8; 32],
		pools: &mut BTreeMap<ModelHash, Vec<CandidateOf<T>>>,
		now: BlockNumberFor<T>,
	) {
		let exposure = T::Workers::max_exposure();
		let pool = Self::pool(pools, &job.model);
		let random = sp_io::hashing::blake2_256(&(seed, job_id).encode());
		let mut operators: Vec<T::AccountId> = Vec::new();
		let workers = Self::draw_workers(pool, &mut operators, job.k, random);
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
		// A quorum, or an audited job's one worker, commits before it reveals.
		if job.k > 1 || Audits::<T>::contains_key(job_id) {
			Self::open_quorum(job_id, job.k, now);
		}
		let deadline = job.deadline;
		job.state =
			JobState::Assigned { workers: BoundedVec::truncate_from(workers.clone()), at: now };
		Jobs::<T>::insert(job_id, job);
		Self::deposit_event(Event::Assigned { job: job_id, workers, deadline });
	}

	/// This block's candidates for `model`, from `pools` or asked for once: each operator's
	/// candidates side by side, as the draw walks them operator by operator.
	pub(crate) fn pool<'a>(
		pools: &'a mut BTreeMap<ModelHash, Vec<CandidateOf<T>>>,
		model: &ModelHash,
	) -> &'a mut Vec<CandidateOf<T>> {
		pools.entry(*model).or_insert_with(|| {
			let mut pool = T::Workers::candidates(model, T::Workers::max_exposure()).into_inner();
			pool.sort_by(|a, b| a.operator.cmp(&b.operator));
			pool
		})
	}

	/// Draws up to `wanted` workers from `pool`, of distinct operators none of whom is in
	/// `operators` (each drawn worker's operator is added), and notes each assignment with the
	/// worker staking pallet. Fewer come back if the pool runs out.
	pub(crate) fn draw_workers(
		pool: &mut [CandidateOf<T>],
		operators: &mut Vec<T::AccountId>,
		wanted: u32,
		mut random: [u8; 32],
	) -> Vec<WorkerId> {
		let exposure = T::Workers::max_exposure();
		let mut workers: Vec<WorkerId> = Vec::new();
		while (workers.len() as u32) < wanted {
			let Some(index) = Self::draw_one(pool, operators, &random) else { break };
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
		workers
	}

	/// Picks a candidate with a free slot whose operator is not in `excluded`: first an operator,
	/// with probability proportional to its stake, then one of its available candidates, each as
	/// likely as the others. An operator's chance so does not grow with the number of workers it
	/// registers. `pool` holds each operator's candidates side by side.
	fn draw_one(
		pool: &[CandidateOf<T>],
		excluded: &[T::AccountId],
		random: &[u8; 32],
	) -> Option<usize> {
		let available = |candidate: &CandidateOf<T>| {
			candidate.free_slots > 0 && !excluded.contains(&candidate.operator)
		};
		// Each operator's run of candidates, with how many of them are available.
		let runs = || {
			pool.chunk_by(|a, b| a.operator == b.operator).scan(0usize, |start, run| {
				let first = *start;
				*start += run.len();
				Some((first, run, run.iter().filter(|candidate| available(candidate)).count()))
			})
		};
		let weight = |run: &[CandidateOf<T>]| -> u128 {
			UniqueSaturatedInto::<u128>::unique_saturated_into(run[0].stake).max(1)
		};
		let total = runs()
			.filter(|(_, _, free)| *free > 0)
			.fold(0u128, |sum, (_, run, _)| sum.saturating_add(weight(run)));
		if total == 0 {
			return None;
		}
		let word = |bytes: &[u8]| {
			let mut word = [0u8; 16];
			word.copy_from_slice(bytes);
			u128::from_le_bytes(word)
		};
		let mut point = word(&random[..16]) % total;
		for (first, run, free) in runs().filter(|(_, _, free)| *free > 0) {
			let w = weight(run);
			if point >= w {
				point -= w;
				continue;
			}
			let pick = (word(&random[16..]) % free as u128) as usize;
			return run
				.iter()
				.enumerate()
				.filter(|(_, candidate)| available(candidate))
				.nth(pick)
				.map(|(offset, _)| first + offset);
		}
		defensive!("the point lies below the total weight");
		None
	}
}
