//! A validator's bond.

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
