//! # Veritensor primitives
//!
//! The types and traits that every part of Veritensor shares, so that the runtime, the node, the
//! off-chain worker and the executor agree on them byte for byte:
//!
//! - [`tensor`]: fixed-point tensors and the input/output schema a model declares;
//! - [`executor`]: the contract with the executor: its error kinds, which of them a retry can
//!   cure, and the reason a worker reports when it gives up on a job;
//! - [`hashing`]: the canonical input and output hashes (their exact byte layout is documented
//!   there and pinned by test vectors);
//! - [`receipt`]: the receipt a worker signs for every result, and the proof of possession an
//!   operator presents when it registers a worker key;
//! - [`worker_key`]: the worker key type (sr25519, key type `vtwk`) kept in a node's keystore;
//! - [`model`]: how a model's outputs are compared across workers, and how a job is verified;
//! - [`quorum`]: how a quorum's revealed answers are compared and decided;
//! - [`offchain`]: what the node tells its off-chain workers (the executor's endpoint);
//! - [`traits`]: the interfaces through which the job market reaches the model registry and the
//!   worker staking pallet;
//! - `serde_text` (with the `serde` feature): byte strings that hold text, as JSON strings.
//!
//! The crate is `no_std` and is compiled into the runtime; with the `std` feature it is also used
//! by the node and the executor.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod executor;
pub mod hashing;
pub mod model;
pub mod offchain;
pub mod quorum;
pub mod receipt;
#[cfg(feature = "serde")]
pub mod serde_text;
pub mod tensor;
pub mod traits;
pub mod worker_key;

pub use executor::{CannotExecuteReason, ExecutorErrorKind};
pub use hashing::{input_hash, output_hash};
pub use model::{audit_rate, ComparisonRule, Engine, ModelFormat, OutputRule, VerificationTerms};
pub use receipt::{possession_payload, Receipt};
pub use tensor::{ElementType, IoSchema, SchemaError, Tensor, TensorError, TensorSpec};
pub use worker_key::{WorkerId, WorkerSignature, WORKER_KEY_TYPE};

/// A model is named by the blake2-256 hash of its artifact file's bytes.
pub type ModelHash = sp_core::H256;

/// Jobs are numbered from zero in the order they are submitted.
pub type JobId = u64;
