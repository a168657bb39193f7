//! Block authors' pay: a share of what the chain charges, the rest to the treasury.
//!
//! The share ([`AuthorShare`], a council parameter) applies to transaction fees and to the job
//! market's protocol fee; tips go to the author whole (they buy a place in its block). What a
//! job keeps when it is cancelled or cannot execute, challenge fees and slashes go to the
//! treasury only: were authors paid from them, a validator could cancel its own jobs, or lose
//! its own challenges, more cheaply than anyone else.

use crate::{
	parameters::{dynamic_params::rewards, ValueOf},
	AccountId, Balances, Runtime,
};
use frame_support::traits::{
	fungible::{Balanced, Credit},
	tokens::imbalance::ResolveTo,
	Get, Imbalance, OnUnbalanced,
};

/// The authors' share of transaction fees and of the protocol fee.
pub type AuthorShare = ValueOf<rewards::AuthorShare>;

/// The author of the block being built, from its BABE pre-digest and the session's validators;
/// `None` where there is no pre-digest (transaction validation).
pub struct BlockAuthor;
impl Get<Option<AccountId>> for BlockAuthor {
	fn get() -> Option<AccountId> {
		pallet_authorship::Pallet::<Runtime>::author()
	}
}

/// Splits each transaction's fee between the block author and the treasury (the author's part
/// rounded down, the treasury the exact rest), and gives the author its tip.
pub struct SplitFees;
impl OnUnbalanced<Credit<AccountId, Balances>> for SplitFees {
	fn on_unbalanceds(mut fees_then_tips: impl Iterator<Item = Credit<AccountId, Balances>>) {
		let Some(fee) = fees_then_tips.next() else { return };
		let tips = fees_then_tips.fold(Credit::<AccountId, Balances>::zero(), Imbalance::merge);
		let Some(author) = BlockAuthor::get() else {
			TreasuryFunds::on_unbalanced(fee.merge(tips));
			return;
		};
		let part = AuthorShare::get().mul_floor(fee.peek());
		let (to_author, to_treasury) = fee.split(part);
		TreasuryFunds::on_unbalanced(to_treasury);
		// An author account below the existential deposit cannot take a small credit: the
		// treasury keeps it.
		if let Err(unpaid) = Balances::resolve(&author, to_author.merge(tips)) {
			TreasuryFunds::on_unbalanced(unpaid);
		}
	}
}

type TreasuryFunds = ResolveTo<crate::configs::TreasuryAccount, Balances>;
