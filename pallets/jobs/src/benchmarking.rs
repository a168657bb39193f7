//! Benchmarks of every call and of the hooks' per-job work, in their worst cases: the largest
//! inline inputs and outputs, full answer batches, full queues, and a model whose candidate set
//! is full.

use super::*;
use alloc::{vec, vec::Vec};
use frame_benchmarking::v2::*;
use frame_support::pallet_prelude::TransactionSource;
use frame_support::{
	traits::{
		fungible::{Inspect, Mutate},
		Get,
	},
	BoundedVec,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{Bounded, Saturating, UniqueSaturatedInto, Zero};
use veritensor_primitives::{
	tensor::{ElementType, TensorSpec, MAX_TENSORS},
	traits::{ModelRegistry, WorkerStaking},
	IoSchema, JobId, ModelHash, Tensor, VerificationTerms, WorkerId, WorkerSignature,
};

/// The largest schema inline data allows: every tensor slot used, each of the inline limit.
fn largest_schema<T: Config>() -> IoSchema {
	let elements = T::MaxInlineTensorBytes::get() / 4;
	let side = |prefix: u8| -> BoundedVec<TensorSpec, _> {
		(0..MAX_TENSORS)
			.map(|index| TensorSpec {
				name: vec![prefix, b'a' + index as u8].try_into().expect("two bytes fit; qed"),
				elem: ElementType::I32,
				shape: vec![elements].try_into().expect("rank one fits; qed"),
				frac_bits: 0,
			})
			.collect::<Vec<_>>()
			.try_into()
			.expect("exactly the bound; qed")
	};
	IoSchema { inputs: side(b'i'), outputs: side(b'o') }
}

/// Eight `U8` tensors a side holding `bytes` together (at least one each).
fn schema_of_bytes(inputs: u32, outputs: u32) -> IoSchema {
	let side = |prefix: u8, bytes: u32| -> BoundedVec<TensorSpec, _> {
		(0..MAX_TENSORS)
			.map(|index| TensorSpec {
				name: vec![prefix, b'a' + index as u8].try_into().expect("two bytes fit; qed"),
				elem: ElementType::U8,
				shape: vec![(bytes / MAX_TENSORS).max(1)].try_into().expect("rank one fits; qed"),
				frac_bits: 0,
			})
			.collect::<Vec<_>>()
			.try_into()
			.expect("exactly the bound; qed")
	};
	IoSchema { inputs: side(b'i', inputs), outputs: side(b'o', outputs) }
}

/// The most inline bytes one side of a job can carry.
fn max_side_bytes<T: Config>() -> u32 {
	T::MaxInlineTensorBytes::get() * MAX_TENSORS
}

/// A one-number schema, for the hooks, whose cost does not depend on the data's size.
fn small_schema() -> IoSchema {
	let spec = |name: &[u8]| TensorSpec {
		name: name.to_vec().try_into().expect("short; qed"),
		elem: ElementType::I32,
		shape: vec![1].try_into().expect("rank one fits; qed"),
		frac_bits: 0,
	};
	IoSchema {
		inputs: vec![spec(b"x")].try_into().expect("one fits; qed"),
		outputs: vec![spec(b"y")].try_into().expect("one fits; qed"),
	}
}

/// Inline tensors filling `specs`.
fn payload<T: Config>(specs: &[TensorSpec], fill: u8) -> Payload<T> {
	let tensors: Vec<Tensor<T::MaxInlineTensorBytes>> = specs
		.iter()
		.map(|spec| Tensor {
			elem: spec.elem,
			shape: spec.shape.clone(),
			frac_bits: spec.frac_bits,
			data: vec![fill; spec.wire_size().unwrap_or_default() as usize]
				.try_into()
				.expect("the schema stays within the inline limit; qed"),
		})
		.collect();
	Payload::Inline(BoundedVec::truncate_from(tensors))
}

fn model_with<T: Config>(seed: u8, schema: IoSchema) -> ModelHash {
	let model = ModelHash::repeat_byte(seed);
	T::BenchmarkHelper::list_model(model, schema);
	model
}

fn funded<T: Config>(name: &'static str) -> T::AccountId {
	submitter::<T>(name, 0)
}

/// A funded account, numbered `index`.
fn submitter<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, BalanceOf::<T>::max_value() / 1024u32.into());
	who
}

/// The `index`th of many distinct models, each with its own owner.
fn model_numbered<T: Config>(index: u32, schema: IoSchema) -> ModelHash {
	let mut raw = [0xe1u8; 32];
	raw[0] = index as u8;
	raw[1..5].copy_from_slice(&index.to_le_bytes());
	let model = ModelHash::from(raw);
	T::BenchmarkHelper::list_model(model, schema);
	model
}

/// `count` provisional results of `k` workers each, due now, of `models` models in turn, each
/// with its own input, and with `own_accounts` its own owner and payees (else all share one
/// owner and one payee per member), every share of its price above zero; the block has an
/// author, as on a chain, so that a protocol fee accrued pays its share. Returns now.
fn provisionals_due<T: Config>(
	count: u32,
	k: u32,
	models: u32,
	own_accounts: bool,
) -> BlockNumberFor<T> {
	T::BenchmarkHelper::set_block_author();
	let model = model_with::<T>(0xf1, small_schema());
	T::BenchmarkHelper::add_worker(&[model], 0, 1);
	T::BenchmarkHelper::make_eligible();
	let user = funded::<T>("user");
	let template = submit_job::<T>(&user, model, payload::<T>(&small_schema().inputs, 1));
	let mut job = Jobs::<T>::get(template).expect("submitted; qed");
	// Every share accrues to someone: nothing is skipped for being zero.
	let share = T::Currency::minimum_balance();
	job.price.per_worker = share;
	job.price.royalty = share;
	job.price.protocol = share;
	job.price.storage = share;
	job.k = k;
	let worker = WorkerId::from(sp_core::sr25519::Public::from_raw([7; 32]));
	let now = frame_system::Pallet::<T>::block_number();
	let finding = RevealedFinding::from(Finding::<T>::Output {
		output: payload::<T>(&small_schema().outputs, 3),
		signature: sp_core::sr25519::Signature::from_raw([0; 64]).into(),
	});
	let models: Vec<ModelHash> =
		(0..models.max(1)).map(|index| model_numbered::<T>(index, small_schema())).collect();
	for index in 0..count {
		let id = (1u64 << 40) + index as u64;
		let account_index = if own_accounts { index } else { 0 };
		let mut job = job.clone();
		if k > 1 {
			for party in 0..k {
				Parties::<T>::insert(id, party, (worker.clone(), finding.clone()));
			}
		}
		job.model = models[index as usize % models.len()];
		job.price.owner = account("owner", account_index, 0);
		T::Models::acquire(&job.model).expect("a listed model takes jobs; qed");
		Inputs::<T>::insert(id, payload::<T>(&small_schema().inputs, 1));
		let earners = (0..k).map(|member| Earner {
			worker: worker.clone(),
			operator: account("operator", account_index * k + member, 0),
			payee: account("payee", account_index * k + member, 0),
		});
		Provisionals::<T>::insert(
			id,
			Provisional {
				job,
				worker: worker.clone(),
				operator: account("operator", index, 0),
				earners: BoundedVec::truncate_from(earners.collect()),
				premium: Zero::zero(),
				until: now,
				challenge: None,
			},
		);
		Pallet::<T>::queue_for_finalizing(id, now);
	}
	now
}

/// Fills the prune and finalize queues' last chunks but for one entry, with results of a job
/// that does not exist, settled now.
fn fill_queues_but_one<T: Config>() {
	let now = frame_system::Pallet::<T>::block_number();
	let unknown = JobId::MAX;
	for _ in 1..crate::queue::CHUNK {
		Pallet::<T>::queue_for_pruning(unknown, now);
		Pallet::<T>::queue_for_finalizing(unknown, now.saturating_add(T::DisputeWindow::get()));
	}
}

fn fee<T: Config>(model: &ModelHash) -> BalanceOf<T> {
	fee_of::<T>(model, 1)
}

fn fee_of<T: Config>(model: &ModelHash, k: u32) -> BalanceOf<T> {
	let (_, cost) = Pallet::<T>::quote(model, &VerificationTerms::quorum(k))
		.expect("the benchmark model is listed; qed");
	cost.saturating_mul(2u32.into())
}

/// The largest quorum the market settles within `MaxWorkersPerJob`.
fn largest_quorum<T: Config>() -> u32 {
	VerificationTerms::SUPPORTED_REPLICAS
		.into_iter()
		.filter(|k| *k <= T::MaxWorkersPerJob::get())
		.max()
		.unwrap_or(1)
}

/// `count` quorum jobs of `k` members for `model` from distinct submitters, drawn: returns them
/// with the block they were drawn in.
fn drawn_quorums<T: Config>(
	model: ModelHash,
	schema: &IoSchema,
	k: u32,
	count: u32,
) -> (Vec<JobId>, BlockNumberFor<T>) {
	let at = assign_at::<T>();
	let jobs: Vec<JobId> = (0..count)
		.map(|index| {
			let id = NextJobId::<T>::get();
			Pallet::<T>::submit(
				RawOrigin::Signed(submitter::<T>("user", index)).into(),
				model,
				payload::<T>(&schema.inputs, 1),
				VerificationTerms::quorum(k),
				fee_of::<T>(&model, k),
				T::MaxDeadline::get(),
			)
			.expect("the benchmark quorum is valid; qed");
			id
		})
		.collect();
	advance_to::<T>(at);
	Pallet::<T>::assign_due(at);
	(jobs, at)
}

/// `n` quorums of three with outputs of `b` bytes, each of its own submitter, the first
/// member the same worker; with `committed`, every member has committed (the first to a real
/// finding, whose reveal is returned) and reveals are open. Returns the first member, the jobs
/// and its reveals.
fn committed_quorums<T: Config>(
	n: u32,
	b: u32,
	committed: bool,
) -> (WorkerId, Vec<JobId>, Vec<Submission<T>>) {
	let schema = schema_of_bytes(8, b);
	let model = model_with::<T>(0xcc, schema.clone());
	let workers: Vec<WorkerId> =
		(0..3).map(|index| T::BenchmarkHelper::add_worker(&[model], index, n)).collect();
	T::BenchmarkHelper::make_eligible();
	let (jobs, _) = drawn_quorums::<T>(model, &schema, 3, n);
	let first = workers[0].clone();
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	let mut reveals = Vec::new();
	for job in &jobs {
		// Put the chosen worker first, as its member place.
		let mut members = members::<T>(*job);
		let place = members.iter().position(|member| *member == first).unwrap_or(0);
		members.swap(0, place);
		Jobs::<T>::mutate(job, |record| {
			if let Some(Job { state: JobState::Assigned { workers, .. }, .. }) = record {
				*workers = BoundedVec::truncate_from(members.clone());
			}
		});
		if !committed {
			continue;
		}
		let record = Jobs::<T>::get(job).expect("drawn; qed");
		let output = payload::<T>(&schema.outputs, 3);
		let Payload::Inline(tensors) = &output else { unreachable!("inline; qed") };
		let receipt = Pallet::<T>::receipt(
			*job,
			&record,
			veritensor_primitives::output_hash(tensors),
			&first,
		);
		let signature = receipt.sign().expect("the key is in the keystore; qed");
		let finding = Finding::Output { output, signature };
		let salt = [9u8; 32];
		let commitment =
			veritensor_primitives::hashing::commitment(&genesis, *job, &first, &finding, &salt);
		for (member, worker) in members.iter().enumerate() {
			let commitment = if member == 0 { commitment } else { sp_core::H256::repeat_byte(1) };
			Pallet::<T>::note_commitment(*job, worker, member as u32, commitment)
				.expect("a member; qed");
		}
		reveals.push(Submission { job: *job, answer: Answer::Reveal { finding, salt } });
	}
	(first, jobs, reveals)
}

/// `answers` as a batch of `worker`'s, signed by its key.
fn signed_batch<T: Config>(
	worker: &WorkerId,
	answers: Vec<Submission<T>>,
) -> (AnswersOf<T>, WorkerSignature) {
	let answers = BoundedVec::truncate_from(answers);
	let signature = sp_runtime::RuntimeAppPublic::sign(
		worker,
		&crate::answers::answers_payload::<T>(worker, &answers),
	)
	.expect("the key is in the keystore; qed");
	(answers, signature)
}

/// The members of an assigned job.
fn members<T: Config>(job: JobId) -> Vec<WorkerId> {
	match Jobs::<T>::get(job).map(|job| job.state) {
		Some(JobState::Assigned { workers, .. }) => workers.into_inner(),
		_ => Vec::new(),
	}
}

fn submit_job<T: Config>(who: &T::AccountId, model: ModelHash, input: Payload<T>) -> JobId {
	submit_job_by::<T>(who, model, input, T::MaxDeadline::get())
}

fn submit_job_by<T: Config>(
	who: &T::AccountId,
	model: ModelHash,
	input: Payload<T>,
	deadline: BlockNumberFor<T>,
) -> JobId {
	let id = NextJobId::<T>::get();
	Pallet::<T>::submit(
		RawOrigin::Signed(who.clone()).into(),
		model,
		input,
		VerificationTerms::quorum(1),
		fee::<T>(&model),
		deadline,
	)
	.expect("the benchmark job is valid; qed");
	id
}

fn advance_to<T: Config>(block: BlockNumberFor<T>) {
	frame_system::Pallet::<T>::set_block_number(block);
	Pallet::<T>::record_parent_vrf();
}

fn assign_at<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number().saturating_add(T::AssignmentDelay::get().into())
}

/// `count` jobs, each of its own model and submitter, each drawn for the worker of its own
/// crowded operator (any slash chills all of the operator's workers), all expiring at the
/// block returned. A draw takes `MaxModelsPerBlock` models, so they are submitted over several
/// blocks, with deadlines that end together.
fn crowded_jobs<T: Config>(count: u32) -> (Vec<JobId>, BlockNumberFor<T>) {
	let models: Vec<ModelHash> = (0..count)
		.map(|index| {
			let model = model_numbered::<T>(index, small_schema());
			T::BenchmarkHelper::add_crowded_worker(model, index);
			model
		})
		.collect();
	T::BenchmarkHelper::make_eligible();
	let start = frame_system::Pallet::<T>::block_number();
	let mut jobs = Vec::new();
	let batches: Vec<&[ModelHash]> =
		models.chunks(T::MaxModelsPerBlock::get().max(1) as usize).collect();
	let last_draw = start
		.saturating_add((batches.len() as u32).into())
		.saturating_add(T::AssignmentDelay::get().into());
	let mut block = start;
	while block <= last_draw {
		advance_to::<T>(block);
		Pallet::<T>::assign_due(block);
		let batch = block.saturating_sub(start);
		let batch_index: usize = batch.unique_saturated_into();
		if let Some(models) = batches.get(batch_index) {
			for model in models.iter() {
				let index = jobs.len() as u32;
				let input = payload::<T>(&small_schema().inputs, 1);
				let deadline = T::MaxDeadline::get().saturating_sub(batch);
				jobs.push(submit_job_by::<T>(
					&submitter::<T>("user", index),
					*model,
					input,
					deadline,
				));
			}
		}
		block = block.saturating_add(1u32.into());
	}
	// New jobs take only part of a block's expiries; checks may fill the rest, so a block may
	// expire `MaxJobsPerBlock` jobs: move those whose deadline went later back into it.
	let due = start.saturating_add(T::MaxDeadline::get()).saturating_add(1u32.into());
	for job_id in &jobs {
		let Some(mut job) = Jobs::<T>::get(job_id) else { continue };
		let expiry = job.deadline.saturating_add(1u32.into());
		if expiry != due {
			ExpiryQueue::<T>::mutate(expiry, |queue| queue.retain(|queued| queued != job_id));
			ExpiryQueue::<T>::mutate(due, |queue| {
				queue.try_push(*job_id).expect("at most MaxJobsPerBlock jobs; qed")
			});
			job.deadline = due.saturating_sub(1u32.into());
			Jobs::<T>::insert(job_id, job);
		}
	}
	(jobs, due)
}

/// Starts a benchmark's set-up at block 1, where the harness runs the call anyway (it moves a
/// call from block 0 to block 1 so that events are kept): the call then finds the queues the
/// set-up filled for its block.
fn from_block_one<T: Config>() {
	if frame_system::Pallet::<T>::block_number().is_zero() {
		frame_system::Pallet::<T>::set_block_number(1u32.into());
	}
}

/// A worker's signed batch of `n` answers to jobs assigned to it, outputs of `b` bytes each:
/// the jobs of distinct submitters, spread over as many models as the worker serves (each with
/// its own owner).
/// A decided quorum of `k` members of crowded operators (a slash chills all of an operator's
/// workers) for a model of `schema`: all but the last `wrong` agree, those are found wrong,
/// and the result is held open to their appeal. Returns the job, its model and the last
/// member (a wrong one).
fn quorum_with_wrong_members<T: Config>(
	k: u32,
	wrong: u32,
	seed: u8,
	schema: &IoSchema,
) -> Result<(JobId, ModelHash, WorkerId), BenchmarkError> {
	let model = model_with::<T>(seed, schema.clone());
	for index in 0..k {
		T::BenchmarkHelper::add_crowded_worker(model, index);
	}
	T::BenchmarkHelper::make_eligible();
	let (jobs, _) = drawn_quorums::<T>(model, schema, k, 1);
	let job = jobs[0];
	let record = Jobs::<T>::get(job).ok_or("the quorum is drawn")?;
	let workers = members::<T>(job);
	let last = workers.last().cloned().ok_or("members")?;
	for (member, worker) in workers.iter().enumerate() {
		let fill = if member as u32 >= k.saturating_sub(wrong) { 4 } else { 3 };
		let finding = signed_finding::<T>(job, worker, schema, fill)?;
		Pallet::<T>::note_commitment(job, worker, member as u32, Default::default())?;
		Reveals::<T>::insert(job, member as u32, RevealedFinding::from(finding));
	}
	Pallet::<T>::decide_quorum(job, record)?;
	if !Provisionals::<T>::contains_key(job) {
		return Err("a quorum that slashed a member is open to appeal".into());
	}
	Ok((job, model, last))
}

/// A quorum job of a new model of `schema` (numbered `seed`), drawn as the largest quorum of
/// workers of distinct operators, then cut to `m` members (a decision works on any size).
/// Returns the job and its record.
fn quorum_cut_to<T: Config>(
	seed: u8,
	schema: &IoSchema,
	m: u32,
) -> Result<(JobId, Job<T>), BenchmarkError> {
	let k = largest_quorum::<T>();
	let model = model_with::<T>(seed, schema.clone());
	for index in 0..k {
		T::BenchmarkHelper::add_worker(&[model], index, 1);
	}
	T::BenchmarkHelper::make_eligible();
	let (jobs, _) = drawn_quorums::<T>(model, schema, k, 1);
	let job = jobs[0];
	Jobs::<T>::mutate(job, |record| {
		if let Some(record) = record {
			record.k = m;
			if let JobState::Assigned { workers, .. } = &mut record.state {
				workers.truncate(m as usize);
			}
		}
	});
	Quorums::<T>::mutate(job, |quorum| {
		if let Some(quorum) = quorum {
			quorum.commitments.truncate(m as usize);
		}
	});
	let record = Jobs::<T>::get(job).ok_or("the quorum is drawn")?;
	Ok((job, record))
}

/// Draws `job`'s three referees at `draw_at` and has each commit to and reveal an output of
/// `schema` filled with its entry of `fills`; returns the job's record, ready to be decided.
fn referees_reveal<T: Config>(
	job: JobId,
	draw_at: BlockNumberFor<T>,
	schema: &IoSchema,
	fills: [u8; 3],
) -> Result<Job<T>, BenchmarkError> {
	advance_to::<T>(draw_at);
	Pallet::<T>::draw_checks(draw_at);
	let referees = members::<T>(job);
	if referees.len() != 3 {
		return Err("three referees drawn".into());
	}
	for (member, (referee, fill)) in referees.iter().zip(fills).enumerate() {
		Pallet::<T>::note_commitment(job, referee, member as u32, Default::default())?;
		let finding = signed_finding::<T>(job, referee, schema, fill)?;
		Reveals::<T>::insert(job, member as u32, RevealedFinding::from(finding));
	}
	Ok(Jobs::<T>::get(job).ok_or("open")?)
}

/// `worker`'s output for `job` filled with `fill`, its receipt signed.
fn signed_finding<T: Config>(
	job: JobId,
	worker: &WorkerId,
	schema: &IoSchema,
	fill: u8,
) -> Result<Finding<T>, BenchmarkError> {
	let record = Jobs::<T>::get(job).ok_or("open")?;
	let output = payload::<T>(&schema.outputs, fill);
	let Payload::Inline(tensors) = &output else { return Err("inline".into()) };
	let hash = veritensor_primitives::output_hash(tensors);
	let receipt = Pallet::<T>::receipt(job, &record, hash, worker);
	let signature = receipt.sign().ok_or("the key is in the keystore")?;
	Ok(Finding::Output { output, signature })
}

/// Fills every block a check queued at `earliest` could slide to but the last, and every block
/// the deadline that follows could slide to: the longest search for room.
fn crowd_checks<T: Config>(earliest: BlockNumberFor<T>) -> BlockNumberFor<T> {
	let full = |base: u64| -> BoundedVec<JobId, T::MaxJobsPerBlock> {
		BoundedVec::truncate_from(
			(0..T::MaxJobsPerBlock::get() as u64).map(|i| base + i).collect::<Vec<_>>(),
		)
	};
	let slide = crate::audit::CHECK_SLIDE;
	for offset in 0..slide {
		CheckQueue::<T>::insert(earliest.saturating_add(offset.into()), full(1 << 40));
	}
	let draw_at = earliest.saturating_add(slide.into());
	let deadline = draw_at
		.saturating_add(T::CommitWindow::get().saturating_mul(2).into())
		.saturating_add(T::RevealWindow::get().into());
	for offset in 0..slide {
		let expiry = deadline.saturating_add(1u32.into()).saturating_add(offset.into());
		ExpiryQueue::<T>::insert(expiry, full(1 << 41));
	}
	draw_at
}

fn signed_answers<T: Config>(n: u32, b: u32) -> (WorkerId, AnswersOf<T>, WorkerSignature) {
	let schema = schema_of_bytes(8, b);
	let spread =
		n.min(T::BenchmarkHelper::max_models_per_worker()).min(T::MaxModelsPerBlock::get());
	let models: Vec<ModelHash> =
		(0..spread.max(1)).map(|index| model_numbered::<T>(index, schema.clone())).collect();
	let worker = T::BenchmarkHelper::add_worker(&models, 0, n);
	T::BenchmarkHelper::make_eligible();
	let at = assign_at::<T>();
	let jobs: Vec<JobId> = (0..n)
		.map(|index| {
			let model = models[index as usize % models.len()];
			let user = submitter::<T>("user", index);
			submit_job::<T>(&user, model, payload::<T>(&schema.inputs, 1))
		})
		.collect();
	advance_to::<T>(at);
	Pallet::<T>::assign_due(at);
	let answers: Vec<Submission<T>> = jobs
		.iter()
		.map(|job| {
			let record = Jobs::<T>::get(job).expect("assigned; qed");
			let output = payload::<T>(&schema.outputs, 3);
			let Payload::Inline(tensors) = &output else { unreachable!("inline; qed") };
			let output_hash = veritensor_primitives::output_hash(tensors);
			let receipt = Pallet::<T>::receipt(*job, &record, output_hash, &worker);
			let signature = receipt.sign().expect("the key is in the keystore; qed");
			Submission { job: *job, answer: Answer::Output { output, signature } }
		})
		.collect();
	let answers = BoundedVec::truncate_from(answers);
	let signature = sp_runtime::RuntimeAppPublic::sign(
		&worker,
		&crate::answers::answers_payload::<T>(&worker, &answers),
	)
	.expect("the key is in the keystore; qed");
	(worker, answers, signature)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn submit(
		b: Linear<8, { max_side_bytes::<T>() }>,
		d: Linear<0, MAX_LATER_DRAWS>,
		e: Linear<0, { crate::audit::CHECK_SLIDE }>,
	) {
		// An input of `b` bytes; the count of eligible operators is already made in this block.
		// The first `d` draws the job may go to are full of models, and the next has its queue
		// one short of full: each is read whole and the full ones passed over. Likewise the
		// first `e` blocks its expiry may go to are full, and the next one short of the share
		// new jobs may take.
		from_block_one::<T>();
		let schema = schema_of_bytes(b, 8);
		let model = model_with::<T>(0xbe, schema.clone());
		T::BenchmarkHelper::add_worker(&[model], 0, 4);
		T::BenchmarkHelper::make_eligible();
		let user = funded::<T>("user");
		submit_job::<T>(&user, model, payload::<T>(&schema.inputs, 1));
		let d = d.min(Pallet::<T>::later_draws_allowed(T::MaxDeadline::get(), false));
		let first = assign_at::<T>();
		let last = first.saturating_add(d.into());
		let mut at = first;
		while at <= last {
			let mut queue = AssignmentQueue::<T>::get(at).into_inner();
			queue.extend(1_000_000..1_000_000 + T::MaxJobsPerBlock::get() as u64);
			queue.truncate(T::MaxJobsPerBlock::get() as usize - 1);
			AssignmentQueue::<T>::insert(at, BoundedVec::truncate_from(queue));
			// Other models only, so that the job's own model needs a slot of its own.
			let others = if at < last {
				T::MaxModelsPerBlock::get()
			} else {
				T::MaxModelsPerBlock::get().saturating_sub(1)
			};
			let models: Vec<(ModelHash, u32)> =
				(0..others).map(|index| (ModelHash::repeat_byte(index as u8), 1)).collect();
			AssignmentModels::<T>::insert(at, BoundedVec::truncate_from(models));
			at.saturating_inc();
		}
		let asked = frame_system::Pallet::<T>::block_number().saturating_add(T::MaxDeadline::get());
		for offset in 0..=e {
			let expiry = asked.saturating_add(1u32.into()).saturating_add(offset.into());
			let mut queue = ExpiryQueue::<T>::get(expiry).into_inner();
			queue.extend(2_000_000..2_000_000 + T::MaxJobsPerBlock::get() as u64);
			let length = if offset < e {
				T::MaxJobsPerBlock::get()
			} else {
				crate::audit::submission_expiries::<T>().saturating_sub(1)
			};
			queue.truncate(length as usize);
			ExpiryQueue::<T>::insert(expiry, BoundedVec::truncate_from(queue));
		}
		let input = payload::<T>(&schema.inputs, 2);
		let max_fee = fee::<T>(&model);

		#[extrinsic_call]
		_(
			RawOrigin::Signed(user),
			model,
			input,
			VerificationTerms::single(),
			max_fee,
			T::MaxDeadline::get(),
		);

		assert_eq!(NextJobId::<T>::get(), 2);
		let job = Jobs::<T>::get(1).expect("the job was submitted");
		assert_eq!(job.state, JobState::Queued { assign_at: last });
		assert_eq!(job.deadline, asked.saturating_add(e.into()));
	}

	#[benchmark]
	fn count_eligible() {
		// A full candidate set of distinct operators.
		let model = model_with::<T>(0xc0, small_schema());
		let most = <T::Workers as WorkerStaking<_, _>>::MaxCandidates::get();
		for index in 0..most {
			T::BenchmarkHelper::add_worker(&[model], index, 1);
		}
		T::BenchmarkHelper::make_eligible();
		let counted;

		#[block]
		{
			counted = Pallet::<T>::eligible_operators(&model);
		}

		assert_eq!(counted, (most, true));
	}

	#[benchmark]
	fn cancel() {
		// The job sits last in full queues (its expiry's full as far as new jobs may fill it),
		// its model last among the draw's models.
		let model = model_with::<T>(0xca, small_schema());
		T::BenchmarkHelper::add_worker(&[model], 0, 1);
		T::BenchmarkHelper::make_eligible();
		let user = funded::<T>("user");
		let at = assign_at::<T>();
		let expire_at = frame_system::Pallet::<T>::block_number()
			.saturating_add(T::MaxDeadline::get())
			.saturating_add(1u32.into());
		let filler: Vec<JobId> =
			(1_000_000..1_000_000 + T::MaxJobsPerBlock::get() as u64 - 1).collect();
		AssignmentQueue::<T>::insert(at, BoundedVec::truncate_from(filler.clone()));
		let expiries = crate::audit::submission_expiries::<T>().saturating_sub(1) as usize;
		ExpiryQueue::<T>::insert(expire_at, BoundedVec::truncate_from(filler[..expiries].to_vec()));
		let other_models: Vec<(ModelHash, u32)> = (0..T::MaxModelsPerBlock::get() - 1)
			.map(|index| (ModelHash::repeat_byte(index as u8), 1))
			.collect();
		AssignmentModels::<T>::insert(at, BoundedVec::truncate_from(other_models));
		let job = submit_job::<T>(&user, model, payload::<T>(&small_schema().inputs, 1));
		assert_eq!(ExpiryQueue::<T>::get(expire_at).last(), Some(&job));

		#[extrinsic_call]
		_(RawOrigin::Signed(user), job);

		assert!(Jobs::<T>::get(job).is_none());
		assert!(AssignmentModels::<T>::get(at).iter().all(|(queued, _)| *queued != model));
	}

	#[benchmark]
	fn submit_results(
		n: Linear<1, { T::MaxResultsPerCall::get() }>,
		b: Linear<8, { max_side_bytes::<T>() }>,
	) {
		// The block has an author, as on a chain: a protocol fee accrued here pays its share.
		T::BenchmarkHelper::set_block_author();
		// `n` settlements of outputs of `b` bytes, each with its receipt checked.
		let (worker, answers, signature) = signed_answers::<T>(n, b);
		let jobs: Vec<JobId> = answers.iter().map(|answer| answer.job).collect();
		// The queues' last chunks have room for one entry: the batch fills them and starts the
		// next ones.
		fill_queues_but_one::<T>();

		#[extrinsic_call]
		_(RawOrigin::Authorized, worker, answers, signature);

		assert!(jobs.iter().all(Results::<T>::contains_key));
	}

	#[benchmark]
	fn authorize_submit_results(
		n: Linear<1, { T::MaxResultsPerCall::get() }>,
		b: Linear<8, { max_side_bytes::<T>() }>,
	) -> Result<(), BenchmarkError> {
		// The pool's check of a batch of `n` outputs of `b` bytes: the batch signature, then
		// each job, output and receipt.
		let (worker, answers, signature) = signed_answers::<T>(n, b);
		let call = Call::<T>::submit_results { worker, answers, signature };

		#[block]
		{
			use frame_support::traits::Authorize;
			call.authorize(TransactionSource::External)
				.ok_or("the call authorizes itself")?
				.map_err(|_| "a valid batch")?;
		}

		Ok(())
	}

	#[benchmark]
	fn claim() {
		let who = funded::<T>("earner");
		let amount = T::Currency::minimum_balance().saturating_mul(10u32.into());
		T::Currency::mint_into(&Pallet::<T>::pot(), amount).expect("minting works; qed");
		Claimable::<T>::insert(&who, amount);

		#[extrinsic_call]
		_(RawOrigin::Signed(who.clone()), who.clone());

		assert!(Claimable::<T>::get(&who).is_none());
	}

	#[benchmark]
	fn on_initialize_base() {
		// Nothing due, but a result in the prune queue and a provisional result that are not
		// due yet: read every block.
		let now = frame_system::Pallet::<T>::block_number();
		// Each in a full chunk, so that reading it costs what it can. (While a chain upgraded
		// with results queued one entry per job still has some, the hooks read the first of
		// those instead of the chunks: one read less.)
		fill_queues_but_one::<T>();
		Pallet::<T>::queue_for_pruning(0, now.saturating_add(1u32.into()));
		Pallet::<T>::queue_for_finalizing(0, now.saturating_add(1u32.into()));

		#[block]
		{
			Pallet::<T>::on_block(now);
		}
	}

	#[benchmark]
	fn expire_jobs(n: Linear<1, { T::MaxJobsPerBlock::get().min(256) }>) {
		// Every job's worker is slashed for a no-show, and the slash chills every worker of its
		// crowded operator; each job has its own model and submitter. Each job's work is the
		// same, so the weight grows linearly up to the `MaxJobsPerBlock` a block may expire;
		// measuring up to 256 keeps the set-up (16 workers an operator) within minutes.
		let (jobs, due) = crowded_jobs::<T>(n);
		assert!(jobs.iter().all(|job| {
			matches!(Jobs::<T>::get(job).map(|job| job.state), Some(JobState::Assigned { .. }))
		}));
		frame_system::Pallet::<T>::set_block_number(due);

		#[block]
		{
			Pallet::<T>::expire_due(due);
		}

		assert!(jobs.iter().all(|job| !Jobs::<T>::contains_key(job)));
	}

	#[benchmark]
	fn assign_jobs(n: Linear<1, { T::MaxJobsPerBlock::get() }>) {
		// `n` jobs drawn from a full candidate set (one model's candidates read once).
		let model = model_with::<T>(0xa5, small_schema());
		let most = <T::Workers as WorkerStaking<_, _>>::MaxCandidates::get();
		let capacity = n.div_ceil(most).max(1);
		for index in 0..most {
			T::BenchmarkHelper::add_worker(&[model], index, capacity);
		}
		T::BenchmarkHelper::make_eligible();
		let user = funded::<T>("user");
		let at = assign_at::<T>();
		let jobs: Vec<JobId> = (0..n)
			.map(|_| submit_job::<T>(&user, model, payload::<T>(&small_schema().inputs, 1)))
			.collect();
		advance_to::<T>(at);

		#[block]
		{
			Pallet::<T>::assign_due(at);
		}

		assert!(jobs.iter().all(|job| {
			matches!(Jobs::<T>::get(job).map(|job| job.state), Some(JobState::Assigned { .. }))
		}));
	}

	#[benchmark]
	fn prune_results(n: Linear<1, { T::MaxPrunedPerBlock::get() }>) {
		// `n` results with the largest outputs, all past retention.
		let schema = largest_schema::<T>();
		let worker = WorkerId::from(sp_core::sr25519::Public::from_raw([7; 32]));
		let settled = frame_system::Pallet::<T>::block_number();
		let due = settled.saturating_add(T::ResultRetention::get());
		for job in 0..n as u64 {
			Pallet::<T>::queue_for_pruning(job, settled);
			Results::<T>::insert(
				job,
				JobResult {
					model: ModelHash::repeat_byte(1),
					worker: worker.clone(),
					output: payload::<T>(&schema.outputs, 4),
					output_hash: Default::default(),
					signature: sp_core::sr25519::Signature::from_raw([0; 64]),
					single_worker: true,
					settled_at: frame_system::Pallet::<T>::block_number(),
				},
			);
		}
		// The next result, settled a block later, ends the work (when `n` is below the limit).
		Pallet::<T>::queue_for_pruning(n as u64, settled.saturating_add(1u32.into()));
		NextJobId::<T>::put(n as u64 + 1);
		frame_system::Pallet::<T>::set_block_number(due);

		#[block]
		{
			Pallet::<T>::prune_results(due);
		}

		let left = crate::hooks::PruneQueueOf::<T>::entries().map(|entries| entries.len());
		assert_eq!(left, Ok(1));
		assert!(Results::<T>::iter().next().is_none());
	}

	#[benchmark]
	fn submit_commits(n: Linear<1, { T::MaxResultsPerCall::get() }>) {
		// A member's commitments to `n` quorums of three, in one batch.
		let (worker, jobs, _) = committed_quorums::<T>(n, 8, false);
		let answers: Vec<Submission<T>> = jobs
			.iter()
			.map(|job| Submission {
				job: *job,
				answer: Answer::Commit { commitment: sp_core::H256::repeat_byte(7) },
			})
			.collect();
		let (answers, signature) = signed_batch::<T>(&worker, answers);

		#[extrinsic_call]
		submit_results(RawOrigin::Authorized, worker.clone(), answers, signature);

		assert!(jobs.iter().all(|job| {
			Quorums::<T>::get(job).is_some_and(|quorum| quorum.commitments[0].is_some())
		}));
	}

	#[benchmark]
	fn authorize_commits(
		n: Linear<1, { T::MaxResultsPerCall::get() }>,
	) -> Result<(), BenchmarkError> {
		// The pool's check of a batch of `n` commitments: the batch signature, then each job.
		let (worker, jobs, _) = committed_quorums::<T>(n, 8, false);
		let answers: Vec<Submission<T>> = jobs
			.iter()
			.map(|job| Submission {
				job: *job,
				answer: Answer::Commit { commitment: sp_core::H256::repeat_byte(7) },
			})
			.collect();
		let (answers, signature) = signed_batch::<T>(&worker, answers);
		let call = Call::<T>::submit_results { worker, answers, signature };

		#[block]
		{
			use frame_support::traits::Authorize;
			call.authorize(TransactionSource::External)
				.ok_or("the call authorizes itself")?
				.map_err(|_| "a valid batch")?;
		}

		Ok(())
	}

	#[benchmark]
	fn submit_reveals(
		n: Linear<1, { T::MaxResultsPerCall::get() }>,
		b: Linear<8, { max_side_bytes::<T>() }>,
	) {
		// A member's reveals of outputs of `b` bytes to `n` quorums of three whose reveals are
		// open, in one batch; each checked against its commitment, the schema and its receipt,
		// and kept (no quorum decided: the other members have not revealed).
		let (worker, jobs, reveals) = committed_quorums::<T>(n, b, true);
		let (answers, signature) = signed_batch::<T>(&worker, reveals);

		#[extrinsic_call]
		submit_results(RawOrigin::Authorized, worker.clone(), answers, signature);

		assert!(jobs.iter().all(|job| Reveals::<T>::contains_key(job, 0)));
	}

	#[benchmark]
	fn decide_quorum(m: Linear<3, { largest_quorum::<T>() }>) -> Result<(), BenchmarkError> {
		// The block has an author, as on a chain: a protocol fee accrued here pays its share.
		T::BenchmarkHelper::set_block_author();
		// A quorum of `m` members, every member revealed a small output; a bare majority
		// agrees, the others are found wrong: the result stored and held open to their appeal
		// with every wrong member's finding. (All agreeing, each is paid at once instead: that
		// path measured 0.21 ms + 45 µs per member, 11 + 4m reads and 15 + 4m writes, below
		// this one at every size.) The comparison of larger outputs is `compare_outputs`, once
		// per pair.
		let schema = schema_of_bytes(8, 8);
		let (job, record) = quorum_cut_to::<T>(0xd0, &schema, m)?;
		let majority = m / 2 + 1;
		for (member, worker) in members::<T>(job).iter().enumerate() {
			let fill = if (member as u32) < majority { 3 } else { 4 };
			let finding = signed_finding::<T>(job, worker, &schema, fill)?;
			Pallet::<T>::note_commitment(job, worker, member as u32, Default::default())?;
			Reveals::<T>::insert(job, member as u32, RevealedFinding::from(finding));
		}

		#[block]
		{
			Pallet::<T>::decide_quorum(job, record)?;
		}

		assert!(Results::<T>::contains_key(job));
		assert_eq!(Parties::<T>::iter_prefix(job).count() as u32, m - majority + 1);
		Ok(())
	}

	#[benchmark]
	fn escalate_quorum(m: Linear<3, { largest_quorum::<T>() }>) -> Result<(), BenchmarkError> {
		// A quorum of `m` members that all revealed different small outputs: no majority, so
		// every finding is kept for referees, whose draw and deadline search the longest for a
		// block with room (every block but the last the slide reaches is full). (Drawn as the
		// largest quorum, then cut to `m` members.)
		let schema = small_schema();
		let (job, record) = quorum_cut_to::<T>(0xe5, &schema, m)?;
		for (member, worker) in members::<T>(job).iter().enumerate() {
			let finding = signed_finding::<T>(job, worker, &schema, 3 + member as u8)?;
			Pallet::<T>::note_commitment(job, worker, member as u32, Default::default())?;
			Reveals::<T>::insert(job, member as u32, RevealedFinding::from(finding));
		}
		// The job's old place in the expiry queue is given up from a full queue.
		let old_expiry = record.deadline.saturating_add(1u32.into());
		ExpiryQueue::<T>::mutate(old_expiry, |queue| {
			let mut others = (1u64 << 42)..;
			while queue.len() < T::MaxJobsPerBlock::get() as usize {
				let _ = queue.try_push(others.next().unwrap_or_default());
			}
		});
		let now = frame_system::Pallet::<T>::block_number();
		let draw_at =
			crowd_checks::<T>(now.saturating_add(crate::audit::decision_delay::<T>().into()));

		#[block]
		{
			Pallet::<T>::decide_quorum(job, record)?;
		}

		assert_eq!(
			Jobs::<T>::get(job).map(|record| record.state),
			Some(JobState::Escalated { draw_at })
		);
		assert_eq!(Parties::<T>::iter_prefix(job).count() as u32, m);
		assert!(!ExpiryQueue::<T>::get(old_expiry).contains(&job));
		Ok(())
	}

	#[benchmark]
	fn compare_outputs(b: Linear<8, { max_side_bytes::<T>() }>) -> Result<(), BenchmarkError> {
		// One comparison of two outputs of `b` bytes that agree, element by element (a
		// tolerance on every tensor: the costliest rule, read to the last element).
		let schema = schema_of_bytes(8, b);
		let rule =
			veritensor_primitives::ComparisonRule::PerOutput(BoundedVec::truncate_from(vec![
				veritensor_primitives::OutputRule::Tolerance { agree: 0, slash: 0 };
				schema.outputs.len()
			]));
		let (Payload::Inline(x), Payload::Inline(y)) =
			(payload::<T>(&schema.outputs, 3), payload::<T>(&schema.outputs, 3))
		else {
			return Err("inline".into());
		};
		let closeness;

		#[block]
		{
			closeness = veritensor_primitives::quorum::compare(&rule, &x, &y);
		}

		assert_eq!(closeness, veritensor_primitives::quorum::Closeness::Agree);
		Ok(())
	}

	#[benchmark]
	fn end_commit_windows(n: Linear<1, { T::MaxJobsPerBlock::get().min(64) }>) {
		// `n` quorums of three whose first member never committed: each is slashed as a
		// no-show, and replaced by a fresh draw from a full candidate set. Each quorum's work is
		// the same, so the weight grows linearly up to the `MaxJobsPerBlock` a block may end;
		// measuring up to 64 keeps the set-up within minutes.
		let k = 3.min(largest_quorum::<T>());
		let model = model_with::<T>(0xce, small_schema());
		let most = <T::Workers as WorkerStaking<_, _>>::MaxCandidates::get();
		for index in 0..most {
			T::BenchmarkHelper::add_worker(&[model], index, n);
		}
		T::BenchmarkHelper::make_eligible();
		let (jobs, at) = drawn_quorums::<T>(model, &small_schema(), k, n);
		for job in &jobs {
			for (member, worker) in members::<T>(*job).iter().enumerate().skip(1) {
				Pallet::<T>::note_commitment(*job, worker, member as u32, Default::default())
					.expect("a member; qed");
			}
		}
		let end = at.saturating_add(T::CommitWindow::get().into());
		advance_to::<T>(end);

		#[block]
		{
			Pallet::<T>::end_commit_windows(end);
		}

		assert!(jobs.iter().all(|job| Quorums::<T>::get(job).is_some_and(|q| q.replaced)));
	}

	#[benchmark]
	fn draw_checks(n: Linear<1, { T::MaxJobsPerBlock::get().min(64) }>) {
		// `n` split quorums of three escalated to referees, each drawing three referees of
		// operators other than its parties' from a full candidate set: a referee draw picks
		// three workers where an audit's picks one, so it is the costlier check.
		let model = model_with::<T>(0xa7, small_schema());
		let most = <T::Workers as WorkerStaking<_, _>>::MaxCandidates::get();
		for index in 0..most {
			T::BenchmarkHelper::add_worker(&[model], index, n);
		}
		T::BenchmarkHelper::make_eligible();
		let (jobs, _) = drawn_quorums::<T>(model, &small_schema(), 3, n);
		for job in &jobs {
			let record = Jobs::<T>::get(job).expect("drawn; qed");
			let parties = members::<T>(*job)
				.into_iter()
				.map(|worker| {
					(
						worker,
						RevealedFinding::CannotExecute { reason: CannotExecuteReason::BadInput },
					)
				})
				.collect();
			for worker in members::<T>(*job) {
				WorkerJobs::<T>::remove(&worker, job);
			}
			Pallet::<T>::escalate(*job, record, RefereeCause::QuorumSplit, parties)
				.expect("escalated; qed");
		}
		let at = frame_system::Pallet::<T>::block_number()
			.saturating_add(crate::audit::decision_delay::<T>().into());
		advance_to::<T>(at);

		#[block]
		{
			Pallet::<T>::draw_checks(at);
		}

		assert!(jobs.iter().all(|job| members::<T>(*job).len() == REFEREES as usize));
	}

	#[benchmark]
	fn end_disputes(
		n: Linear<1, { T::MaxDisputeEndsPerBlock::get().min(T::MaxJobsPerBlock::get()) }>,
	) {
		// `n` disputed quorums of the largest size whose every member is slashed: each slash
		// applied, each job refunded.
		let k = largest_quorum::<T>();
		let model = model_with::<T>(0xde, small_schema());
		for index in 0..k {
			T::BenchmarkHelper::add_worker(&[model], index, n);
		}
		T::BenchmarkHelper::make_eligible();
		let (jobs, at) = drawn_quorums::<T>(model, &small_schema(), k, n);
		let exposure = T::Workers::max_exposure();
		for job in &jobs {
			let workers = members::<T>(*job);
			Quorums::<T>::remove(job);
			for worker in &workers {
				WorkerJobs::<T>::remove(worker, job);
			}
			Jobs::<T>::mutate(job, |record| {
				if let Some(record) = record {
					record.state = JobState::Disputed { until: at };
				}
			});
			let verdicts: Vec<_> = workers
				.iter()
				.map(|worker| (worker.clone(), veritensor_primitives::quorum::Verdict::Wrong))
				.collect();
			Decisions::<T>::insert(
				job,
				QuorumDecision {
					decided_at: at,
					canonical: None,
					verdicts: BoundedVec::truncate_from(verdicts),
					slash: exposure,
					dispute_end: at,
				},
			);
			Pallet::<T>::queue_for_pruning(*job, at);
			Pallet::<T>::queue_dispute_end(*job);
		}

		#[block]
		{
			Pallet::<T>::end_disputes(at);
		}

		assert!(jobs.iter().all(|job| !Jobs::<T>::contains_key(job)));
	}

	#[benchmark]
	fn challenge() {
		// The block has an author, as on a chain: a protocol fee accrued here pays its share.
		T::BenchmarkHelper::set_block_author();
		// A provisional result with the largest outputs; every block its referees' draw could
		// take is full but the last the slide reaches, and so is every block their deadline
		// could take.
		let (worker, answers, signature) = signed_answers::<T>(1, max_side_bytes::<T>());
		let job = answers[0].job;
		Pallet::<T>::submit_results(RawOrigin::Authorized.into(), worker, answers, signature)
			.expect("a valid answer; qed");
		assert!(Provisionals::<T>::contains_key(job));
		let now = frame_system::Pallet::<T>::block_number();
		let draw_at =
			crowd_checks::<T>(now.saturating_add(crate::audit::decision_delay::<T>().into()));
		let challenger = funded::<T>("challenger");

		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), job, sp_core::H256::repeat_byte(0xcc));

		assert_eq!(
			Jobs::<T>::get(job).map(|record| record.state),
			Some(JobState::Escalated { draw_at })
		);
	}

	#[benchmark]
	fn decide_challenge() -> Result<(), BenchmarkError> {
		// The block has an author, as on a chain: a protocol fee accrued here pays its share.
		T::BenchmarkHelper::set_block_author();
		// A challenged provisional result of a crowded operator's worker (its slash chills all
		// of the operator's workers); two referees agree on another output, the third (a
		// crowded operator's too) differs: the worker's operator and the odd referee slashed,
		// the agreeing referees paid from the bounty and the deposit, the submitter refunded,
		// the result replaced. Small outputs: their comparisons are `compare_outputs`.
		let schema = small_schema();
		let model = model_with::<T>(0xdc, schema.clone());
		let cheat = T::BenchmarkHelper::add_crowded_worker(model, 0);
		T::BenchmarkHelper::make_eligible();
		let user = funded::<T>("user");
		let job = submit_job::<T>(&user, model, payload::<T>(&schema.inputs, 1));
		let at = assign_at::<T>();
		advance_to::<T>(at);
		Pallet::<T>::assign_due(at);
		if members::<T>(job) != vec![cheat.clone()] {
			return Err("the only eligible worker is drawn".into());
		}
		let Finding::Output { output, signature } = signed_finding::<T>(job, &cheat, &schema, 3)?
		else {
			return Err("an output".into());
		};
		let (answers, batch) = signed_batch::<T>(
			&cheat,
			vec![Submission { job, answer: Answer::Output { output, signature } }],
		);
		Pallet::<T>::submit_results(RawOrigin::Authorized.into(), cheat, answers, batch)
			.map_err(|_| "a valid answer")?;
		for index in 1..=3 {
			T::BenchmarkHelper::add_crowded_worker(model, index);
		}
		T::BenchmarkHelper::make_eligible();
		let challenger = funded::<T>("challenger");
		Pallet::<T>::challenge(
			RawOrigin::Signed(challenger).into(),
			job,
			sp_core::H256::repeat_byte(0xcc),
		)?;
		let Some(JobState::Escalated { draw_at }) = Jobs::<T>::get(job).map(|record| record.state)
		else {
			return Err("challenged".into());
		};
		let record = referees_reveal::<T>(job, draw_at, &schema, [4, 4, 5])?;

		#[block]
		{
			Pallet::<T>::decide_quorum(job, record)?;
		}

		assert!(Overturned::<T>::contains_key(job));
		Ok(())
	}

	#[benchmark]
	fn appeal() -> Result<(), BenchmarkError> {
		// The block has an author, as on a chain: a protocol fee accrued here pays its share.
		T::BenchmarkHelper::set_block_author();
		// The largest quorum, with the largest outputs, found its two last members wrong; the
		// last appeals (its output hashed). Every block its referees' draw could take is full
		// but the last the slide reaches, and so is every block their deadline could take.
		let k = largest_quorum::<T>();
		let schema = schema_of_bytes(8, max_side_bytes::<T>());
		let (job, _, wrong) = quorum_with_wrong_members::<T>(k, (k - 1) / 2, 0xa1, &schema)?;
		let operator = T::Workers::operator(&wrong).ok_or("registered")?;
		T::Currency::set_balance(&operator, BalanceOf::<T>::max_value() / 1024u32.into());
		let now = frame_system::Pallet::<T>::block_number();
		let draw_at =
			crowd_checks::<T>(now.saturating_add(crate::audit::decision_delay::<T>().into()));

		#[extrinsic_call]
		_(RawOrigin::Signed(operator), job, wrong);

		assert_eq!(
			Jobs::<T>::get(job).map(|record| record.state),
			Some(JobState::Escalated { draw_at })
		);
		Ok(())
	}

	#[benchmark]
	fn decide_appeal() -> Result<(), BenchmarkError> {
		// The block has an author, as on a chain: a protocol fee accrued here pays its share.
		T::BenchmarkHelper::set_block_author();
		// The largest quorum of crowded operators' workers, its last member found wrong and
		// appealing; two referees agree on a third output, the third referee differs: every
		// member slashed (the majority for the overturned output, the appellant for its own),
		// and the odd referee too, each chilling all of its operator's workers; the agreeing
		// referees paid, the submitter refunded, the result replaced. Small outputs: their
		// comparisons are `compare_outputs`.
		let k = largest_quorum::<T>();
		let (job, model, wrong) = quorum_with_wrong_members::<T>(k, 1, 0xa2, &small_schema())?;
		for index in 0..3 {
			T::BenchmarkHelper::add_crowded_worker(model, k + index);
		}
		T::BenchmarkHelper::make_eligible();
		let operator = T::Workers::operator(&wrong).ok_or("registered")?;
		T::Currency::set_balance(&operator, BalanceOf::<T>::max_value() / 1024u32.into());
		Pallet::<T>::appeal(RawOrigin::Signed(operator).into(), job, wrong)?;
		let Some(JobState::Escalated { draw_at }) = Jobs::<T>::get(job).map(|record| record.state)
		else {
			return Err("appealed".into());
		};
		let record = referees_reveal::<T>(job, draw_at, &small_schema(), [5, 5, 6])?;

		#[block]
		{
			Pallet::<T>::decide_quorum(job, record)?;
		}

		assert!(Overturned::<T>::contains_key(job));
		Ok(())
	}

	#[benchmark]
	fn finalize_results(n: Linear<1, { T::MaxPrunedPerBlock::get() }>) {
		// `n` provisional results of one worker, due now, of one model, one payee and one
		// owner: each one's earnings accrued, its input dropped, its model released.
		let now = provisionals_due::<T>(n, 1, 1, false);

		#[block]
		{
			Pallet::<T>::finalize_due(now);
		}

		assert!(Provisionals::<T>::iter().next().is_none());
		// The payee, the owner, the block's author and the treasury.
		assert_eq!(Claimable::<T>::iter().count(), 4);
	}

	#[benchmark]
	fn accrue_earnings(a: Linear<1, { 2 * T::MaxPrunedPerBlock::get() }>) {
		// Earnings accrued to `a` accounts, once each (a block's results of one payee or owner
		// write its claim once).
		let amount = T::Currency::minimum_balance();
		let accounts: Vec<T::AccountId> = (0..a).map(|index| account("earner", index, 0)).collect();

		#[block]
		{
			for who in &accounts {
				Pallet::<T>::accrue(who, amount);
			}
		}

		assert_eq!(Claimable::<T>::iter().count() as u32, a);
	}

	#[benchmark]
	fn release_models(m: Linear<1, { T::MaxPrunedPerBlock::get() }>) {
		// A job of each of `m` models ends: each model's count of open jobs is written (a
		// block's results of one model write it once).
		let models: Vec<ModelHash> =
			(0..m).map(|index| model_numbered::<T>(index, small_schema())).collect();
		for model in &models {
			T::Models::acquire(model).expect("a listed model takes jobs; qed");
		}

		#[block]
		{
			for model in &models {
				T::Models::release(model);
			}
		}

		assert!(models.iter().all(|model| T::Models::open_jobs(model) == Some(0)));
	}

	#[benchmark]
	fn finalize_quorum_results(q: Linear<1, { T::MaxPrunedPerBlock::get() }>) {
		// `q` provisional results of the largest quorum, due now, each of its own model: each
		// one's earnings accrued to every member's payee and its own owner, its input dropped,
		// its model released and the findings kept for an appeal forgotten.
		let largest = T::MaxWorkersPerJob::get();
		let now = provisionals_due::<T>(q, largest, q, true);

		#[block]
		{
			Pallet::<T>::finalize_due(now);
		}

		assert!(Provisionals::<T>::iter().next().is_none());
		assert!(Parties::<T>::iter().next().is_none());
		assert_eq!(Claimable::<T>::iter().count() as u32, q * largest + q + 2);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
