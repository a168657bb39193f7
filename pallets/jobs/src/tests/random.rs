//! Long random sequences of calls and blocks, single-worker jobs, audited jobs and quorums of 3
//! and 5 with honest, byzantine, silent and mismatched members (and the referee quorums their
//! contradictions, challenges and appeals call); after every step the invariants hold and
//! no money appears or disappears.

use super::*;
use crate::{Answer, CannotExecuteReason, Finding, JobState, Jobs as JobsMap, Submission};
use frame_support::traits::fungible::Inspect;
use std::collections::BTreeMap;

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
}

const USERS: [AccountId; 3] = [USER, OTHER_USER, POOR];
const WORKERS: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];
/// What storing a digits result costs at a byte price of one.
const STORAGE: Balance = 187;
/// The workers' operators, who earn what they do.
const OPERATORS: [AccountId; 8] = [100, 200, 300, 400, 500, 600, 700, 800];

/// The findings quorum members committed to, by job and worker seed.
type Committed = BTreeMap<(u64, u8), Finding<Test>>;

fn salt(seed: u8) -> [u8; 32] {
	[seed; 32]
}

fn money() -> Balance {
	let accounts = USERS
		.iter()
		.copied()
		.chain([OWNER, TREASURY, SLASHED_BONDS, Jobs::pot(), Jobs::audit_pool()])
		.chain(OPERATORS);
	accounts.map(|who| Balances::total_balance(&who)).sum()
}

fn step(rng: &mut Rng, committed: &mut Committed) {
	let user = USERS[rng.below(USERS.len() as u64) as usize];
	match rng.below(7) {
		0 | 1 => {
			let k = [1, 1, 3, 5][rng.below(4) as usize];
			let audited = k == 1 && rng.below(2) == 0;
			let deadline = if k == 1 && !audited {
				5 + rng.below(10)
			} else {
				MIN_QUORUM_DEADLINE + rng.below(8)
			};
			// An audit's premium is at most one more price.
			let premium = if audited { PRICE } else { 0 };
			let _ = Jobs::submit(
				RuntimeOrigin::signed(user),
				digits(),
				image(rng.below(256) as u8),
				VerificationTerms { replicas: k, audited },
				k as Balance * PRICE + ROYALTY + 40 + STORAGE + premium + rng.below(200) as Balance,
				deadline,
			);
		}
		// A few members act at once, so that whole quorums answer now and then.
		5 => {
			for _ in 0..1 + rng.below(6) {
				quorum_step(rng, committed);
			}
		}
		2 => {
			// Mostly the latest job (cancellable in its own block), sometimes any.
			let next = crate::NextJobId::<Test>::get();
			let job = if rng.below(2) == 0 { next.saturating_sub(1) } else { rng.below(next + 1) };
			// Mostly its submitter, sometimes anyone (refused).
			let submitter = JobsMap::<Test>::get(job).map(|record| record.submitter);
			let caller = if rng.below(4) == 0 { user } else { submitter.unwrap_or(user) };
			let _ = Jobs::cancel(RuntimeOrigin::signed(caller), job);
		}
		3 => {
			// Some assigned worker answers, honestly or not.
			let open: Vec<_> = JobsMap::<Test>::iter()
				.filter_map(|(id, job)| match job.state {
					JobState::Assigned { workers, .. } if job.k == 1 => {
						Some((id, workers[0].clone()))
					}
					_ => None,
				})
				.collect();
			if open.is_empty() {
				return;
			}
			let (job, key) = open[rng.below(open.len() as u64) as usize].clone();
			let seed = WORKERS.into_iter().find(|seed| worker(*seed) == key).unwrap();
			let answer = match rng.below(5) {
				4 => Answer::Commit { commitment: sp_core::H256::repeat_byte(1) },
				0 => Answer::CannotExecute { reason: CannotExecuteReason::BadInput },
				1 => {
					// Signed by the wrong key: refused.
					let output = label(1);
					let signature = sign(seed % 5 + 1, job, &output);
					Answer::Output { output, signature }
				}
				_ => {
					let output = label(rng.below(10) as i64);
					let signature = sign(seed, job, &output);
					Answer::Output { output, signature }
				}
			};
			// Refused in the pool, or landed as a block would apply it.
			let call = answers_call(seed, vec![Submission { job, answer }]);
			if in_pool(&call).is_ok() {
				let _ = land(call);
			}
		}
		4 if rng.below(2) == 0 && appealable() => {
			// A member slashed for a wrong result appeals (or some other member: refused).
			let decided: Vec<_> = crate::Decisions::<Test>::iter()
				.filter(|(job, _)| crate::Provisionals::<Test>::contains_key(job))
				.collect();
			let (job, decision) = &decided[rng.below(decided.len() as u64) as usize];
			let wrong: Vec<_> = decision
				.verdicts
				.iter()
				.filter(|(_, verdict)| *verdict == veritensor_primitives::quorum::Verdict::Wrong)
				.collect();
			let (member, _) = match wrong.len() {
				n if n > 0 && rng.below(4) > 0 => wrong[rng.below(n as u64) as usize],
				_ => &decision.verdicts[rng.below(decision.verdicts.len() as u64) as usize],
			};
			let operator = <<Test as crate::Config>::Workers as veritensor_primitives::traits::WorkerStaking<_, _>>::operator(member)
				.unwrap();
			let _ = Jobs::appeal(RuntimeOrigin::signed(operator), *job, member.clone());
		}
		4 if rng.below(3) == 0 => {
			// Someone challenges a provisional result (or a job that has none: refused).
			let provisional: Vec<u64> = crate::Provisionals::<Test>::iter_keys().collect();
			let job = match provisional.len() {
				0 => rng.below(crate::NextJobId::<Test>::get() + 1),
				n => provisional[rng.below(n as u64) as usize],
			};
			let claimed = sp_core::H256::repeat_byte(rng.below(255) as u8 + 1);
			let _ = Jobs::challenge(RuntimeOrigin::signed(user), job, claimed);
		}
		4 => {
			let who = [OWNER, TREASURY, OPERATORS[rng.below(8) as usize]][rng.below(3) as usize];
			let _ = Jobs::claim(RuntimeOrigin::signed(user), who);
		}
		_ => run_to_block(System::block_number() + 1 + rng.below(3)),
	}
}

/// Whether some quorum's result is open to appeal.
fn appealable() -> bool {
	crate::Provisionals::<Test>::iter_values().any(|provisional| provisional.job.k > 1)
}

/// A quorum member commits (an honest label, a wrong one, or "cannot execute") or reveals (its
/// committed finding, or now and then another one, which is refused).
fn quorum_step(rng: &mut Rng, committed: &mut Committed) {
	let open: Vec<_> = JobsMap::<Test>::iter()
		.filter_map(|(id, job)| match job.state {
			JobState::Assigned { workers, .. } if crate::Quorums::<Test>::contains_key(id) => {
				Some((id, workers))
			}
			_ => None,
		})
		.collect();
	if open.is_empty() {
		return;
	}
	let (job, workers) = open[rng.below(open.len() as u64) as usize].clone();
	let key = workers[rng.below(workers.len() as u64) as usize].clone();
	let seed = WORKERS.into_iter().find(|seed| worker(*seed) == key).unwrap();
	let answer = match committed.get(&(job, seed)) {
		None => {
			let finding = match rng.below(5) {
				0 => Finding::CannotExecute { reason: CannotExecuteReason::BadInput },
				1 => Finding::CannotExecute { reason: CannotExecuteReason::WorkerLimits },
				// A byzantine label.
				2 => {
					let output = label(1 + rng.below(9) as i64);
					Finding::Output { signature: sign(seed, job, &output), output }
				}
				_ => {
					let output = label(0);
					Finding::Output { signature: sign(seed, job, &output), output }
				}
			};
			let genesis = System::block_hash(0);
			let commitment = veritensor_primitives::hashing::commitment(
				&genesis,
				job,
				&worker(seed),
				&finding,
				&salt(seed),
			);
			committed.insert((job, seed), finding);
			Answer::Commit { commitment }
		}
		// Now and then another finding than the one committed to: refused.
		Some(_) if rng.below(8) == 0 => {
			let output = label(42);
			let other = Finding::Output { signature: sign(seed, job, &output), output };
			Answer::Reveal { finding: other, salt: salt(seed) }
		}
		// Sometimes a member never reveals.
		Some(_) if rng.below(6) == 0 => return,
		Some(finding) => Answer::Reveal { finding: finding.clone(), salt: salt(seed) },
	};
	let call = answers_call(seed, vec![Submission { job, answer }]);
	if in_pool(&call).is_ok() {
		let _ = land(call);
	}
}

#[test]
fn random_sequences_keep_the_invariants_and_the_money() {
	let (mut challenges, mut challenges_ended, mut overturned) = (0, 0, 0);
	let (mut appeals, mut appeals_ended, mut audits) = (0, 0, 0);
	for seed in 1..=8u64 {
		ExtBuilder.build_and_execute(|| {
			// Results cost their storage, and no-shows a multiple of the price.
			ResultBytePrice::set(1);
			NoShowSlashMultiple::set(2);
			add_worker(1, 100, 1_000, 4);
			add_worker(2, 200, 2_000, 3);
			add_worker(3, 300, 500, 1);
			add_worker(4, 400, 800, 3);
			add_worker(5, 500, 300, 2);
			// Enough operators besides a quorum's to referee it.
			add_worker(6, 600, 600, 2);
			add_worker(7, 700, 700, 2);
			add_worker(8, 800, 900, 2);
			// A label is exact: a byzantine one is wrong, and its member may appeal.
			set_rule(
				digits(),
				veritensor_primitives::ComparisonRule::PerOutput(
					vec![veritensor_primitives::OutputRule::Exact].try_into().unwrap(),
				),
			);
			// Operators can afford an appeal's deposit.
			for operator in OPERATORS {
				<Balances as frame_support::traits::fungible::Mutate<_>>::mint_into(
					&operator, 5_000,
				)
				.unwrap();
			}
			let mut committed = Committed::new();
			let issuance = Balances::total_issuance();
			let money_before = money();
			let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
			for index in 0..600 {
				step(&mut rng, &mut committed);
				if let Err(error) = Jobs::do_try_state() {
					panic!("seed {seed}, step {index}: {error:?}");
				}
				assert_eq!(Balances::total_issuance(), issuance, "seed {seed}, step {index}");
				assert_eq!(money(), money_before, "seed {seed}, step {index}");
			}
			// The sequences reach every ending.
			let count = |wanted: fn(&crate::Event<Test>) -> bool| {
				System::events()
					.iter()
					.filter(|record| match &record.event {
						RuntimeEvent::Jobs(event) => wanted(event),
						_ => false,
					})
					.count()
			};
			let settled = count(|event| matches!(event, crate::Event::Settled { .. }));
			let refunded = count(|event| matches!(event, crate::Event::Refunded { .. }));
			let claimed = count(|event| matches!(event, crate::Event::Claimed { .. }));
			let cancelled = count(|event| {
				matches!(event, crate::Event::Refunded { reason: crate::Refund::Cancelled, .. })
			});
			assert!(
				settled > 3 && refunded > 5 && claimed > 0 && cancelled > 0,
				"seed {seed}: {settled} settled, {refunded} refunded ({cancelled} cancelled), \
				 {claimed} claims"
			);
			let decided = count(|event| matches!(event, crate::Event::QuorumDecided { .. }));
			let wrong = count(|event| {
				matches!(event, crate::Event::QuorumDecided { verdicts, .. }
					if verdicts.iter().any(|(_, verdict)| verdict.is_slashed()))
			});
			assert!(
				decided > 2 && wrong > 0,
				"seed {seed}: {decided} quorums decided, {wrong} with slashes"
			);
			audits += count(|event| matches!(event, crate::Event::AuditDecided { .. }));

			// Let every open job end and every dispute window close: all escrow comes back or
			// is paid, and every deferred slash is applied.
			run_to_block(System::block_number() + 120);
			let (first, next) = crate::DisputeQueueRange::<Test>::get();
			assert_eq!(first, next, "seed {seed}: disputes left open");
			assert!(
				crate::Quorums::<Test>::iter().next().is_none(),
				"seed {seed}: quorums left open"
			);
			assert!(
				slashes()
					.iter()
					.any(|(_, _, reason)| *reason
						!= veritensor_primitives::traits::SlashReason::NoShow),
				"seed {seed}: no quorum slash applied"
			);
			assert!(JobsMap::<Test>::iter().next().is_none(), "seed {seed}: jobs left open");
			assert!(
				crate::Provisionals::<Test>::iter().next().is_none(),
				"seed {seed}: results left provisional"
			);
			challenges += count(|event| matches!(event, crate::Event::Challenged { .. }));
			challenges_ended += count(|event| matches!(event, crate::Event::ChallengeEnded { .. }));
			overturned += count(|event| matches!(event, crate::Event::Overturned { .. }));
			appeals += count(|event| matches!(event, crate::Event::Appealed { .. }));
			appeals_ended += count(|event| matches!(event, crate::Event::AppealEnded { .. }));
			for user in USERS {
				assert_eq!(escrow_held(user), 0, "seed {seed}: escrow left held");
			}
		});
	}
	assert!(
		challenges > 0 && challenges_ended == challenges,
		"{challenges} challenges, {challenges_ended} ended"
	);
	assert!(appeals > 0 && appeals_ended == appeals, "{appeals} appeals, {appeals_ended} ended");
	assert!(audits > 8, "{audits} audits decided");
	println!(
		"{audits} audits, {challenges} challenges, {appeals} appeals, {overturned} overturned"
	);
}
