//! The model record and what an owner submits.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{fungible, ConstU32},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use sp_core::H256;
use veritensor_primitives::{ComparisonRule, IoSchema, ModelFormat, ModelHash};

/// The pallet's balance type.
pub type BalanceOf<T> =
	<<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
/// Funds taken out of the system by a slash, to be handed to `OnRejection`.
pub type CreditOf<T> =
	fungible::Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
/// A fetch URI of a model artifact (UTF-8).
pub type Uri<T> = BoundedVec<u8, <T as Config>::MaxUriLen>;
/// A model's fetch URIs, tried in order.
pub type Uris<T> = BoundedVec<Uri<T>, <T as Config>::MaxUris>;
/// Longest licence identifier (an SPDX expression such as `Apache-2.0`), in bytes.
pub type MaxLicenceLen = ConstU32<64>;

/// Where a model stands.
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
pub enum ModelStatus {
	/// Waiting for the listing origin's decision.
	Proposed,
	/// Serving jobs.
	Listed,
	/// Takes no new jobs; open jobs finish.
	Deprecated,
	/// Out of service. The record stays so that past jobs keep naming what they ran.
	Delisted,
}

/// The block of each status change.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct StatusHistory<BlockNumber> {
	/// When the model was proposed.
	pub proposed: BlockNumber,
	/// When it was listed.
	pub listed: Option<BlockNumber>,
	/// When it was deprecated.
	pub deprecated: Option<BlockNumber>,
	/// When it was delisted.
	pub delisted: Option<BlockNumber>,
}

/// A model's description: short text on chain, or the hash of a longer text kept elsewhere.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub enum Description<T: Config> {
	/// The description itself (UTF-8).
	Text(BoundedVec<u8, T::MaxDescriptionLen>),
	/// The blake2-256 hash of a longer description.
	Hash(H256),
}

/// What users see about a model besides its artifact.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelMetadata<T: Config> {
	/// Display name (UTF-8).
	pub name: BoundedVec<u8, T::MaxNameLen>,
	/// Description, inline or by hash.
	pub description: Description<T>,
	/// Licence, as an SPDX identifier.
	pub licence: BoundedVec<u8, MaxLicenceLen>,
}

/// Everything an owner states about a model when proposing it.
#[derive(
	CloneNoBound,
	PartialEqNoBound,
	EqNoBound,
	DebugNoBound,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelSpec<T: Config> {
	/// blake2-256 of the artifact file's bytes: the model's identity, never changed.
	pub artifact_hash: ModelHash,
	/// Size of the artifact file in bytes.
	pub artifact_size: u64,
	/// Artifact format.
	pub format: ModelFormat,
	/// Input and output tensors.
	pub schema: IoSchema,
	/// How workers' outputs are compared.
	pub comparison: ComparisonRule,
	/// Price paid to each assigned worker per job.
	pub price_per_worker: BalanceOf<T>,
	/// Royalty paid to the owner per job.
	pub owner_royalty: BalanceOf<T>,
	/// Where workers fetch the artifact.
	pub uris: Uris<T>,
	/// Name, description and licence.
	pub metadata: ModelMetadata<T>,
	/// The earlier version of this model, by the same owner, that this one supersedes.
	pub supersedes: Option<ModelHash>,
}

/// A model in the registry.
#[derive(
	CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, Encode, Decode, MaxEncodedLen, TypeInfo,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct ModelRecord<T: Config> {
	/// The proposer, who earns the royalty and whose deposit is held.
	pub owner: T::AccountId,
	/// What the owner proposed, with the current prices and URIs.
	pub spec: ModelSpec<T>,
	/// Current status.
	pub status: ModelStatus,
	/// When each status began.
	pub history: StatusHistory<BlockNumberFor<T>>,
	/// Deposit held from the owner; zero once returned.
	pub deposit: BalanceOf<T>,
	/// Jobs still open for this model.
	pub open_jobs: u32,
}
