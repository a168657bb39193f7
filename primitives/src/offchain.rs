//! What a node tells its off-chain workers through off-chain local storage.
//!
//! The node writes the endpoint of the executor its off-chain worker must use (the embedded one,
//! or a separate machine given by `--executor-url`) under [`EXECUTOR_ENDPOINT_KEY`] in the
//! `PERSISTENT` kind at every start, so the off-chain worker never relies on a constant.

use alloc::vec::Vec;
use codec::{Decode, Encode};

/// Off-chain local storage key (kind `PERSISTENT`) of the SCALE-encoded [`ExecutorEndpoint`].
pub const EXECUTOR_ENDPOINT_KEY: &[u8] = b"veritensor::executor-endpoint";

/// Where the executor listens and how to authenticate to it.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode)]
pub struct ExecutorEndpoint {
	/// Base URL (UTF-8), e.g. `http://127.0.0.1:40123`; requests go to `<url>/v1/...`.
	pub url: Vec<u8>,
	/// Bearer token (UTF-8); empty when the executor needs none.
	pub token: Vec<u8>,
}
