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
use sp_core::{
	crypto::{Pair as _, Ss58Codec},
	sr25519, Bytes,
};
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

/// A secret URI of `seed` (a mini-secret) that the keystore turns back into its key cheaply.
///
/// The keystore keeps a key as the secret URI it was given and derives the key pair again at
/// every signature. From a mnemonic phrase that derivation is PBKDF2 with 2,048 rounds of
/// HMAC-SHA-512, and a worker key signs a receipt for every job it answers: as a `0x` seed the
/// derivation is one hash.
fn seed_uri(seed: &[u8]) -> String {
	format!("0x{}", hex::encode(seed))
}

/// Creates a worker key from fresh randomness and keeps it in the keystore (on disk for a
/// node with a keystore path) as its seed.
fn generate_worker_key(keystore: &KeystorePtr) -> Result<sr25519::Public, String> {
	let (pair, seed) = sr25519::Pair::generate();
	let public = pair.public();
	keystore
		.insert(WORKER_KEY_TYPE, &seed_uri(&seed[..]), public.as_ref())
		.map_err(|()| "the keystore refused the new key".to_string())?;
	Ok(public)
}

/// Puts the worker key of the development seed `seed` (`//Alice`, ...) into the keystore,
/// held as the seed its hard derivation ends at where it has one.
pub fn insert_dev_worker_key(
	keystore: &KeystorePtr,
	seed: &str,
) -> Result<(), sc_service::error::Error> {
	let failed = |why: String| {
		sc_service::error::Error::Other(format!("inserting the dev worker key: {why}"))
	};
	let (_, derived) = sr25519::Pair::from_string_with_seed(seed, None)
		.map_err(|error| failed(format!("{error:?}")))?;
	let uri = derived.map(|derived| seed_uri(&derived[..])).unwrap_or_else(|| seed.to_string());
	keystore
		.sr25519_generate_new(WORKER_KEY_TYPE, Some(&uri))
		.map(|_| ())
		.map_err(|error| failed(error.to_string()))
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
			let public = generate_worker_key(&generating_keystore).map_err(|error| {
				ErrorObjectOwned::owned(
					ErrorCode::InternalError.code(),
					format!("the keystore could not create a worker key: {error}"),
					None::<()>,
				)
			})?;
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

#[cfg(test)]
mod tests {
	use super::*;
	use sc_keystore::LocalKeystore;

	fn keystore(dir: &std::path::Path) -> KeystorePtr {
		Arc::new(LocalKeystore::open(dir, None).expect("a fresh directory opens; qed"))
	}

	#[test]
	fn a_generated_worker_key_is_kept_on_disk_as_its_seed_and_signs() {
		let dir = tempfile::tempdir().unwrap();
		let public = generate_worker_key(&keystore(dir.path())).unwrap();
		let files: Vec<_> =
			std::fs::read_dir(dir.path()).unwrap().map(|f| f.unwrap().path()).collect();
		assert_eq!(files.len(), 1);
		let stored: String = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
		assert!(stored.starts_with("0x") && stored.len() == 66, "not a hex seed: {stored:?}");
		assert_eq!(sr25519::Pair::from_string(&stored, None).unwrap().public(), public);
		// A keystore opened again (a restarted node) still signs with it.
		let reopened = keystore(dir.path());
		let signature =
			reopened.sr25519_sign(WORKER_KEY_TYPE, &public, b"receipt").unwrap().unwrap();
		assert!(sr25519::Pair::verify(&signature, b"receipt", &public));
	}

	#[test]
	fn the_dev_worker_key_is_the_seeds_key_held_as_its_derived_seed() {
		let dir = tempfile::tempdir().unwrap();
		let keystore = keystore(dir.path());
		insert_dev_worker_key(&keystore, "//Alice").unwrap();
		let alice = sr25519::Pair::from_string("//Alice", None).unwrap().public();
		assert_eq!(keystore.sr25519_public_keys(WORKER_KEY_TYPE), vec![alice]);
		let signature =
			keystore.sr25519_sign(WORKER_KEY_TYPE, &alice, b"receipt").unwrap().unwrap();
		assert!(sr25519::Pair::verify(&signature, b"receipt", &alice));
	}
}
