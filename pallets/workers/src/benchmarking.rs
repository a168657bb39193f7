//! Benchmarks of every call and of the two interface functions the job market leans on
//! (`slash` and the candidate query), each in its worst case: operators with every worker slot
//! in use, every unbonding chunk in use, workers serving the most models, and model sets as full
//! as their storage allows (every seat taken by a serving worker of its own operator, and as many
//! workers again on their way out), so that taking a seat reads every entry and every seated
//! operator's ledger, evicts a serving worker and drops a leaving one early, in every model.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{fungible::Mutate, Get};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::{
	traits::{One, Saturating, Zero},
	RuntimeAppPublic,
};
use veritensor_primitives::{
	possession_payload,
	traits::{SlashAmount, SlashReason},
	ModelHash, WorkerId, WorkerSignature,
};

fn max_workers_per_operator<T: Config>() -> u32 {
	T::MaxWorkersPerOperator::get()
}

/// Enough for an operator to bond for every worker slot at full capacity, twice over.
fn endowment<T: Config>() -> BalanceOf<T> {
	let slots: BalanceOf<T> =
		(T::MaxCapacity::get().saturating_mul(max_workers_per_operator::<T>())).into();
	T::MaxAssignmentSlash::get()
		.saturating_mul(slots)
		.saturating_add(T::MinOperatorBond::get())
		.saturating_mul(4u32.into())
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
	let who: T::AccountId = account(name, index, 0);
	T::Currency::set_balance(&who, endowment::<T>());
	who
}

fn bonded<T: Config>(name: &'static str, index: u32, value: BalanceOf<T>) -> T::AccountId {
	let operator = funded::<T>(name, index);
	Pallet::<T>::bond(RawOrigin::Signed(operator.clone()).into(), value)
		.expect("funded for the bond; qed");
	operator
}

/// Bond that covers `workers` workers of capacity `capacity` and the minimum.
fn bond_for<T: Config>(workers: u32, capacity: u32) -> BalanceOf<T> {
	let slots: BalanceOf<T> = workers.saturating_mul(capacity).into();
	T::MaxAssignmentSlash::get().saturating_mul(slots).max(T::MinOperatorBond::get())
}

fn model(index: u32) -> ModelHash {
	let mut bytes = [0xb0; 32];
	bytes[..4].copy_from_slice(&index.to_le_bytes());
	ModelHash::from(bytes)
}

/// `count` listed models starting at `first`.
fn listed_models<T: Config>(first: u32, count: u32) -> ServedModels<T> {
	let models: Vec<ModelHash> = (first..first + count).map(model).collect();
	for hash in &models {
		T::BenchmarkHelper::list_model(*hash);
	}
	models.try_into().expect("at most MaxModelsPerWorker; qed")
}

fn proof<T: Config>(key: &WorkerId, operator: &T::AccountId) -> WorkerSignature {
	let genesis = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
	key.sign(&possession_payload(operator, &genesis)).expect("the key is in the keystore; qed")
}

fn registered_worker<T: Config>(
	operator: &T::AccountId,
	models: &ServedModels<T>,
	capacity: u32,
) -> WorkerId {
	let key = WorkerId::generate_pair(None);
	Pallet::<T>::register(
		RawOrigin::Signed(operator.clone()).into(),
		key.clone(),
		proof::<T>(&key, operator),
		models.clone(),
		capacity,
	)
	.expect("the benchmark set-up registers valid workers; qed");
	key
}

fn advance<T: Config>(blocks: BlockNumberFor<T>) {
	let now = frame_system::Pallet::<T>::block_number();
	frame_system::Pallet::<T>::set_block_number(now.saturating_add(blocks));
}

fn past_delay<T: Config>() {
	advance::<T>(T::EligibilityDelay::get());
}

/// An operator with `MaxWorkersPerOperator - 1` workers of capacity one serving a model of
/// their own, so that checking its bond reads every other worker. Its stake is above the
/// minimum, so that its workers outrank those of [`fill_full_sets`] once the delay has passed.
fn crowded_operator<T: Config>(extra_capacity: u32) -> T::AccountId {
	let others = max_workers_per_operator::<T>() - 1;
	let bond = bond_for::<T>(others + extra_capacity, 1).saturating_add(T::MinOperatorBond::get());
	let operator = bonded::<T>("operator", 0, bond);
	// Each on a model of its own: one model takes only a few of an operator's workers.
	for index in 0..others {
		registered_worker::<T>(&operator, &listed_models::<T>(1_000 + index, 1), 1);
	}
	operator
}

/// A worker of a crowded operator serving the most models, with answers counted on each, and
/// as many other models: the sets of both full. Returns the operator, the worker, its models and
/// the others.
fn worker_among_full_sets<T: Config>() -> (T::AccountId, WorkerId, ServedModels<T>, ServedModels<T>)
{
	let operator = crowded_operator::<T>(1);
	let most = T::MaxModelsPerWorker::get();
	let (old, new) = (listed_models::<T>(0, most), listed_models::<T>(most, most));
	fill_full_sets::<T>(&[&old[..], &new[..]].concat());
	let key = registered_worker::<T>(&operator, &old, 1);
	counted_answers::<T>(&key, &old);
	past_delay::<T>();
	(operator, key, old, new)
}

/// Gives `key` counted answers on each of `models`, so that leaving them forgets its counts.
fn counted_answers<T: Config>(key: &WorkerId, models: &[ModelHash]) {
	for model in models {
		Pallet::<T>::tally_answer(key, model, false);
	}
}

/// Fills the sets of `models` as full as their storage allows, each with workers of its own:
/// every seat taken by a serving worker of its own operator at the minimum stake, and as many
/// evicted workers again, still drawn. Leaves the eligibility delay passed for stakes bonded
/// before.
/// Called once per benchmark (it names its operators from zero).
fn fill_full_sets<T: Config>(models: &[ModelHash]) {
	let seats = T::MaxWorkersPerModel::get();
	let mut index = 0;
	let mut register_seated = |model: ModelHash| {
		let operator = bonded::<T>("seated", index, bond_for::<T>(1, 1));
		index += 1;
		let single: ServedModels<T> = alloc::vec![model].try_into().expect("one model; qed");
		registered_worker::<T>(&operator, &single, 1)
	};
	let mut seated = Vec::new();
	for model in models.iter() {
		for _ in 0..seats {
			register_seated(*model);
		}
		for _ in 0..seats {
			Pallet::<T>::evict_for_benchmarks(model);
			seated.push(register_seated(*model));
		}
	}
	past_delay::<T>();
	for key in &seated {
		Pallet::<T>::serve_now_for_benchmarks(key);
	}
	assert_eq!(ModelWorkers::<T>::get(models[0]).len() as u32, 2 * seats);
}

/// An operator with `MaxUnbondingChunks` chunks, `active` still bonded.
fn operator_with_chunks<T: Config>(active: BalanceOf<T>) -> (T::AccountId, BalanceOf<T>) {
	let chunks = T::MaxUnbondingChunks::get();
	let chunk: BalanceOf<T> = T::MinOperatorBond::get();
	let total = active.saturating_add(chunk.saturating_mul(chunks.into()));
	let operator = bonded::<T>("operator", 0, total);
	for _ in 0..chunks {
		Pallet::<T>::unbond(RawOrigin::Signed(operator.clone()).into(), chunk)
			.expect("the bond covers every chunk; qed");
		advance::<T>(One::one());
	}
	(operator, chunk.saturating_mul(chunks.into()))
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn bond() {
		let operator = funded::<T>("operator", 0);
		let value = T::MinOperatorBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), value);

		assert_eq!(Operators::<T>::get(&operator).map(|ledger| ledger.active), Some(value));
	}

	#[benchmark]
	fn bond_extra() {
		let operator = bonded::<T>("operator", 0, T::MinOperatorBond::get());
		let value = T::MinOperatorBond::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), value);

		let expected = T::MinOperatorBond::get().saturating_add(value);
		assert_eq!(Operators::<T>::get(&operator).map(|ledger| ledger.active), Some(expected));
	}

	#[benchmark]
	fn set_payee() {
		let operator = bonded::<T>("operator", 0, T::MinOperatorBond::get());
		let payee: T::AccountId = account("payee", 0, 0);

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), payee.clone());

		assert_eq!(Payees::<T>::get(&operator), Some(payee));
	}

	#[benchmark]
	fn unbond() {
		// Every worker slot in use and one chunk left: checking the rest reads every worker.
		let operator = crowded_operator::<T>(0);
		let chunk = T::MinOperatorBond::get();
		Pallet::<T>::bond_extra(
			RawOrigin::Signed(operator.clone()).into(),
			chunk.saturating_mul(T::MaxUnbondingChunks::get().into()),
		)
		.expect("funded; qed");
		for _ in 1..T::MaxUnbondingChunks::get() {
			Pallet::<T>::unbond(RawOrigin::Signed(operator.clone()).into(), chunk)
				.expect("the extra bond covers it; qed");
			advance::<T>(One::one());
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), chunk);

		let ledger = Operators::<T>::get(&operator).expect("bonded; qed");
		assert_eq!(ledger.unbonding.len() as u32, T::MaxUnbondingChunks::get());
	}

	#[benchmark]
	fn withdraw_unbonded() {
		// Every chunk unlocked and released, and the ledger closed.
		let (operator, _) = operator_with_chunks::<T>(Zero::zero());
		advance::<T>(T::UnbondingPeriod::get());

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()));

		assert!(Operators::<T>::get(&operator).is_none());
	}

	#[benchmark]
	fn rebond() {
		// Every chunk emptied.
		let (operator, unbonding) = operator_with_chunks::<T>(T::MinOperatorBond::get());

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), unbonding);

		let ledger = Operators::<T>::get(&operator).expect("bonded; qed");
		assert!(ledger.unbonding.is_empty());
	}

	#[benchmark]
	fn register() {
		let operator = crowded_operator::<T>(1);
		let models = listed_models::<T>(0, T::MaxModelsPerWorker::get());
		fill_full_sets::<T>(&models);
		let key = WorkerId::generate_pair(None);
		let proof = proof::<T>(&key, &operator);
		let events = frame_system::Pallet::<T>::event_count();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), key.clone(), proof, models.clone(), 1);

		assert!(Workers::<T>::contains_key(&key));
		assert!(models.iter().all(|model| Pallet::<T>::in_model_set(model, &key)));
		// Registered, and one eviction per model.
		let evictions = frame_system::Pallet::<T>::event_count() - events - 1;
		assert_eq!(evictions, models.len() as u32);
	}

	#[benchmark]
	fn update() {
		// A worker serving the most models and scheduled to serve as many others moves to a
		// third set of as many: it leaves the sets of the first two and takes a seat in each of
		// the third, all full.
		let operator = crowded_operator::<T>(1);
		let most = T::MaxModelsPerWorker::get();
		let (serving, scheduled) = (listed_models::<T>(0, most), listed_models::<T>(most, most));
		let new_models = listed_models::<T>(2 * most, most);
		let all: Vec<ModelHash> =
			serving.iter().chain(scheduled.iter()).chain(new_models.iter()).copied().collect();
		fill_full_sets::<T>(&all);
		let key = registered_worker::<T>(&operator, &serving, 1);
		counted_answers::<T>(&key, &serving);
		past_delay::<T>();
		Pallet::<T>::update(RawOrigin::Signed(operator.clone()).into(), key.clone(), scheduled, 1)
			.expect("more stake than the lowest seated; qed");

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), key.clone(), new_models.clone(), 1);

		assert!(new_models.iter().all(|model| Pallet::<T>::in_model_set(model, &key)));
	}

	#[benchmark]
	fn chill() {
		// A worker whose move from the most models to as many others took effect unnoticed:
		// chilling it first retires the old ones, leaving their full sets and its answers there.
		let (operator, key, _, new) = worker_among_full_sets::<T>();
		Pallet::<T>::update(RawOrigin::Signed(operator.clone()).into(), key.clone(), new, 1)
			.expect("more stake than the lowest seated; qed");
		past_delay::<T>();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), key.clone());

		let record = Workers::<T>::get(&key).expect("registered; qed");
		assert!(record.settings.latest().chilled);
	}

	#[benchmark]
	fn resume() {
		// A worker chilled while it moved from the most models to as many others: resuming it
		// retires the old ones (leaving their full sets and its answers there) and takes a seat
		// in each full set of the new ones; its operator's bond is checked against every other
		// worker.
		let (operator, key, old, new) = worker_among_full_sets::<T>();
		let origin = || RawOrigin::Signed(operator.clone()).into();
		Pallet::<T>::chill(origin(), key.clone()).expect("registered; qed");
		Pallet::<T>::update(origin(), key.clone(), new.clone(), 1)
			.expect("chilled, it seeks no seat; qed");
		past_delay::<T>();
		let events = frame_system::Pallet::<T>::event_count();

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), key.clone());

		assert!(new.iter().all(|model| Pallet::<T>::in_model_set(model, &key)));
		assert!(!old.iter().any(|model| Pallet::<T>::in_model_set(model, &key)));
		let evictions = frame_system::Pallet::<T>::event_count() - events - 1;
		assert_eq!(evictions, new.len() as u32);
	}

	#[benchmark]
	fn unregister() {
		// A chilled worker that served the most models, scheduled to serve as many others:
		// it leaves the full sets of both.
		let (operator, key, _, new) = worker_among_full_sets::<T>();
		let origin = || RawOrigin::Signed(operator.clone()).into();
		Pallet::<T>::chill(origin(), key.clone()).expect("registered; qed");
		past_delay::<T>();
		Pallet::<T>::update(origin(), key.clone(), new, 1).expect("chilled, it seeks no seat; qed");

		#[extrinsic_call]
		_(RawOrigin::Signed(operator.clone()), key.clone());

		assert!(!Workers::<T>::contains_key(&key));
	}

	#[benchmark]
	fn slash() {
		// Every chunk reached, a bounty paid, and every worker of the operator chilled.
		let workers = max_workers_per_operator::<T>();
		let (operator, _) = operator_with_chunks::<T>(bond_for::<T>(workers, 1));
		let keys: Vec<WorkerId> = (0..workers)
			.map(|index| registered_worker::<T>(&operator, &listed_models::<T>(index, 1), 1))
			.collect();
		past_delay::<T>();
		let reporter = funded::<T>("reporter", 0);

		#[block]
		{
			Pallet::<T>::do_slash(
				&keys[0],
				SlashAmount::Fixed(endowment::<T>()),
				SlashReason::WrongResult,
				Some(reporter),
			)
			.expect("registered; qed");
		}

		let ledger = Operators::<T>::get(&operator).expect("bonded; qed");
		assert!(ledger.active.is_zero() && ledger.unbonding.is_empty());
		let now = frame_system::Pallet::<T>::block_number();
		assert!(keys.iter().all(|key| {
			Workers::<T>::get(key).is_some_and(|record| record.settings.at(now).chilled)
		}));
	}

	#[benchmark]
	fn candidates() {
		// A set as full as its storage allows, every member eligible.
		let models = listed_models::<T>(0, 1);
		fill_full_sets::<T>(&models);
		let found;

		#[block]
		{
			found = Pallet::<T>::eligible_workers(&models[0]);
		}

		assert_eq!(found.len() as u32, SetCapacity::<T>::get());
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::ExtBuilder.build(), crate::mock::Test);
}
