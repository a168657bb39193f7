//! `veritensor_workerKeyProofs`: proofs of possession for the worker keys in this node's keystore.
//!
//! An operator registers a worker key with the key's signature over
//! `possession_payload(operator, genesis hash)`. The key lives in the node's keystore (inserted,
//! or created by `author_rotateKeys`), so the node signs the proof. The method uses the keystore
//! and is therefore unsafe: it answers only where unsafe RPC methods are allowed.

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

/// The method's module.
pub fn rpc_module<C>(client: Arc<C>, keystore: KeystorePtr) -> RpcModule<()>
where
	C: HeaderBackend<Block> + Send + Sync + 'static,
{
	let mut module = RpcModule::new(());
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
