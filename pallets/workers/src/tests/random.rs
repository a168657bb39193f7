//! Long random sequences of bonding, worker and slashing operations between blocks; after every
//! step the invariants hold, no money appears or disappears, and each balance moves only as the
//! step should move it.

use crate::{mock::*, Error, Operators, Workers as WorkersMap};
use frame_support::traits::fungible::{Inspect, Mutate};
use sp_runtime::Perbill;
use std::collections::BTreeMap;
use veritensor_primitives::traits::{Outcome, SlashAmount, SlashReason, WorkerStaking};

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	fn below(&mut self, n: u64) -> u64 {
		self.next() % n
	}
	fn pick<T: Copy>(&mut self, items: &[T]) -> T {
		items[self.below(items.len() as u64) as usize]
	}
	/// Mostly one of `preferred`; else, or if there is none, one of `all`.
	fn prefer<T: Copy>(&mut self, preferred: &[T], all: &[T]) -> T {
		match preferred.is_empty() || self.below(8) == 0 {
			true => self.pick(all),
			false => self.pick(preferred),
		}
	}
	/// Near one of `anchors`: on it, one off it either way, or anywhere up to twice it. Amounts
	/// at the edges are where the checks of the calls differ.
	fn near(&mut self, anchors: &[Balance]) -> Balance {
		let anchor = self.pick(anchors);
		match self.below(4) {
			0 => anchor,
			1 => anchor + 1,
			2 => anchor.saturating_sub(1),
			_ => self.below(2 * anchor as u64 + 2) as Balance,
		}
	}
}

/// An operator that can afford the minimum bond and little more.
const MODEST: AccountId = 5;
/// A reporter without an account: a bounty below the existential deposit cannot open one.
const NEWCOMER: AccountId = 77;
const OPERATORS: [AccountId; 4] = [OPERATOR, OTHER_OPERATOR, MODEST, POOR];
const ACCOUNTS: [AccountId; 7] =
	[OPERATOR, OTHER_OPERATOR, MODEST, POOR, REPORTER, TREASURY, NEWCOMER];
const KEYS: [u8; 6] = [1, 2, 3, 4, 5, 6];
/// Mostly capacities a worker can have; sometimes none, or more than `MaxCapacity`.
const CAPACITIES: [u32; 8] = [1, 1, 2, 3, 4, 4, 0, 65];

/// The kinds of operation counted, each of which must succeed somewhere in the run.
const KINDS: &str =
	"bond bond_extra unbond rebond withdraw ledger_closed register bad_proof_refused \
	register_below_minimum_refused \
	update chill resume unregister assign release fixed_slash fraction_slash bounty_paid advance";

/// What one seed's run carries from step to step.
struct Run {
	rng: Rng,
	/// The assignments noted and not yet released, with their exposure.
	open: Vec<(u8, Balance)>,
	/// Successful operations by kind.
	done: BTreeMap<&'static str, u32>,
}

/// The active bond and the funds unbonding, zero for an operator without a ledger.
fn bonds(who: AccountId) -> (Balance, Balance) {
	Operators::<Test>::get(who).map_or((0, 0), |ledger| (ledger.active, ledger.unbonding_total()))
}

/// The total balance (free and held) of each of [`ACCOUNTS`].
fn totals() -> Vec<i128> {
	ACCOUNTS.iter().map(|who| Balances::total_balance(who) as i128).collect()
}

/// The assignments worker `seed` holds, none if it is not registered.
fn open_assignments(seed: u8) -> u32 {
	WorkersMap::<Test>::get(worker(seed)).map_or(0, |record| record.open_assignments)
}

/// Mostly a non-empty set of listed models; sometimes an empty, repeated or unlisted one.
fn random_models(rng: &mut Rng) -> crate::ServedModels<Test> {
	let sets: [&[u8]; 9] = [&[1], &[2], &[3], &[1, 2], &[3, 1], &[1, 2, 3], &[], &[1, 1], &[2, 4]];
	models(rng.pick(&sets))
}

/// Mostly a registered worker key, sometimes any.
fn key(rng: &mut Rng) -> u8 {
	let registered: Vec<u8> =
		KEYS.into_iter().filter(|seed| WorkersMap::<Test>::contains_key(worker(*seed))).collect();
	rng.prefer(&registered, &KEYS)
}

/// Mostly a registered worker key and its own operator.
fn key_and_operator(rng: &mut Rng) -> (u8, AccountId) {
	let seed = key(rng);
	let own: Vec<_> =
		WorkersMap::<Test>::get(worker(seed)).map(|record| record.operator).into_iter().collect();
	(seed, rng.prefer(&own, &OPERATORS))
}

/// One random operation; returns the balances it moves between accounts (a slash).
fn step(run: &mut Run) -> Vec<(AccountId, i128)> {
	let rng = &mut run.rng;
	let choice = rng.below(20);
	// Mostly an operator with a bond, as all calls but `bond` need one.
	let bonded: Vec<_> =
		OPERATORS.into_iter().filter(|who| Operators::<Test>::contains_key(who)).collect();
	let who = if choice == 0 { rng.pick(&OPERATORS) } else { rng.prefer(&bonded, &OPERATORS) };
	let origin = RuntimeOrigin::signed(who);
	let ledger = Operators::<Test>::get(who);
	let (active, unbonding) = bonds(who);
	let free = Balances::free_balance(who);
	let now = System::block_number();
	let mut done = |kind: &'static str| {
		assert!(KINDS.split_whitespace().any(|known| known == kind));
		*run.done.entry(kind).or_default() += 1;
	};
	match choice {
		0 => {
			let value = rng.near(&[MIN_BOND, free, free.saturating_sub(EXISTENTIAL_DEPOSIT)]);
			if Workers::bond(origin, value).is_ok() {
				assert_eq!(bonds(who), (value, 0));
				done("bond");
			}
		}
		1 | 2 => {
			let value = rng.near(&[1, free, MIN_BOND.saturating_sub(active)]);
			if Workers::bond_extra(origin, value).is_ok() {
				assert_eq!(bonds(who), (active + value, unbonding));
				done("bond_extra");
			}
		}
		3 | 4 => {
			let value = rng.near(&[active, active.saturating_sub(MIN_BOND), MAX_SLASH]);
			if Workers::unbond(origin, value).is_ok() {
				assert_eq!(bonds(who), (active - value, unbonding + value));
				done("unbond");
			}
		}
		5 => {
			let value = rng.near(&[unbonding, 1, MIN_BOND.saturating_sub(active)]);
			if Workers::rebond(origin, value).is_ok() {
				assert_eq!(bonds(who), (active + value, unbonding - value));
				done("rebond");
			}
		}
		6 | 7 => {
			let result = Workers::withdraw_unbonded(origin);
			let Some(ledger) = ledger else { return vec![] };
			let unlocked: Balance =
				ledger.unbonding.iter().filter(|c| c.unlock_at <= now).map(|c| c.value).sum();
			// Exactly the unlocked chunks move from the hold to the free balance (the total is
			// checked after every step).
			assert_eq!(result.is_ok(), unlocked > 0);
			assert_eq!(Balances::free_balance(who), free + unlocked);
			let closed = active == 0 && unlocked == unbonding && ledger.workers.is_empty();
			assert_eq!(Operators::<Test>::contains_key(who), !(closed && result.is_ok()));
			if result.is_ok() {
				done("withdraw");
				if closed {
					done("ledger_closed");
				}
			}
		}
		8 | 9 => {
			let seed = rng.pick(&KEYS);
			let (models, capacity) = (random_models(rng), rng.pick(&CAPACITIES));
			let bad = rng.below(4) == 0;
			let proof = match (bad, rng.below(2)) {
				(false, _) => proof(seed, who),
				(true, 0) => proof(seed % 6 + 1, who),
				(true, _) => proof(seed, if who == OPERATOR { OTHER_OPERATOR } else { OPERATOR }),
			};
			let fresh = !WorkersMap::<Test>::contains_key(worker(seed));
			let result = Workers::register(origin, worker(seed), proof, models, capacity);
			let above_minimum = ledger.as_ref().is_some_and(|ledger| ledger.active >= MIN_BOND);
			if ledger.as_ref().is_some_and(|ledger| ledger.active < MIN_BOND) {
				assert_eq!(result, Err(Error::<Test>::BondBelowMinimum.into()));
				done("register_below_minimum_refused");
			} else if bad && fresh && above_minimum {
				assert_eq!(result, Err(Error::<Test>::BadPossessionProof.into()));
				done("bad_proof_refused");
			} else if result.is_ok() {
				assert_eq!(WorkersMap::<Test>::get(worker(seed)).unwrap().operator, who);
				done("register");
			}
		}
		10..=13 => {
			let (seed, operator) = key_and_operator(rng);
			let (origin, id) = (RuntimeOrigin::signed(operator), worker(seed));
			let (kind, result) = match choice {
				10 => (
					"update",
					Workers::update(origin, id, random_models(rng), rng.pick(&CAPACITIES)),
				),
				11 => ("chill", Workers::chill(origin, id)),
				12 => ("resume", Workers::resume(origin, id)),
				_ => ("unregister", Workers::unregister(origin, id)),
			};
			if result.is_ok() {
				if kind == "unregister" {
					assert!(!WorkersMap::<Test>::contains_key(worker(seed)));
					// It could not have left with assignments open.
					assert!(run.open.iter().all(|(open, _)| *open != seed));
				}
				done(kind);
			}
		}
		14..=16 => {
			let seed = key(rng);
			let exposure = rng.near(&[MAX_SLASH, MAX_SLASH / 2]);
			let before = open_assignments(seed);
			let result = Workers::note_assigned(&worker(seed), exposure);
			if exposure > MAX_SLASH {
				assert_eq!(result, Err(Error::<Test>::ExposureTooHigh.into()));
			} else if result.is_ok() {
				assert_eq!(open_assignments(seed), before + 1);
				run.open.push((seed, exposure));
				done("assign");
			}
		}
		17 => {
			if run.open.is_empty() {
				return vec![];
			}
			let (seed, exposure) = run.open.swap_remove(rng.below(run.open.len() as u64) as usize);
			let before = open_assignments(seed);
			let outcome =
				rng.pick(&[Outcome::Completed, Outcome::Failed, Outcome::Missed, Outcome::Voided]);
			Workers::note_released(&worker(seed), exposure, outcome);
			assert_eq!(open_assignments(seed), before - 1);
			done("release");
		}
		18 => {
			let seed = key(rng);
			let Some(record) = WorkersMap::<Test>::get(worker(seed)) else { return vec![] };
			let operator = record.operator;
			let (active, unbonding) = bonds(operator);
			let slashable = active + unbonding;
			let fixed = rng.below(2) == 0;
			let (amount, expected) = if fixed {
				let value = rng.near(&[0, MAX_SLASH, 3 * MAX_SLASH, slashable]);
				(SlashAmount::Fixed(value), value.min(slashable))
			} else {
				let part = match rng.below(6) {
					0 => Perbill::one(),
					1 => Perbill::from_parts(rng.below(1_000_000_001) as u32),
					_ => Perbill::from_percent(rng.below(10) as u32),
				};
				(SlashAmount::Fraction(part), part * slashable)
			};
			let reporter = match rng.below(6) {
				0 | 1 => None,
				2 => Some(operator),
				n => Some([REPORTER, NEWCOMER, TREASURY][n as usize - 3]),
			};
			// The bounty goes to a reporter that exists or that it brings into existence; otherwise
			// the treasury keeps it.
			let tenth = Perbill::from_percent(10) * expected;
			let bounty = match reporter {
				Some(r) if Balances::total_balance(&r) > 0 || tenth >= EXISTENTIAL_DEPOSIT => tenth,
				_ => 0,
			};
			let slashed = Workers::slash(&worker(seed), amount, SlashReason::WrongResult, reporter);
			assert_eq!(slashed, Ok(expected));
			assert_eq!(bonds(operator).0 + bonds(operator).1, slashable - expected);
			done(if fixed { "fixed_slash" } else { "fraction_slash" });
			if bounty > 0 {
				done("bounty_paid");
			}
			let (expected, bounty) = (expected as i128, bounty as i128);
			return vec![
				(operator, -expected),
				(reporter.unwrap_or(TREASURY), bounty),
				(TREASURY, expected - bounty),
			];
		}
		_ => {
			let blocks = rng.pick(&[1, 2, 3, DELAY, DELAY + 1, UNBONDING, UNBONDING + 1]);
			run_to_block(now + blocks);
			done("advance");
		}
	}
	vec![]
}

/// Names the seed and step of a failure, which the checks inside a step do not know.
struct Where(String);

impl Drop for Where {
	fn drop(&mut self) {
		if std::thread::panicking() {
			eprintln!("failed at {}", self.0);
		}
	}
}

#[test]
fn random_sequences_keep_the_invariants_and_the_money() {
	let mut all: BTreeMap<&str, u32> = BTreeMap::new();
	for seed in 1..=8u64 {
		ExtBuilder.build_and_execute(|| {
			<Balances as Mutate<AccountId>>::set_balance(&MODEST, MIN_BOND + 500);
			let issuance = Balances::total_issuance();
			let rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
			let mut run = Run { rng, open: vec![], done: BTreeMap::new() };
			for index in 0..400 {
				let _at = Where(format!("seed {seed}, step {index}"));
				let mut expected = totals();
				for (who, amount) in step(&mut run) {
					expected[ACCOUNTS.iter().position(|a| *a == who).unwrap()] += amount;
				}
				Workers::do_try_state().unwrap_or_else(|error| panic!("{error:?}"));
				assert_eq!(Balances::total_issuance(), issuance);
				assert_eq!(totals(), expected, "balances of {ACCOUNTS:?}");
			}
			println!("seed {seed}: {:?}", run.done);
			for (kind, count) in run.done {
				*all.entry(kind).or_default() += count;
			}
		});
	}
	println!("all seeds: {all:?}");
	for kind in KINDS.split_whitespace() {
		assert!(all.get(kind).is_some_and(|n| *n > 0), "no successful {kind} in any seed");
	}
}
