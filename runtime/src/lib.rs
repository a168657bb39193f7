//! # Veritensor runtime
//!
//! A BABE + GRANDPA solochain runtime for verifiable AI inference. This crate composes the FRAME
//! pallets: system, timestamp, BABE (primary and secondary VRF slots, so that every block carries
//! VRF randomness), GRANDPA, sessions (with their historical record) that rotate a governed,
//! bonded validator set (`pallet-validators`), balances, transaction payment, utility, a council
//! (`pallet-collective`, which votes model listings and validators) and a treasury. Sudo is part of the runtime
//! but only the `development` genesis preset gives it a key. Veritensor's own pallets follow
//! from index 20: the model registry (`pallet-models`) worker staking (`pallet-workers`) and the job market (`pallet-jobs`).
//!
//! - [`configs`]: each pallet's configuration and the chain's constants;
//! - [`apis`]: the runtime APIs the node and clients call;
//! - [`weights`]: the base weights of a block, a transaction and a database access, measured;
//! - [`genesis_config_presets`]: the `development` and `local_testnet` presets.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` expands to deep recursion.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

use alloc::vec::Vec;

/// The pallets whose weights the node's `benchmark pallet` command measures.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks {
	frame_benchmarking::define_benchmarks!(
		[frame_benchmarking, BaselineBench::<Runtime>]
		[frame_system, SystemBench::<Runtime>]
		[frame_system_extensions, SystemExtensionsBench::<Runtime>]
		[pallet_transaction_payment, TransactionPayment]
		[pallet_balances, Balances]
		[pallet_timestamp, Timestamp]
		[pallet_utility, Utility]
		[pallet_collective, Council]
		[pallet_treasury, Treasury]
		[pallet_sudo, Sudo]
		[pallet_parameters, Parameters]
		[pallet_validators, Validators]
		[pallet_models, Models]
		[pallet_workers, Workers]
		[pallet_jobs, Jobs]
	);
}

pub mod apis;
pub mod configs;
pub mod genesis_config_presets;
pub mod offchain;
pub mod parameters;
pub mod rewards;
pub mod weights;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use configs::*;

/// Block numbers.
pub type BlockNumber = u32;
/// Transaction signatures.
pub type Signature = MultiSignature;
/// Account ids: the public key behind a [`Signature`].
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balances, in the chain's smallest unit (see [`configs::currency`]).
pub type Balance = u128;
/// Transaction counts of an account.
pub type Nonce = u32;
/// Block and state hashes.
pub type Hash = sp_core::H256;
/// Block headers.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Addresses in transactions.
pub type Address = MultiAddress<AccountId, ()>;

/// The checks every transaction passes through. `AuthorizeCall` comes first: a general
/// transaction whose call authorizes itself (a worker's answers) gets its origin there, and the
/// account checks after it (nonce, fee) then have no account to check.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Extrinsics as they are included in blocks.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;
/// The payload a transaction's signer signs.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;
/// Blocks.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// Storage migrations run on the next runtime upgrade.
pub type Migrations = (
	pallet_jobs::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_jobs::migrations::v2::MigrateV1ToV2<Runtime>,
	pallet_jobs::migrations::v3::MigrateV2ToV3<Runtime>,
	pallet_jobs::migrations::v4::MigrateV3ToV4<Runtime>,
	pallet_workers::migrations::v1::MigrateV0ToV1<Runtime>,
	pallet_models::migrations::v1::MigrateV0ToV1<Runtime, ModelRuleCorrections>,
);

frame_support::parameter_types! {
	/// Models whose version-0 comparison rule said less than it should: the float demo model
	/// compared its label under the probabilities' tolerance, so a wrong label (off by at most
	/// 9) was never slashable.
	pub ModelRuleCorrections: alloc::vec::Vec<(veritensor_primitives::ModelHash, veritensor_primitives::ComparisonRule)> = alloc::vec![(
		veritensor_primitives::ModelHash::from(genesis_config_presets::DEMO_FLOAT_MODEL_HASH),
		genesis_config_presets::demo_float_model_rule(),
	)];
}

/// Dispatches calls and runs the pallets' hooks.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

/// Types the node needs without knowing the runtime's extrinsic format.
pub mod opaque {
	use super::*;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Block headers.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Blocks with opaque extrinsics.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Block ids.
	pub type BlockId = generic::BlockId<Block>;

	impl_opaque_keys! {
		/// A validator's consensus keys: BABE and GRANDPA authority keys. Worker keys are not
		/// among them: they are registered with worker staking on their own, so that rotating a
		/// validator's keys never mints an unregistered worker key.
		pub struct SessionKeys {
			/// BABE block authoring.
			pub babe: Babe,
			/// GRANDPA finality voting.
			pub grandpa: Grandpa,
		}
	}
}

pub use opaque::SessionKeys;

/// The runtime's version. Bump `spec_version` with every change to runtime logic and
/// `transaction_version` with every change to call indices or arguments.
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("veritensor"),
	impl_name: alloc::borrow::Cow::Borrowed("veritensor"),
	authoring_version: 1,
	spec_version: 125,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 4,
	system_version: 1,
};

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;
	#[runtime::pallet_index(2)]
	pub type Babe = pallet_babe;
	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;
	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;
	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;
	#[runtime::pallet_index(6)]
	pub type Utility = pallet_utility;
	#[runtime::pallet_index(7)]
	pub type Council = pallet_collective<Instance1>;
	#[runtime::pallet_index(8)]
	pub type Treasury = pallet_treasury;
	#[runtime::pallet_index(9)]
	pub type Sudo = pallet_sudo;
	#[runtime::pallet_index(10)]
	pub type Parameters = pallet_parameters;
	// Declared before `Session`: its genesis set is what the session's genesis asks for.
	#[runtime::pallet_index(11)]
	pub type Validators = pallet_validators;
	#[runtime::pallet_index(12)]
	pub type Session = pallet_session;
	#[runtime::pallet_index(13)]
	pub type Historical = pallet_session::historical;
	#[runtime::pallet_index(14)]
	pub type Authorship = pallet_authorship;
	#[runtime::pallet_index(15)]
	pub type Offences = pallet_offences;

	// Veritensor's own pallets.
	#[runtime::pallet_index(20)]
	pub type Models = pallet_models;
	#[runtime::pallet_index(21)]
	pub type Workers = pallet_workers;
	#[runtime::pallet_index(22)]
	pub type Jobs = pallet_jobs;
}
