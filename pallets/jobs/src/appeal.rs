//! Appeals of a quorum's slashes.
//!
//! A quorum that agreed on an output slashes the members whose answers its slash rule finds
//! wrong, when its dispute window ends. Until then such a result is provisional (see
//! `challenge.rs`): the paid members' earnings are held, the input kept, and the findings a
//! referee quorum would judge kept too: the canonical output first, then each wrong member's.
//!
//! The operator of a member slashed for a wrong result may appeal meanwhile, with the deposit a
//! challenge takes. Three referees of operators with no part in the job run it again, blind,
//! and their majority judges every kept finding under the model's slash rule:
//!
//! - a wrong member the referees agree with (or find near) is cleared: its slash is cancelled;
//!   one they contradict is slashed now;
//! - if they contradict the canonical output, the quorum's majority (every member that agreed
//!   with it) is slashed an assignment's exposure each, the submitter is refunded all it paid
//!   and gets the referees' output; otherwise the result stands and becomes final;
//! - the slashes' bounties go to the audit pool and pay the agreeing referees first; the
//!   appellant's deposit pays what they do not cover. An appellant the referees clear gets the
//!   rest of its deposit back and the rest of the bounties as a reward; one they contradict
//!   loses the rest of its deposit to the audit pool;
//! - no decision (no referee quorum drawn, no majority, or it found the job cannot run): as
//!   for any dispute without referees, nobody is slashed (the wrong members' slashes are
//!   cancelled); the result stands and becomes final; the deposit comes back less the minimum
//!   fee.
//!
//! One appeal per result: it judges every wrong member at once. Members slashed for committing
//! without revealing, or for a "cannot execute" a majority contradicted by running the job,
//! have no output to judge and cannot appeal.

use crate::{asset, pallet::*, recompute::RefereeRun, types::*, WeightInfo};
use alloc::vec::Vec;
use frame_support::{
	defensive,
	dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo},
	pallet_prelude::*,
};
use sp_runtime::traits::{Saturating, Zero};
use veritensor_primitives::{
	quorum::{judge, Ballot, Verdict},
	traits::{Outcome, SlashAmount, SlashReason, WorkerStaking},
	ComparisonRule, JobId, WorkerId,
};

impl<T: Config> Pallet<T> {
	/// Keeps the findings an appeal of `job_id`'s quorum would put before referees: the
	/// canonical member's first, then each member's that the quorum found wrong.
	pub(crate) fn keep_for_appeal(
		job_id: JobId,
		canonical: (WorkerId, RevealedFinding<T>),
		wrong: Vec<(WorkerId, RevealedFinding<T>)>,
	) {
		Parties::<T>::insert(job_id, 0, canonical);
		for (index, party) in wrong.into_iter().enumerate() {
			Parties::<T>::insert(job_id, (index as u32).saturating_add(1), party);
		}
	}

	/// Forgets the findings kept for an appeal that can no longer come.
	pub(crate) fn forget_appeal_findings(job_id: JobId) {
		// At most one party per member of the job.
		let _ = Parties::<T>::clear_prefix(job_id, T::MaxWorkersPerJob::get(), None);
	}

	/// Opens `operator`'s appeal of `worker`'s slash in `job_id`'s quorum (see the module's
	/// docs).
	pub(crate) fn do_appeal(
		operator: T::AccountId,
		job_id: JobId,
		worker: WorkerId,
	) -> DispatchResultWithPostInfo {
		let decision = Decisions::<T>::get(job_id).ok_or(Error::<T>::NotAppealable)?;
		// The wrong members' findings are kept in the order of the decision, after the
		// canonical one.
		let wrong: Vec<&WorkerId> = decision
			.verdicts
			.iter()
			.filter(|(_, verdict)| *verdict == Verdict::Wrong)
			.map(|(member, _)| member)
			.collect();
		let position =
			wrong.iter().position(|member| **member == worker).ok_or(Error::<T>::NotAppealable)?;
		ensure!(
			T::Workers::operator(&worker).as_ref() == Some(&operator),
			Error::<T>::NotWorkersOperator
		);
		ensure!(!Appeals::<T>::contains_key(job_id), Error::<T>::AlreadyAppealed);
		let provisional = Provisionals::<T>::get(job_id).ok_or(Error::<T>::AppealWindowClosed)?;
		let now = frame_system::Pallet::<T>::block_number();
		ensure!(now < provisional.until, Error::<T>::AppealWindowClosed);
		let party = (position as u32).saturating_add(1);
		let claimed = match Parties::<T>::get(job_id, party) {
			Some((member, RevealedFinding::Output { output, .. })) if member == worker => {
				Self::finding_hash(&output)
			}
			// "Cannot execute" against a majority that ran the job: referees that run it can
			// only confirm the slash, and referees that cannot would void the appeal.
			_ => return Err(Error::<T>::NotAppealable.into()),
		};
		let parties = (wrong.len() as u32).saturating_add(1);

		let mut used = T::WeightInfo::appeal();
		match Self::run_as_referee(&operator, job_id, &provisional.job.model)? {
			RefereeRun::Ran(execution, outputs) => {
				let appeal = Challenge { challenger: operator, deposit: T::MinFee::get(), claimed };
				let (won, largest) = Self::appeal_by_recomputation(
					job_id,
					worker,
					provisional,
					appeal,
					parties,
					outputs,
				)?;
				let pays_fee = if won { Pays::No } else { Pays::Yes };
				let actual_weight =
					Some(Self::appeal_recompute_weight(execution, parties, largest));
				return Ok(PostDispatchInfo { actual_weight, pays_fee });
			}
			RefereeRun::Failed(execution) => used.saturating_accrue(execution),
			RefereeRun::NotRun => {}
		}

		let deposit = Self::challenge_deposit(&provisional.job);
		asset::hold_deposit::<T>(&operator, deposit)
			.map_err(|_| Error::<T>::InsufficientDeposit)?;

		Referrals::<T>::insert(job_id, Referral { cause: RefereeCause::Appealed, parties });
		let challenge = Challenge { challenger: operator.clone(), deposit, claimed };
		let draw_at = Self::reopen_for_referees(job_id, provisional, challenge, now)?;
		Appeals::<T>::insert(job_id, worker.clone());
		Self::deposit_event(Event::Appealed { job: job_id, worker, operator, deposit, draw_at });
		Ok(Some(used).into())
	}

	/// Settles `appeal` of `worker`'s slash in `job_id`'s quorum (whose `parties` findings are
	/// kept) at once, on the runtime's `outputs`: as referees would decide it, the runtime's
	/// output in their place. Only the minimum fee is held (already, by the caller): nobody
	/// else does any work. Returns whether the appeal won, and the largest kept finding's size.
	fn appeal_by_recomputation(
		job_id: JobId,
		worker: WorkerId,
		mut provisional: Provisional<T>,
		appeal: Challenge<T>,
		parties: u32,
		outputs: InlineTensors<T>,
	) -> Result<(bool, u32), DispatchError> {
		let job = provisional.job.clone();
		let kept: Vec<(WorkerId, RevealedFinding<T>)> =
			(0..parties).filter_map(|party| Parties::<T>::get(job_id, party)).collect();
		// Overturned on the runtime's own output, the result names the canonical member, as
		// `Overturned` does: that marks it as the runtime's.
		let canonical = Self::runtime_canonical(&kept, &outputs, &provisional.worker);
		Referrals::<T>::insert(job_id, Referral { cause: RefereeCause::Appealed, parties });
		Appeals::<T>::insert(job_id, worker);
		let appellant = appeal.challenger.clone();
		provisional.challenge = Some(appeal);
		Provisionals::<T>::insert(job_id, provisional);
		let largest =
			kept.iter().map(|(_, finding)| Self::finding_bytes(finding)).max().unwrap_or(0);
		// The quorum's canonical output is kept first.
		let output_hash = veritensor_primitives::output_hash(&outputs);
		let upheld =
			kept.first().is_some_and(|(_, finding)| Self::finding_is(finding, output_hash));
		Self::deposit_event(Event::Recomputed {
			job: job_id,
			challenger: appellant,
			output_hash,
			upheld,
		});
		let ballot = Ballot::Output(&outputs);
		let won = Self::end_appeal(job_id, job, canonical, ballot, Vec::new(), Vec::new(), true)?;
		Ok((won, largest))
	}

	/// Ends an appeal its referees decided: `canonical` is their output (the referee and its
	/// finding), `ballot` its ballot; `agreeing` the referees paid; `slashed` the referees
	/// slashed so far.
	pub(crate) fn decide_appeal(
		job_id: JobId,
		job: Job<T>,
		canonical: (WorkerId, RevealedFinding<T>),
		ballot: Ballot<'_, T::MaxInlineTensorBytes>,
		agreeing: Vec<WorkerId>,
		slashed: Vec<(WorkerId, BalanceOf<T>)>,
	) -> DispatchResult {
		Self::end_appeal(job_id, job, canonical, ballot, agreeing, slashed, false).map(|_| ())
	}

	/// Ends an appeal on `canonical` (found by referees, of whom `agreeing` are paid, or
	/// `by_runtime`); returns whether the appellant won.
	fn end_appeal(
		job_id: JobId,
		job: Job<T>,
		canonical: (WorkerId, RevealedFinding<T>),
		ballot: Ballot<'_, T::MaxInlineTensorBytes>,
		agreeing: Vec<WorkerId>,
		mut slashed: Vec<(WorkerId, BalanceOf<T>)>,
		by_runtime: bool,
	) -> Result<bool, DispatchError> {
		let provisional = Provisionals::<T>::get(job_id).ok_or(Error::<T>::NotProvisional)?;
		let appeal = provisional.challenge.clone().ok_or(Error::<T>::NotProvisional)?;
		let appellant = Appeals::<T>::get(job_id).ok_or(Error::<T>::NotAppealable)?;
		let mut decision = Decisions::<T>::get(job_id).ok_or(Error::<T>::NotAppealable)?;
		let referral = Referrals::<T>::get(job_id).ok_or(Error::<T>::NotAppealable)?;
		let parties: Vec<(WorkerId, RevealedFinding<T>)> =
			(0..referral.parties).filter_map(|party| Parties::<T>::get(job_id, party)).collect();
		let rule = Self::rule(&job.model);
		let pinned = matches!(rule, ComparisonRule::ExactHash { .. });
		let verdicts: Vec<Verdict> = parties
			.iter()
			.map(|(_, finding)| {
				judge(&rule, pinned, &crate::audit::ballot::<T>(finding), Some(&ballot))
			})
			.collect();
		let overturned = verdicts.first() == Some(&Verdict::Wrong);
		let pool_before = asset::pool_balance::<T>();
		let exposure = T::Workers::max_exposure();
		let mut won = false;

		// The members the quorum found wrong: slashed if the referees contradict them too,
		// cleared otherwise.
		for ((worker, _), verdict) in parties.iter().zip(&verdicts).skip(1) {
			let confirmed = *verdict == Verdict::Wrong;
			if confirmed {
				slashed.push(Self::slash_now(
					job_id,
					worker,
					decision.slash,
					SlashReason::WrongResult,
				));
			} else {
				T::Workers::note_released(worker, exposure, Outcome::Voided);
				Self::set_verdict(&mut decision, worker, Verdict::Differed);
			}
			if *worker == appellant {
				won = !confirmed;
			}
		}
		// The majority vouched for an output the referees contradict: each member is slashed
		// through the operator recorded at the decision, even if its key has left since.
		if overturned {
			for earner in &provisional.earners {
				let taken = T::Workers::slash_operator(
					&earner.operator,
					&earner.worker,
					SlashAmount::Fixed(decision.slash),
					SlashReason::WrongResult,
					Some(Self::audit_pool()),
				)
				.unwrap_or_else(|_| {
					log!(warn, "appeal of job {job_id}: a majority member's operator is gone");
					Zero::zero()
				});
				slashed.push((earner.worker.clone(), taken));
				Self::set_verdict(&mut decision, &earner.worker, Verdict::Wrong);
			}
		}
		Decisions::<T>::insert(job_id, decision);

		let bounty = asset::pool_balance::<T>().saturating_sub(pool_before);
		let (spent, left) =
			Self::pay_referees(&agreeing, job.price.per_worker, bounty, &appeal.challenger)?;
		let (returned, reward) = if won {
			let reward = asset::draw_from_pool::<T>(left);
			Self::accrue(&appeal.challenger, reward);
			let returned = asset::release_deposit::<T>(
				&appeal.challenger,
				appeal.deposit.saturating_sub(spent),
			)?;
			(returned, reward)
		} else {
			let rest = appeal.deposit.saturating_sub(spent);
			asset::collect_deposit::<T>(&appeal.challenger, rest, &Self::audit_pool())?;
			(Zero::zero(), Zero::zero())
		};
		let (referee, referee_finding) = canonical;
		if overturned {
			let refunded = Self::overturn(job_id, &provisional, referee.clone(), referee_finding)?;
			let worker = provisional.worker.clone();
			Self::deposit_event(Event::Overturned { job: job_id, worker, refunded });
		} else {
			Self::close(job_id, &job.model);
			Self::make_final(job_id, provisional);
		}
		let outcome = if by_runtime {
			RefereeOutcome::Recomputed { upheld: !overturned }
		} else {
			RefereeOutcome::Decided { canonical: referee, upheld: !overturned }
		};
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
		Self::deposit_event(Event::AppealEnded {
			job: job_id,
			worker: appellant,
			operator: appeal.challenger,
			won,
			returned,
			reward,
		});
		Ok(won)
	}

	/// Ends an appeal no referee quorum decided: as for any dispute without referees, nobody is
	/// slashed (the wrong members' slashes are cancelled); the result stands and is final, and
	/// the deposit comes back less the minimum fee. `slashed` lists the referees slashed.
	pub(crate) fn void_appeal(
		job_id: JobId,
		job: Job<T>,
		outcome: RefereeOutcome,
		slashed: Vec<(WorkerId, BalanceOf<T>)>,
	) -> DispatchResult {
		let provisional = Provisionals::<T>::get(job_id).ok_or(Error::<T>::NotProvisional)?;
		let appeal = provisional.challenge.clone().ok_or(Error::<T>::NotProvisional)?;
		let appellant = Appeals::<T>::get(job_id).ok_or(Error::<T>::NotAppealable)?;
		let parties = Referrals::<T>::get(job_id).map_or(0, |referral| referral.parties);
		let exposure = T::Workers::max_exposure();
		for party in 1..parties {
			if let Some((worker, _)) = Parties::<T>::get(job_id, party) {
				T::Workers::note_released(&worker, exposure, Outcome::Voided);
			} else {
				defensive!("an appeal keeps its parties until decided");
			}
		}
		let returned = Self::return_deposit_less_fee(&appeal)?;
		Self::close(job_id, &job.model);
		Self::make_final(job_id, provisional);
		Self::deposit_event(Event::Refereed { job: job_id, outcome, slashed });
		Self::deposit_event(Event::AppealEnded {
			job: job_id,
			worker: appellant,
			operator: appeal.challenger,
			won: false,
			returned,
			reward: Zero::zero(),
		});
		Ok(())
	}

	/// Rewrites `worker`'s verdict in a quorum's recorded decision.
	fn set_verdict(decision: &mut QuorumDecision<T>, worker: &WorkerId, verdict: Verdict) {
		for (member, recorded) in decision.verdicts.iter_mut() {
			if member == worker {
				*recorded = verdict;
			}
		}
	}
}
