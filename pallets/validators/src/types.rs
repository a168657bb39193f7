//! A validator's bond, and what the pallet needs to know of session keys.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_staking::SessionIndex;

/// What an account has bonded, and when a former validator may withdraw it.
#[derive(
	Clone,
	Default,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct ValidatorBond<Balance> {
	/// The held amount.
	pub amount: Balance,
	/// For a former validator, the session from which it may withdraw; `None` for a validator
	/// or a candidate never added.
	pub release_at: Option<SessionIndex>,
}

/// Session keys as the validator set sees them: whether an account has registered some, and
/// their removal when its bond goes.
pub trait SessionKeyRegistry<AccountId> {
	/// Whether `who` has session keys registered.
	fn has_keys(who: &AccountId) -> bool;

	/// Removes `who`'s session keys and returns whatever was held for them; nothing happens
	/// if it has none. Only called for an account that is no longer planned and whose bond is
	/// released, so its keys are in no session the chain still runs.
	fn remove_keys(who: &AccountId);
}

/// Takes an offender out of the authority set of the session under way, as far as the
/// consensus engines allow (BABE refuses blocks from a disabled author).
pub trait DisableValidator<AccountId> {
	/// Disables `who` in the current session, for an offence that cost it `severity` of its
	/// bond; nothing happens if it is not in the current session's set, or if the disabling
	/// limit is reached.
	fn disable(who: &AccountId, severity: sp_runtime::Perbill);
}
