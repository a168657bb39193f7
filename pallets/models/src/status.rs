//! Where a model stands, with the block of every step that led there. Each status carries
//! exactly the blocks its path implies, and the transitions are the only way from one to the
//! next, so a record cannot claim a status its history contradicts.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A model's status and when each step of its life happened.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum ModelStatus<BlockNumber> {
	/// Waiting for the listing origin's decision.
	Proposed {
		/// When the model was proposed.
		at: BlockNumber,
	},
	/// Serving jobs.
	Listed {
		/// When the model was proposed.
		proposed: BlockNumber,
		/// When it was listed.
		listed: BlockNumber,
	},
	/// Takes no new jobs; open jobs finish.
	Deprecated {
		/// When the model was proposed.
		proposed: BlockNumber,
		/// When it was listed.
		listed: BlockNumber,
		/// When it was deprecated.
		deprecated: BlockNumber,
	},
	/// Out of service. The record stays so that past jobs keep naming what they ran.
	Delisted {
		/// When the model was proposed.
		proposed: BlockNumber,
		/// When it was listed.
		listed: BlockNumber,
		/// When it was deprecated, if it was before being delisted.
		deprecated: Option<BlockNumber>,
		/// When it was delisted.
		delisted: BlockNumber,
	},
}

/// The kind of a [`ModelStatus`] without its blocks: what the runtime API filters and reports.
#[derive(
	Clone,
	Copy,
	PartialEq,
	Eq,
	Debug,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub enum StatusKind {
	/// Waiting for the listing origin's decision.
	Proposed,
	/// Serving jobs.
	Listed,
	/// Takes no new jobs; open jobs finish.
	Deprecated,
	/// Out of service.
	Delisted,
}

impl<BlockNumber: Copy> ModelStatus<BlockNumber> {
	/// The status without its blocks.
	pub fn kind(&self) -> StatusKind {
		match self {
			Self::Proposed { .. } => StatusKind::Proposed,
			Self::Listed { .. } => StatusKind::Listed,
			Self::Deprecated { .. } => StatusKind::Deprecated,
			Self::Delisted { .. } => StatusKind::Delisted,
		}
	}

	/// Listed at `now`; `None` unless the model is proposed.
	pub fn list(&self, now: BlockNumber) -> Option<Self> {
		match *self {
			Self::Proposed { at } => Some(Self::Listed { proposed: at, listed: now }),
			_ => None,
		}
	}

	/// Deprecated at `now`; `None` unless the model is listed.
	pub fn deprecate(&self, now: BlockNumber) -> Option<Self> {
		match *self {
			Self::Listed { proposed, listed } => {
				Some(Self::Deprecated { proposed, listed, deprecated: now })
			}
			_ => None,
		}
	}

	/// Delisted at `now`; `None` unless the model is listed or deprecated.
	pub fn delist(&self, now: BlockNumber) -> Option<Self> {
		match *self {
			Self::Listed { proposed, listed } => {
				Some(Self::Delisted { proposed, listed, deprecated: None, delisted: now })
			}
			Self::Deprecated { proposed, listed, deprecated } => Some(Self::Delisted {
				proposed,
				listed,
				deprecated: Some(deprecated),
				delisted: now,
			}),
			Self::Proposed { .. } | Self::Delisted { .. } => None,
		}
	}
}
