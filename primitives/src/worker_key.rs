//! The worker key: an sr25519 key of its own type (`vtwk`), held in a worker node's keystore.
//!
//! The off-chain worker signs receipts and result transactions with it; the chain maps it to the
//! worker an operator registered. It is not one of the session keys (a validator's consensus
//! keys): the node's `veritensor_generateWorkerKey` creates one, and `--dev`/`--alice` nodes
//! get the development seed's at start.

use sp_core::crypto::KeyTypeId;

/// Key type of worker keys in the keystore.
pub const WORKER_KEY_TYPE: KeyTypeId = KeyTypeId(*b"vtwk");

/// The application crypto of worker keys.
pub mod app {
	use sp_application_crypto::{app_crypto, sr25519};
	app_crypto!(sr25519, super::WORKER_KEY_TYPE);
}

/// A worker's public key.
pub type WorkerId = app::Public;
/// A signature made by a worker key.
pub type WorkerSignature = app::Signature;

/// The account a worker key signs transactions from: the key's 32 public bytes as an account id
/// (as `MultiSigner::Sr25519(key).into_account()` gives for `AccountId32`).
pub struct WorkerKeyAccount;

impl<AccountId: From<[u8; 32]>> sp_runtime::traits::Convert<WorkerId, AccountId>
	for WorkerKeyAccount
{
	fn convert(key: WorkerId) -> AccountId {
		let raw: sp_core::sr25519::Public = key.into();
		AccountId::from(raw.0)
	}
}
