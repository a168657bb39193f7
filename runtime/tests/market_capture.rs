//! The capture of a model's market, tried against the whole runtime: operators at the minimum
//! bond fill every seat of a model with capacity-one workers. An honest operator with more stake
//! still takes a seat, and draws follow stake, however many workers an operator registers.

mod common;

use common::{answers_call, list_model, model, output_answer, tensor};
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungible::Mutate, Get, Hooks, UnfilteredDispatchable},
};
use sp_core::{sr25519, Pair};
use sp_keyring::Sr25519Keyring::Bob;
use veritensor_primitives::{tensor::ElementType, WorkerId};
use veritensor_runtime::{
	configs::{currency::UNITS, EligibilityDelay, MinOperatorBond},
	AccountId, Balances, Jobs, Runtime, RuntimeEvent, RuntimeOrigin, System, Workers,
};

const DRAW_BLOCKS: u32 = 130;
const JOBS_PER_BLOCK: u32 = 8;

fn operator(index: u8) -> AccountId {
	let who = AccountId::from([index; 32]);
	<Balances as Mutate<_>>::set_balance(&who, 1_000_000 * UNITS);
	who
}

fn key(seed: u16) -> sr25519::Pair {
	let mut bytes = [0xa5u8; 32];
	bytes[..2].copy_from_slice(&seed.to_le_bytes());
	sr25519::Pair::from_seed(&bytes)
}

fn register(
	operator: &AccountId,
	pair: &sr25519::Pair,
	capacity: u32,
) -> sp_runtime::DispatchResult {
	let proof = pair
		.sign(&veritensor_primitives::possession_payload(operator, &System::block_hash(0)))
		.into();
	Workers::register(
		RuntimeOrigin::signed(operator.clone()),
		WorkerId::from(pair.public()),
		proof,
		vec![model()].try_into().unwrap(),
		capacity,
	)
}

fn next_block() {
	let now = System::block_number() + 1;
	System::set_block_number(now);
	<Jobs as Hooks<_>>::on_initialize(now);
}

fn run_blocks(blocks: u32) {
	for _ in 0..blocks {
		next_block();
	}
}

fn submit_job(fill: u8) -> u64 {
	let job = pallet_jobs::NextJobId::<Runtime>::get();
	let input = pallet_jobs::Payload::Inline(
		vec![tensor(ElementType::U8, &[1, 4], vec![fill; 4])].try_into().unwrap(),
	);
	assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(Bob.to_account_id()),
		model(),
		input,
		veritensor_primitives::VerificationTerms::single(),
		UNITS,
		20
	));
	job
}

/// The worker `pair` answers `job` with a signed output, as its off-chain worker would.
fn answer(job: u64, pair: &sr25519::Pair) {
	let call = answers_call(pair, vec![output_answer(pair, job)]);
	assert_ok!(call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()));
}

#[test]
fn capturing_a_model_takes_more_stake_than_everyone_else_and_buys_only_its_share_of_draws() {
	let mut ext = common::ext(sp_genesis_builder::DEV_RUNTIME_PRESET);
	ext.execute_with(|| {
		System::set_block_number(1);
		list_model();
		let seats: u32 = <Runtime as pallet_workers::Config>::MaxWorkersPerModel::get();
		let per_operator: u32 =
			<Runtime as pallet_workers::Config>::MaxWorkersPerModelPerOperator::get();
		let delay = EligibilityDelay::get();
		let mut pairs = std::collections::BTreeMap::new();

		// One operator can no longer fill the model: it holds at most its share of the seats.
		let greedy = operator(1);
		assert_ok!(Workers::bond(RuntimeOrigin::signed(greedy.clone()), MinOperatorBond::get()));
		for seed in 0..per_operator as u16 {
			assert_ok!(register(&greedy, &key(seed), 1));
			pairs.insert(WorkerId::from(key(seed).public()), key(seed));
		}
		assert_noop!(
			register(&greedy, &key(999), 1),
			pallet_workers::Error::<Runtime>::OperatorSeatsFull
		);

		// So the attack takes seats / per_operator operators at the minimum bond.
		let attackers: Vec<AccountId> =
			std::iter::once(greedy).chain((2..=(seats / per_operator) as u8).map(operator)).collect();
		let mut seed = per_operator as u16;
		for attacker in &attackers[1..] {
			assert_ok!(Workers::bond(RuntimeOrigin::signed(attacker.clone()), MinOperatorBond::get()));
			for _ in 0..per_operator {
				assert_ok!(register(attacker, &key(seed), 1));
				pairs.insert(WorkerId::from(key(seed).public()), key(seed));
				seed += 1;
			}
		}
		run_blocks(delay);
		assert_eq!(pallet_workers::ModelWorkers::<Runtime>::get(model()).len() as u32, seats);

		// An honest operator with twice the stake of each attacker: its fresh bond weighs
		// nothing until the delay has passed, then its worker takes the lowest seat.
		let honest = operator(200);
		let honest_pair = key(10_000);
		let honest_worker = WorkerId::from(honest_pair.public());
		pairs.insert(honest_worker.clone(), honest_pair.clone());
		let honest_stake = 2 * MinOperatorBond::get();
		assert_ok!(Workers::bond(RuntimeOrigin::signed(honest.clone()), honest_stake));
		assert_noop!(register(&honest, &honest_pair, 16), pallet_workers::Error::<Runtime>::ModelFull);
		run_blocks(delay);
		assert_ok!(register(&honest, &honest_pair, 16));
		assert!(System::events().iter().any(|record| matches!(
			&record.event,
			RuntimeEvent::Workers(pallet_workers::Event::Evicted { by, .. }) if by.as_ref() == Some(&honest_worker)
		)));
		run_blocks(delay);

		// Draws: every job answered in the block of its draw, so that no worker runs out of
		// slots and the draw alone decides.
		let mut pending = Vec::new();
		let mut honest_draws = 0u32;
		let mut draws = 0u32;
		for block in 0..DRAW_BLOCKS + 4 {
			if block < DRAW_BLOCKS {
				pending.extend((0..JOBS_PER_BLOCK).map(|fill| submit_job(fill as u8)));
			}
			next_block();
			pending.retain(|job| {
				let Some(record) = pallet_jobs::Jobs::<Runtime>::get(job) else { return false };
				let pallet_jobs::JobState::Assigned { workers, .. } = record.state else { return true };
				draws += 1;
				if workers[0] == honest_worker {
					honest_draws += 1;
				}
				answer(*job, &pairs[&workers[0]]);
				false
			});
		}
		assert!(pending.is_empty());
		assert_eq!(draws, DRAW_BLOCKS * JOBS_PER_BLOCK);

		// Stake shares: 16 attackers at the minimum (one of them lost a seat but not its
		// stake) against one honest operator at twice that. Over 1,040 draws the standard
		// deviation is about one point; three either way are allowed.
		let attacker_stake = MinOperatorBond::get() * attackers.len() as u128;
		let honest_share = honest_stake as f64 / (honest_stake + attacker_stake) as f64;
		let drawn_share = honest_draws as f64 / draws as f64;
		assert!(
			(drawn_share - honest_share).abs() <= 0.03,
			"honest operator drawn {honest_draws} of {draws} ({drawn_share:.3}), stake share {honest_share:.3}"
		);
		println!(
			"honest operator drawn {honest_draws} of {draws} ({drawn_share:.3}); stake share {honest_share:.3}"
		);
	});
}
