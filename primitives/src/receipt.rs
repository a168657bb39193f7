//! What a worker signs.
//!
//! A [`Receipt`] binds a result to one chain, one job, one model, one input and one worker. The
//! signed message is `RECEIPT_DOMAIN ‖ SCALE(receipt)`. A proof of possession of a worker key is
//! the key's signature over [`possession_payload`], so that nobody can register a key they do not
//! hold, nor replay a proof on another chain or for another operator.

use crate::{JobId, ModelHash, WorkerId, WorkerSignature};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_core::H256;
use sp_runtime::RuntimeAppPublic;

/// Domain separator of receipts.
pub const RECEIPT_DOMAIN: &[u8] = b"veritensor:receipt:v1";
/// Domain separator of proofs of possession.
pub const POSSESSION_DOMAIN: &[u8] = b"veritensor:possession:v1";

/// The statement a worker signs for each result.
#[derive(
	Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, MaxEncodedLen, TypeInfo,
)]
pub struct Receipt {
	/// Hash of the chain's genesis block.
	pub genesis_hash: H256,
	/// The job answered.
	pub job_id: JobId,
	/// The model run.
	pub model: ModelHash,
	/// Canonical hash of the input (see [`crate::hashing`]).
	pub input_hash: H256,
	/// Canonical hash of the output (see [`crate::hashing`]).
	pub output_hash: H256,
	/// The worker key that ran the job.
	pub worker: WorkerId,
}

impl Receipt {
	/// The exact bytes a worker key signs.
	pub fn signing_payload(&self) -> Vec<u8> {
		let mut payload = Vec::with_capacity(RECEIPT_DOMAIN.len() + self.encoded_size());
		payload.extend_from_slice(RECEIPT_DOMAIN);
		self.encode_to(&mut payload);
		payload
	}

	/// Whether `signature` is the receipt's worker's signature over it.
	pub fn verify(&self, signature: &WorkerSignature) -> bool {
		self.worker.verify(&self.signing_payload(), signature)
	}

	/// Signs the receipt with its worker's key from the keystore (off-chain worker or node).
	pub fn sign(&self) -> Option<WorkerSignature> {
		self.worker.sign(&self.signing_payload())
	}
}

/// The bytes a worker key signs to prove to `operator` on the chain with `genesis_hash` that the
/// key is held by whoever registers it.
pub fn possession_payload<AccountId: Encode>(operator: &AccountId, genesis_hash: &H256) -> Vec<u8> {
	let mut payload = Vec::from(POSSESSION_DOMAIN);
	(operator, genesis_hash).encode_to(&mut payload);
	payload
}
