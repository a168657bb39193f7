//! Unit tests, by topic. Every test runs through `ExtBuilder::build_and_execute`, which checks
//! the pallet's invariants (`do_try_state`) at the end.

mod answers;
mod appeal;
mod audit;
mod challenge;
mod draw;
mod executor_client;
mod lifecycle;
mod market_rules;
mod migration;
mod offchain;
mod queues;
mod quorum;
mod random;
mod recompute;
mod refusals;

use crate::{mock::*, HoldReason};
use frame_support::traits::fungible::InspectHold;
use veritensor_primitives::VerificationTerms;

/// Runs past the dispute window of the results settled in this block: they become final.
fn run_past_window() {
	run_to_block(System::block_number() + DISPUTE_WINDOW);
}

fn escrow_held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&RuntimeHoldReason::Jobs(HoldReason::JobEscrow), &who)
}

fn submit(who: AccountId, fill: u8, max_fee: Balance) -> u64 {
	let id = crate::NextJobId::<Test>::get();
	frame_support::assert_ok!(Jobs::submit(
		RuntimeOrigin::signed(who),
		digits(),
		image(fill),
		VerificationTerms::quorum(1),
		max_fee,
		DEADLINE,
	));
	id
}

/// Worker `seed`'s answer to `job`: the label `value`, with its receipt signed.
fn output_answer(seed: u8, job: u64, value: i64) -> crate::Submission<Test> {
	let output = label(value);
	let signature = sign(seed, job, &output);
	crate::Submission { job, answer: crate::Answer::Output { output, signature } }
}

/// A "cannot execute" answer to `job`.
fn cannot(job: u64, reason: crate::CannotExecuteReason) -> crate::Submission<Test> {
	crate::Submission { job, answer: crate::Answer::CannotExecute { reason } }
}

/// The call carrying `answers` as worker `seed`'s, the batch signed by its key.
fn answers_call(seed: u8, answers: Vec<crate::Submission<Test>>) -> crate::Call<Test> {
	use sp_core::Pair;
	let answers = crate::AnswersOf::<Test>::truncate_from(answers);
	let payload = crate::answers::answers_payload::<Test>(&worker(seed), &answers);
	let signature = worker_pair(seed).sign(&payload).into();
	crate::Call::submit_results { worker: worker(seed), answers, signature }
}

/// What the transaction pool makes of `call` (a general transaction from the network).
fn in_pool(
	call: &crate::Call<Test>,
) -> sp_runtime::transaction_validity::TransactionValidityWithRefund {
	use frame_support::traits::Authorize;
	call.authorize(sp_runtime::transaction_validity::TransactionSource::External)
		.expect("submit_results authorizes itself")
}

/// `call` included in a block: authorized for the block, then dispatched as authorized.
fn land(
	call: crate::Call<Test>,
) -> Result<
	frame_support::dispatch::DispatchResultWithPostInfo,
	sp_runtime::transaction_validity::TransactionValidityError,
> {
	use frame_support::traits::{Authorize, UnfilteredDispatchable};
	call.authorize(sp_runtime::transaction_validity::TransactionSource::InBlock)
		.expect("submit_results authorizes itself")?;
	Ok(call.dispatch_bypass_filter(frame_system::RawOrigin::Authorized.into()))
}

/// Worker `seed` answers `answers` the way a worker node does: the pool takes the batch, a
/// block applies it.
fn answer(seed: u8, answers: Vec<crate::Submission<Test>>) -> sp_runtime::DispatchResult {
	let call = answers_call(seed, answers);
	in_pool(&call).expect("the pool takes the batch");
	land(call).expect("the block takes the batch").map(|_| ()).map_err(|error| error.error)
}

/// The pool's refusal naming the pallet error `error`.
fn refused(
	error: crate::Error<Test>,
) -> sp_runtime::transaction_validity::TransactionValidityError {
	use codec::Encode;
	sp_runtime::transaction_validity::InvalidTransaction::Custom(error.encode()[0]).into()
}
