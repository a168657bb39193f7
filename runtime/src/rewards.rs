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
	Get, Imbalance, OnUnbalanced,
};
use sp_runtime::Perbill;

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

/// The author's part of `amount`: the share, rounded down, so that the treasury's part is the
/// exact rest.
pub fn author_part(share: Perbill, amount: crate::Balance) -> crate::Balance {
	share.mul_floor(amount)
}

/// Splits each transaction's fee between the block author and the treasury, and gives the
/// author its tip.
pub struct SplitFees;
impl OnUnbalanced<Credit<AccountId, Balances>> for SplitFees {
	fn on_unbalanceds(mut fees_then_tips: impl Iterator<Item = Credit<AccountId, Balances>>) {
		let Some(fee) = fees_then_tips.next() else { return };
		let author = BlockAuthor::get();
		let (to_author, to_treasury) = match &author {
			Some(_) => {
				let part = author_part(AuthorShare::get(), fee.peek());
				fee.split(part)
			}
			None => (Credit::<AccountId, Balances>::zero(), fee),
		};
		let to_author = fees_then_tips.fold(to_author, |credit, tip| credit.merge(tip));
		TreasuryFunds::on_unbalanced(to_treasury);
		match author {
			Some(author) => {
				// An author account below the existential deposit cannot take a small credit:
				// the treasury keeps it.
				if let Err(unpaid) = Balances::resolve(&author, to_author) {
					TreasuryFunds::on_unbalanced(unpaid);
				}
			}
			None => TreasuryFunds::on_unbalanced(to_author),
		}
	}
}

type TreasuryFunds =
	frame_support::traits::tokens::imbalance::ResolveTo<crate::configs::TreasuryAccount, Balances>;
