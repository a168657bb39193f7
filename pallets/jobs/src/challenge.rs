//! Provisional results and challenges.
//!
//! A result settled on one worker's word (a single-worker job, or an audited one whether or not
//! it was audited) is readable at once but provisional for [`Config::DisputeWindow`] blocks:
//! its cost waits in the pot, unpaid, and its input is kept. (So is a quorum's result that
//! slashed a member, open to that member's appeal rather than to challenges: see `appeal.rs`.) Any signed account may challenge it
//! meanwhile with a deposit ([`Pallet::challenge_deposit`]): the job goes back to a referee
//! quorum (see `audit.rs`) with the worker's output as its one party. The referees' majority
//! judges the output under the model's slash rule:
//!
//! - **wrong**: the worker is slashed an assignment's exposure, the bounty to the challenger;
//!   the submitter gets all it paid back and the referees' output instead; the challenger gets
//!   its deposit back; the referees are paid from the audit pool, as for a caught audit;
//! - **upheld**: the result is final; the deposit pays the agreeing referees and the rest goes
//!   to the audit pool, which pays for the challenges that win;
//! - **no decision** (no referee quorum drawn, no majority, or it found the job cannot run):
//!   the result is final; the deposit comes back less the minimum fee.
//!
//! Unchallenged, a provisional result becomes final when its window ends: its earnings accrue,
//! its input is dropped. A worker's bond stays slashable that long (see the integrity test).

use crate::{
	asset,
	pallet::*,
	queue::{ChunkedQueue, PositionQueue, Taking},
	recompute::RefereeRun,
	settlement::Settlement,
	types::*,
	WeightInfo,
};
use alloc::{collections::BTreeSet, vec::Vec};
use frame_support::{
	defensive,
	dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo},
	pallet_prelude::*,
};
use frame_system::pallet_prelude::BlockNumberFor;
use sp_core::H256;
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	quorum::Ballot,
	traits::{SlashAmount, SlashReason, WorkerStaking},
	JobId, WorkerId,
};

/// The most blocks from a challenge to the end of its referees' judgement: the draw's delay
/// and the slide a full queue may add, two commit windows and the reveal window, the slide a
/// full expiry queue may add, and the block that expires it.
pub(crate) fn longest_judgement<T: Config>() -> u32 {
	crate::audit::decision_delay::<T>()
		.saturating_add(crate::audit::CHECK_SLIDE.saturating_mul(2))
		.saturating_add(T::CommitWindow::get().saturating_mul(2))
		.saturating_add(T::RevealWindow::get())
		.saturating_add(1)
}

/// The queue of provisional results to make final.
pub(crate) type FinalizeQueueOf<T> =
	ChunkedQueue<FinalizeChunks<T>, FinalizeChunkCursor<T>, (JobId, BlockNumberFor<T>)>;

/// The provisional results an upgraded chain still had queued one entry per job.
pub(crate) type UnchunkedFinalizeQueueOf<T> =
	PositionQueue<FinalizeQueue<T>, FinalizeQueueRange<T>, (JobId, BlockNumberFor<T>)>;

/// What one block's finalisation did, for its weight.
#[derive(Default, Debug, PartialEq, Eq)]
pub(crate) struct Finalization {
	/// Queue entries taken: results made final, and results challenged or gone.
	pub taken: u32,
	/// Of the results made final, those of quorums (their appeal findings forgotten).
	pub quorums: u32,
	/// The models of the single-worker results made final (a quorum's result is weighed with
	/// its own model).
	pub models: u32,
	/// The payees and owners the single-worker results made final accrued earnings to (a
	/// quorum's result is weighed with its own).
	pub accounts: u32,
	/// Entries taken from the queue of one entry per job.
	pub unchunked: u32,
}

impl<T: Config> Pallet<T> {
	/// What a challenge of `job`'s result holds from the challenger: the three referees' prices
	/// and the minimum fee (the chain's work). A challenge that loses pays that resolution, so
	/// challenging honest results to delay their earnings costs more than it delays.
	pub fn challenge_deposit(job: &Job<T>) -> BalanceOf<T> {
		job.price.per_worker.saturating_mul(crate::REFEREES.into()).saturating_add(T::MinFee::get())
	}

	/// Settles `job_id` on `answer`, provisionally: the submitter pays the cost now (the audit
	/// premium to the audit pool, the rest into the pot), but the earnings of `earners` (the
	/// workers paid) accrue only when the dispute window ends unchallenged.
	pub(crate) fn settle_provisionally(
		job_id: JobId,
		job: Job<T>,
		earners: Vec<Earner<T>>,
		answer: Settlement<T>,
	) -> DispatchResult {
		// Referees compare outputs on chain: a remote output cannot be challenged, so holding
		// its earnings would only delay them.
		if matches!(answer.output, Payload::Remote { .. }) {
			let payees: Vec<_> = earners.into_iter().map(|earner| earner.payee).collect();
			return Self::settle(job_id, job, &payees, answer);
		}
		let earners = BoundedVec::<_, T::MaxWorkersPerJob>::truncate_from(earners);
		let cost = Self::held_cost(&job, earners.len() as u32);
		asset::collect_cost::<T>(&job.submitter, cost)?;
		let premium = Audits::<T>::get(job_id).map_or_else(Zero::zero, |audit| audit.premium);
		asset::collect_premium::<T>(&job.submitter, premium)?;
		let paid = cost.saturating_add(premium);
		let refunded = asset::release_escrow::<T>(&job.submitter, job.escrow.saturating_sub(paid))?;
		let now = frame_system::Pallet::<T>::block_number();
		let until = now.saturating_add(T::DisputeWindow::get());
		let worker = answer.worker.clone();
		let operator = T::Workers::operator(&worker).ok_or(Error::<T>::NotWorkerAccount)?;
		let model = job.model;
		let single_worker = job.k == 1;
		Provisionals::<T>::insert(
			job_id,
			Provisional { job, worker, operator, earners, premium, until, challenge: None },
		);
		Self::queue_for_finalizing(job_id, until);
		Self::record_result(job_id, &model, answer, single_worker, paid, refunded, Some(until));
		Ok(())
	}

	/// What a job settled with `paid` workers paid costs its submitter (the audit premium
	/// aside): every share but the unpaid workers'.
	pub(crate) fn held_cost(job: &Job<T>, paid: u32) -> BalanceOf<T> {
		let unpaid = job.k.saturating_sub(paid);
		Self::job_cost(job).saturating_sub(job.price.per_worker.saturating_mul(unpaid.into()))
	}

	/// Queues a provisional result to become final at `until`, in the order settled (so by
	/// `until`: the window is one constant).
	pub(crate) fn queue_for_finalizing(job_id: JobId, until: BlockNumberFor<T>) {
		FinalizeQueueOf::<T>::push((job_id, until));
	}

	/// Makes the provisional results whose window ends at `now` final, oldest first, at most
	/// `MaxPrunedPerBlock` a block. A challenged one waits for its referees. Returns what was
	/// done, for the weight.
	pub(crate) fn finalize_due(now: BlockNumberFor<T>) -> Finalization {
		let mut models = BTreeSet::new();
		let mut accounts = BTreeSet::new();
		let mut quorums = 0u32;
		let mut finalize = |(job_id, until): (JobId, BlockNumberFor<T>)| {
			if until > now {
				return Taking::NotDue;
			}
			match Provisionals::<T>::get(job_id) {
				Some(provisional) if provisional.challenge.is_none() => {
					Self::drop_input(job_id, &provisional.job.model);
					if provisional.job.k > 1 {
						Self::forget_appeal_findings(job_id);
						quorums.saturating_inc();
					} else {
						models.insert(provisional.job.model);
						accounts.insert(provisional.job.price.owner.clone());
						let payees = provisional.earners.iter().map(|earner| earner.payee.clone());
						accounts.extend(payees);
					}
					Self::make_final(job_id, provisional);
				}
				// Challenged: the referees' decision ends it. Gone: it was overturned or ended
				// by its challenge already.
				_ => {}
			}
			Taking::Taken
		};
		let limit = T::MaxPrunedPerBlock::get();
		let unchunked = UnchunkedFinalizeQueueOf::<T>::take_due(limit, &mut finalize);
		// While older results wait there, none of the chunks' is due.
		let chunked = if UnchunkedFinalizeQueueOf::<T>::is_empty() {
			FinalizeQueueOf::<T>::take_due(limit.saturating_sub(unchunked), &mut finalize)
		} else {
			0
		};
		Finalization {
			taken: unchunked.saturating_add(chunked),
			quorums,
			models: models.len() as u32,
			accounts: accounts.len() as u32,
			unchunked,
		}
	}

	/// Accrues a provisional result's earnings (each paid worker's price to its payee, the
	/// royalty, the treasury's fees) and forgets it.
	pub(crate) fn make_final(job_id: JobId, provisional: Provisional<T>) {
		let Provisional { job, worker, earners, .. } = provisional;
		for earner in &earners {
			Self::accrue(&earner.payee, job.price.per_worker);
		}
		Self::accrue(&job.price.owner, job.price.royalty);
		Self::accrue_chain_fees(&job.price);
		Provisionals::<T>::remove(job_id);
		Self::deposit_event(Event::Finalized { job: job_id, worker });
	}

	/// Opens a challenge of `job_id`'s provisional result (see the module's docs), or settles
	/// it at once by the runtime's own run of the model (see `recompute.rs`).
	pub(crate) fn do_challenge(
		challenger: T::AccountId,
		job_id: JobId,
		claimed: H256,
	) -> DispatchResultWithPostInfo {
		let provisional = Provisionals::<T>::get(job_id).ok_or(Error::<T>::NotProvisional)?;
		ensure!(provisional.job.k == 1, Error::<T>::QuorumResultNotChallengeable);
		ensure!(provisional.challenge.is_none(), Error::<T>::AlreadyChallenged);
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < provisional.until, Error::<T>::ChallengeWindowClosed);
		let result = Results::<T>::get(job_id).ok_or(Error::<T>::NotProvisional)?;
		ensure!(
			matches!(result.output, Payload::Inline(_)),
			Error::<T>::ChallengeNeedsInlineOutput
		);
		ensure!(claimed != result.output_hash, Error::<T>::ClaimMatchesResult);

		let mut used = T::WeightInfo::challenge();
		match Self::run_as_referee(&challenger, job_id, &provisional.job.model)? {
			RefereeRun::Ran(execution, outputs) => {
				let bytes = Self::payload_bytes(&result.output);
				let won = Self::settle_by_recomputation(
					challenger,
					job_id,
					provisional,
					result.output_hash,
					outputs,
				)?;
				let pays_fee = if won { Pays::No } else { Pays::Yes };
				let actual_weight = Some(Self::recompute_weight(execution, bytes));
				return Ok(PostDispatchInfo { actual_weight, pays_fee });
			}
			RefereeRun::Failed(execution) => used.saturating_accrue(execution),
			RefereeRun::NotRun => {}
		}

		let deposit = Self::challenge_deposit(&provisional.job);
		asset::hold_deposit::<T>(&challenger, deposit)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;
		let party = RevealedFinding::Output { output: result.output, signature: result.signature };
		Referrals::<T>::insert(job_id, Referral { cause: RefereeCause::Challenged, parties: 1 });
		Parties::<T>::insert(job_id, 0, (provisional.worker.clone(), party));
		let challenge = Challenge { challenger: challenger.clone(), deposit, claimed };
		let draw_at = Self::reopen_for_referees(job_id, provisional, challenge, now)?;
		Self::deposit_event(Event::Challenged {
			job: job_id,
			challenger,
			deposit,
			claimed,
			draw_at,
		});
		Ok(Some(used).into())
	}

	/// Puts a provisional result back in the hands of a referee quorum for `challenge` (a
	/// challenge or an appeal, whose referral is recorded): its job is open again until the
	/// referees' deadline. Returns the block the referees are drawn in.
	pub(crate) fn reopen_for_referees(
		job_id: JobId,
		mut provisional: Provisional<T>,
		challenge: Challenge<T>,
		now: BlockNumberFor<T>,
	) -> Result<BlockNumberFor<T>, DispatchError> {
		let (draw_at, deadline) =
			Self::schedule_referees(job_id, now).ok_or(Error::<T>::RefereeQueueFull)?;
		// Its money is the held cost in the pot and the deposit, not escrow.
		let mut job = provisional.job.clone();
		job.escrow = Zero::zero();
		job.deadline = deadline;
		job.state = JobState::Escalated { draw_at };
		Jobs::<T>::insert(job_id, job);
		provisional.challenge = Some(challenge);
		Provisionals::<T>::insert(job_id, provisional);
		Ok(draw_at)
	}

	/// Ends a challenge its referees decided: `canonical` is their output (the referee and its
	/// finding), `ballot` its ballot; `agreeing` the referees paid; `slashed` the referees
	/// slashed so far.
	pub(crate) fn decide_challenge(
		job_id: JobId,
		job: Job<T>,
		canonical: (WorkerId, RevealedFinding<T>),
		ballot: Ballot<'_, T::MaxInlineTensorBytes>,
		agreeing: Vec<WorkerId>,
		mut slashed: Vec<(WorkerId, BalanceOf<T>)>,
	) -> DispatchResult {
		let provisional = Provisionals::<T>::get(job_id).ok_or(Error::<T>::NotProvisional)?;
		let challenge = provisional.challenge.clone().ok_or(Error::<T>::NotProvisional)?;
		let (worker, finding) = Parties::<T>::get(job_id, 0).ok_or(Error::<T>::NotProvisional)?;
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, veritensor_primitives::ComparisonRule::ExactHash { .. });
		let verdict = veritensor_primitives::quorum::judge(
			&rule,
			pinned,
			&crate::audit::ballot::<T>(&finding),
			Some(&ballot),
		);
		let per_worker = job.price.per_worker;
		let (referee, referee_finding) = canonical;
		let won = verdict == veritensor_primitives::quorum::Verdict::Wrong;
		let (returned, reward) = if won {
			// The slash's bounty comes into the audit pool; it pays the referees first (the
			// loser pays the resolution), the challenger the rest. What it cannot cover of the
			// referees' pay comes from the deposit, so a won challenge never drains the pool.
			let (taken, bounty) = Self::slash_challenged(job_id, &provisional);
			slashed.push((worker.clone(), taken));
			let (spent, left) =
				Self::pay_referees(&agreeing, per_worker, bounty, &challenge.challenger)?;
			let reward = asset::draw_from_pool::<T>(left);
			Self::accrue(&challenge.challenger, reward);
			let refunded = Self::overturn(job_id, &provisional, referee.clone(), referee_finding)?;
			Self::deposit_event(Event::Overturned { job: job_id, worker, refunded });
			let returned = asset::release_deposit::<T>(
				&challenge.challenger,
				challenge.deposit.saturating_sub(spent),
			)?;
			(returned, reward)
		} else {
			// The deposit pays the referees that agreed, the audit pool the rest.
			let (spent, _) =
				Self::pay_referees(&agreeing, per_worker, Zero::zero(), &challenge.challenger)?;
			let rest = challenge.deposit.saturating_sub(spent);
			asset::collect_deposit::<T>(&challenge.challenger, rest, &Self::audit_pool())?;
			Self::close(job_id, &job.model);
			Self::make_final(job_id, provisional);
			(Zero::zero(), Zero::zero())
		};
		let outcome = RefereeOutcome::Decided { canonical: referee, upheld: !won };
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
		Self::deposit_event(Event::ChallengeEnded {
			job: job_id,
			challenger: challenge.challenger,
			won,
			returned,
			reward,
		});
		Ok(())
	}

	/// Slashes a challenged provisional result's worker an assignment's exposure, through the
	/// operator recorded at settlement (even if its key has left since), the bounty into the
	/// audit pool. Returns what was taken and the bounty.
	pub(crate) fn slash_challenged(
		job_id: JobId,
		provisional: &Provisional<T>,
	) -> (BalanceOf<T>, BalanceOf<T>) {
		let pool_before = asset::pool_balance::<T>();
		let taken = T::Workers::slash_operator(
			&provisional.operator,
			&provisional.worker,
			SlashAmount::Fixed(T::Workers::max_exposure()),
			SlashReason::WrongResult,
			Some(Self::audit_pool()),
		)
		.unwrap_or_else(|_| {
			log!(warn, "challenge of job {job_id}: the worker's operator is gone");
			Zero::zero()
		});
		(taken, asset::pool_balance::<T>().saturating_sub(pool_before))
	}

	/// Pays each of the `agreeing` referees `per_worker`: from `bounty` (in the audit pool) as
	/// far as it goes, the rest from `challenger`'s deposit. Returns what the deposit paid and
	/// what is left of the bounty.
	pub(crate) fn pay_referees(
		agreeing: &[WorkerId],
		per_worker: BalanceOf<T>,
		bounty: BalanceOf<T>,
		challenger: &T::AccountId,
	) -> Result<(BalanceOf<T>, BalanceOf<T>), DispatchError> {
		let mut owed = BalanceOf::<T>::zero();
		for referee in agreeing {
			let Some(payee) = T::Workers::payee(referee) else {
				defensive!("an assigned worker stays registered");
				continue;
			};
			Self::accrue(&payee, per_worker);
			owed.saturating_accrue(per_worker);
		}
		let drawn = asset::draw_from_pool::<T>(owed.min(bounty));
		let from_deposit = owed.saturating_sub(drawn);
		asset::collect_deposit::<T>(challenger, from_deposit, &Self::pot())?;
		Ok((from_deposit, bounty.saturating_sub(drawn)))
	}

	/// Replaces a provisional result by the referees' output and refunds the submitter all it
	/// paid (the cost from the pot, the premium from the audit pool); returns the refund.
	pub(crate) fn overturn(
		job_id: JobId,
		provisional: &Provisional<T>,
		referee: WorkerId,
		finding: RevealedFinding<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let RevealedFinding::Output { output, signature } = finding else {
			return Err(Error::<T>::NotProvisional.into());
		};
		let refund = Self::refund_submitter(provisional);
		let output_hash = Self::finding_hash(&output);
		Results::<T>::mutate(job_id, |result| {
			if let Some(result) = result {
				result.worker = referee;
				result.output = output;
				result.output_hash = output_hash;
				result.signature = signature;
				result.single_worker = false;
			}
		});
		Overturned::<T>::insert(job_id, provisional.worker.clone());
		Provisionals::<T>::remove(job_id);
		Self::close(job_id, &provisional.job.model);
		Ok(refund)
	}

	/// Refunds an overturned provisional result's submitter all it paid (the cost from the pot,
	/// the premium from the audit pool); returns the refund.
	pub(crate) fn refund_submitter(provisional: &Provisional<T>) -> BalanceOf<T> {
		let job = &provisional.job;
		let cost = Self::held_cost(job, provisional.earners.len() as u32);
		let premium = asset::draw_from_pool::<T>(provisional.premium);
		let refund = cost.saturating_add(premium);
		// Straight back to the submitter; an account that cannot take it (below the existential
		// deposit) claims it instead.
		if asset::pay_out::<T>(&job.submitter, refund).is_err() {
			Self::accrue(&job.submitter, refund);
		}
		refund
	}

	/// Ends a challenge no referee quorum decided: the result is final, the deposit comes back
	/// less the minimum fee (the chain's work). `slashed` lists the referees slashed.
	pub(crate) fn void_challenge(
		job_id: JobId,
		job: Job<T>,
		outcome: RefereeOutcome,
		slashed: Vec<(WorkerId, BalanceOf<T>)>,
	) -> DispatchResult {
		let provisional = Provisionals::<T>::get(job_id).ok_or(Error::<T>::NotProvisional)?;
		let challenge = provisional.challenge.clone().ok_or(Error::<T>::NotProvisional)?;
		let returned = Self::return_deposit_less_fee(&challenge)?;
		Self::close(job_id, &job.model);
		Self::make_final(job_id, provisional);
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
		Self::deposit_event(Event::ChallengeEnded {
			job: job_id,
			challenger: challenge.challenger,
			won: false,
			returned,
			reward: Zero::zero(),
		});
		Ok(())
	}

	/// `worker` as a provisional result's earner: its operator and payee now.
	pub(crate) fn earner(worker: &WorkerId) -> Result<Earner<T>, DispatchError> {
		Ok(Earner {
			worker: worker.clone(),
			operator: T::Workers::operator(worker).ok_or(Error::<T>::NotWorkerAccount)?,
			payee: T::Workers::payee(worker).ok_or(Error::<T>::NotWorkerAccount)?,
		})
	}

	/// Returns a challenge's or an appeal's deposit that no referee quorum decided, less the
	/// minimum fee (the chain's work, to the treasury); returns what came back.
	pub(crate) fn return_deposit_less_fee(
		challenge: &Challenge<T>,
	) -> Result<BalanceOf<T>, DispatchError> {
		let kept = T::MinFee::get().min(challenge.deposit);
		asset::collect_deposit::<T>(&challenge.challenger, kept, &Self::pot())?;
		Self::accrue(&T::TreasuryAccount::get(), kept);
		asset::release_deposit::<T>(&challenge.challenger, challenge.deposit.saturating_sub(kept))
	}

	/// Where a settled job's result stands, while it is kept.
	pub fn result_status(job_id: JobId) -> Option<ResultStatus<BlockNumberFor<T>>> {
		let result = Results::<T>::get(job_id)?;
		if let Some(provisional) = Provisionals::<T>::get(job_id) {
			return Some(ResultStatus::Provisional {
				until: provisional.until,
				challenged: provisional.challenge.is_some(),
			});
		}
		Some(match Overturned::<T>::get(job_id) {
			// The runtime keeps the replaced worker named; referees name one of theirs.
			Some(worker) if worker == result.worker => ResultStatus::Recomputed { worker },
			Some(worker) => ResultStatus::Overturned { worker },
			None => ResultStatus::Final,
		})
	}
}
