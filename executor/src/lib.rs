//! # Veritensor executor
//!
//! Runs the ONNX models the chain's registry names, for workers. It knows no chain: it speaks
//! only the shared types of `veritensor-primitives` (fixed-point tensors, canonical hashes).
//!
//! - [`store`]: a content-addressed store; files are kept under their blake2-256 hash, checked
//!   on the way in and on every read.
//! - [`fetch`]: downloads from URIs in chain data under a strict policy.
//! - [`engine`]: tract (pure Rust, default) and ONNX Runtime (loaded at run time) behind one
//!   trait.
//! - [`tensor`]: conversions between JSON, the chain's packed tensors and engine values, and
//!   the canonical input and output hashes.
//! - [`executor`]: the inference path with its loaded-model cache.
//! - [`isolation`]: the engines in supervised child processes, under memory, CPU-time and
//!   wall-clock limits.
//! - [`server`]: the HTTP service (`veritensor-executor serve`).
//! - [`tls`]: the service's certificate and a client's trust in it.
//! - [`link`]: a node's loopback forwarder to a remote executor over pinned TLS.
//!
//! docs/executor.md describes the service, its API, limits and metrics.

pub mod client;
pub mod conformance;
pub mod engine;
pub mod error;
pub mod executor;
pub mod fetch;
pub mod graph;
pub mod isolation;
pub mod link;
pub mod metrics;
pub mod server;
pub mod store;
pub mod tensor;
pub mod tls;

pub use crate::{
	engine::EngineKind,
	error::{Error, ExecutorErrorKind, Result},
	executor::{Config, Executor, InferRequest, InferResponse, RemoteInput},
};
