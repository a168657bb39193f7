//! Worker keys in this node's keystore, kept apart from the session (consensus) keys: rotating a
//! validator's session keys never touches them.
//!
//! - `veritensor_generateWorkerKey`: creates a new worker key (sr25519, key type `vtwk`) in the
//!   keystore and returns it with its account;
//! - `veritensor_workerKeyProofs`: proofs of possession for the worker keys in the keystore. An
//!   operator registers a worker key with the key's signature over
//!   `possession_payload(operator, genesis hash)`; the key never leaves the node, so the node
//!   signs the proof.
//!
//! Both use the keystore and are therefore unsafe: they answer only where unsafe RPC methods
//! are allowed. A node started with a development key (`--dev`, `--alice`, ...) gets that seed's
//! worker key at start, as the demo needs.

use jsonrpsee::{
	types::{error::ErrorCode, ErrorObjectOwned},
	RpcModule,
};
use serde::Serialize;
use sp_blockchain::HeaderBackend;
use sp_core::{crypto::Ss58Codec, Bytes};
use sp_keystore::KeystorePtr;
use std::sync::Arc;
use veritensor_primitives::{possession_payload, WORKER_KEY_TYPE};
use veritensor_runtime::{opaque::Block, AccountId};

/// A worker key in the keystore, its account, and its proof of possession for one operator.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkerKeyProof {
	/// The worker key (32 bytes, hex).
	pub worker: Bytes,
	/// The key's account (SS58), where the prices of its settled jobs accrue; it needs no
	/// funds: answers are fee-free general transactions the key signs.
	pub account: String,
	/// The key's signature over the operator and the genesis hash (64 bytes, hex).
	pub proof: Bytes,
}

/// A worker key just created in the keystore.
#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewWorkerKey {
	/// The worker key (32 bytes, hex).
	pub worker: Bytes,
	/// The key's account (SS58).
	pub account: String,
}

/// Puts the worker key of the development seed `seed` (`//Alice`, ...) into the keystore.
pub fn insert_dev_worker_key(
	keystore: &KeystorePtr,
	seed: &str,
) -> Result<(), sc_service::error::Error> {
	keystore.sr25519_generate_new(WORKER_KEY_TYPE, Some(seed)).map(|_| ()).map_err(|error| {
		sc_service::error::Error::Other(format!("inserting the dev worker key: {error}"))
	})
}

/// The methods' module.
pub fn rpc_module<C>(client: Arc<C>, keystore: KeystorePtr) -> RpcModule<()>
where
	C: HeaderBackend<Block> + Send + Sync + 'static,
{
	let mut module = RpcModule::new(());
	let generating_keystore = keystore.clone();
	module
		.register_method("veritensor_generateWorkerKey", move |_, _, extensions| {
			sc_rpc_api::check_if_safe(extensions)?;
			let public = generating_keystore.sr25519_generate_new(WORKER_KEY_TYPE, None).map_err(
				|error| {
					ErrorObjectOwned::owned(
						ErrorCode::InternalError.code(),
						format!("the keystore could not create a worker key: {error}"),
						None::<()>,
					)
				},
			)?;
			Ok::<_, ErrorObjectOwned>(NewWorkerKey {
				worker: Bytes(public.0.to_vec()),
				account: AccountId::from(public.0).to_ss58check(),
			})
		})
		.expect("the method name is registered once; qed");
	module
		.register_method("veritensor_workerKeyProofs", move |params, _, extensions| {
			sc_rpc_api::check_if_safe(extensions)?;
			let operator: AccountId = params.one().map_err(|_| {
				ErrorObjectOwned::owned(
					ErrorCode::InvalidParams.code(),
					"expected one parameter: the operator's SS58 address",
					None::<()>,
				)
			})?;
			proofs(&operator, client.info().genesis_hash, &keystore)
		})
		.expect("the method name is registered once; qed");
	module
}

fn proofs(
	operator: &AccountId,
	genesis_hash: sp_core::H256,
	keystore: &KeystorePtr,
) -> Result<Vec<WorkerKeyProof>, ErrorObjectOwned> {
	let payload = possession_payload(operator, &genesis_hash);
	keystore
		.sr25519_public_keys(WORKER_KEY_TYPE)
		.into_iter()
		.map(|public| {
			let signature = keystore
				.sr25519_sign(WORKER_KEY_TYPE, &public, &payload)
				.ok()
				.flatten()
				.ok_or_else(|| {
					ErrorObjectOwned::owned(
						ErrorCode::InternalError.code(),
						format!("the keystore could not sign with worker key {public}"),
						None::<()>,
					)
				})?;
			Ok(WorkerKeyProof {
				worker: Bytes(public.0.to_vec()),
				account: AccountId::from(public.0).to_ss58check(),
				proof: Bytes(signature.0.to_vec()),
			})
		})
		.collect()
}
