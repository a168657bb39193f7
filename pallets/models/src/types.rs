//! The model record and what an owner submits.
//!
//! A [`ModelSpec`] is also how genesis names its models, so it and everything it holds are serde:
//! in a chain spec it is plain JSON, with text as strings and hashes as `0x` hex.

use crate::{Config, ModelStatus};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{
	traits::{fungible, ConstU32},
	BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;
use serde::{Deserialize, Serialize};
use sp_core::H256;
use sp_runtime::traits::Zero;
use veritensor_primitives::{
	tensor::{MaxTensors, Tensor},
	ComparisonRule, IoSchema, ModelFormat, ModelHash,
};

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
	Serialize,
	Deserialize,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
#[serde(bound = "")]
pub enum Description<T: Config> {
	/// The description itself (UTF-8).
	Text(#[serde(with = "veritensor_primitives::serde_text")] BoundedVec<u8, T::MaxDescriptionLen>),
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
	Serialize,
	Deserialize,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
#[serde(bound = "", deny_unknown_fields)]
pub struct ModelMetadata<T: Config> {
	/// Display name (UTF-8).
	#[serde(with = "veritensor_primitives::serde_text")]
	pub name: BoundedVec<u8, T::MaxNameLen>,
	/// Description, inline or by hash.
	pub description: Description<T>,
	/// Licence, as an SPDX identifier.
	#[serde(with = "veritensor_primitives::serde_text")]
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
	Serialize,
	Deserialize,
)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
// Every `T: Config` has serde balances (see `Config::Currency`), so no bound on `T` is needed.
#[serde(bound = "", deny_unknown_fields)]
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
	#[serde(with = "veritensor_primitives::serde_text::list")]
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
	/// Current status, with the block of each step that led to it.
	pub status: ModelStatus<BlockNumberFor<T>>,
	/// Deposit held from the owner; zero once returned.
	pub deposit: BalanceOf<T>,
	/// Jobs still open for this model.
	pub open_jobs: u32,
}

impl<T: Config> ModelRecord<T> {
	/// The record of a model listed from the start, without a deposit (genesis models).
	pub fn listed_at_genesis(owner: T::AccountId, spec: ModelSpec<T>) -> Self {
		ModelRecord {
			owner,
			spec,
			status: ModelStatus::Listed { proposed: Zero::zero(), listed: Zero::zero() },
			deposit: Zero::zero(),
			open_jobs: 0,
		}
	}
}

/// A conformance test vector: inputs to the model and the hash of the outputs its owner claims
/// the model computes for them (`veritensor_primitives::hashing::output_hash`).
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
pub struct ConformanceVector<T: Config> {
	/// One tensor per input of the schema, in its order.
	pub inputs: BoundedVec<Tensor<T::MaxExecutableTensorBytes>, MaxTensors>,
	/// The claimed hash of the outputs.
	pub output_hash: H256,
}

/// An executable model's artifact and conformance vectors, as stored on chain under the
/// owner's deposit.
pub type Artifact<T> = BoundedVec<u8, <T as Config>::MaxExecutableBytes>;
/// A proposal's conformance vectors.
pub type ConformanceVectors<T> =
	BoundedVec<ConformanceVector<T>, <T as Config>::MaxConformanceVectors>;

/// What the runtime measured of a model it can run itself, at listing.
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
pub struct Executable {
	/// The interpreter's cost of one run (the same for every input).
	pub cost: u64,
	/// The most bytes of tensor data a run holds.
	pub memory: u64,
	/// The artifact's size in bytes.
	pub bytes: u32,
}
