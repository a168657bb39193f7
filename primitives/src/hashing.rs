//! Canonical input and output hashes.
//!
//! A hash is `blake2_256(domain ‖ SCALE(tensors))` where `tensors` is the list of tensors in
//! schema order and `domain` is [`INPUT_DOMAIN`] or [`OUTPUT_DOMAIN`]. SCALE makes the layout
//! exact; byte by byte it is:
//!
//! | bytes | meaning |
//! |---|---|
//! | `domain` | 19 ASCII bytes, `veritensor:input:v1` or `veritensor:output:v` + `1` |
//! | compact(n) | number of tensors |
//! | per tensor: 1 byte | element type index: Bool 0, U8 1, I8 2, I16 3, I32 4, I64 5, F32 6 |
//! | per tensor: compact(rank), rank × u32 LE | shape |
//! | per tensor: 1 byte | `frac_bits` |
//! | per tensor: compact(len), len bytes | packed little-endian elements |
//!
//! The domains keep an input from ever hashing like an output. Engines must canonicalise their
//! outputs into this format (fixed-point, exact shapes) before hashing, so that two workers that
//! computed the same values produce the same hash.

use crate::tensor::{ElementType, Tensor};
use alloc::vec::Vec;
use codec::{Compact, Encode};
use sp_core::{Get, H256};

/// Domain separator of input hashes.
pub const INPUT_DOMAIN: &[u8] = b"veritensor:input:v1";
/// Domain separator of output hashes.
pub const OUTPUT_DOMAIN: &[u8] = b"veritensor:output:v1";

/// Builds a canonical hash tensor by tensor, in the layout above. It is the one implementation of
/// the layout: [`input_hash`] and [`output_hash`] feed it wire tensors, and the executor feeds it
/// engine outputs value by value, without packing them into wire tensors first.
pub struct TensorHasher {
	preimage: Vec<u8>,
}

impl TensorHasher {
	/// A hash of `tensors` tensors under `domain`; `capacity` is a guess of the packed data's
	/// size, to allocate once.
	pub fn new(domain: &[u8], tensors: u32, capacity: usize) -> Self {
		let mut preimage = Vec::with_capacity(domain.len().saturating_add(capacity));
		preimage.extend_from_slice(domain);
		Compact(tensors).encode_to(&mut preimage);
		Self { preimage }
	}

	/// Starts the next tensor: its element type, shape and fraction bits, and the length in bytes
	/// of its packed data, which [`Self::data`] then writes.
	pub fn tensor(&mut self, elem: ElementType, shape: &[u32], frac_bits: u8, data_len: u32) {
		elem.encode_to(&mut self.preimage);
		shape.encode_to(&mut self.preimage);
		frac_bits.encode_to(&mut self.preimage);
		Compact(data_len).encode_to(&mut self.preimage);
	}

	/// Writes packed little-endian elements of the current tensor.
	#[inline]
	pub fn data(&mut self, bytes: &[u8]) {
		self.preimage.extend_from_slice(bytes);
	}

	/// The hash.
	pub fn finish(self) -> H256 {
		H256(sp_crypto_hashing::blake2_256(&self.preimage))
	}
}

fn domain_hash<MaxBytes: Get<u32>>(domain: &[u8], tensors: &[Tensor<MaxBytes>]) -> H256 {
	let size = tensors.iter().map(|tensor| tensor.data.len() + tensor.shape.len() * 4 + 8).sum();
	let mut hasher = TensorHasher::new(domain, tensors.len() as u32, size);
	for tensor in tensors {
		hasher.tensor(tensor.elem, &tensor.shape, tensor.frac_bits, tensor.data.len() as u32);
		hasher.data(&tensor.data);
	}
	hasher.finish()
}

/// The canonical hash of a job's input tensors.
pub fn input_hash<MaxBytes: Get<u32>>(tensors: &[Tensor<MaxBytes>]) -> H256 {
	domain_hash(INPUT_DOMAIN, tensors)
}

/// The canonical hash of a job's output tensors.
pub fn output_hash<MaxBytes: Get<u32>>(tensors: &[Tensor<MaxBytes>]) -> H256 {
	domain_hash(OUTPUT_DOMAIN, tensors)
}

/// Domain separator of a quorum member's commitment.
pub const COMMIT_DOMAIN: &[u8] = b"veritensor:commit:v1";

/// A quorum member's commitment to its answer:
/// `blake2_256("veritensor:commit:v1" ‖ SCALE(genesis, job, worker, answer, salt))`. The salt
/// (32 random bytes the worker keeps until it reveals) stops anyone from confirming a guess of
/// the answer against the commitment; the job and worker stop a commitment from being replayed
/// by another member or for another job.
pub fn commitment<Answer: Encode>(
	genesis: &H256,
	job: crate::JobId,
	worker: &crate::WorkerId,
	answer: &Answer,
	salt: &[u8; 32],
) -> H256 {
	let mut preimage = Vec::from(COMMIT_DOMAIN);
	(genesis, job, worker, answer, salt).encode_to(&mut preimage);
	H256(sp_crypto_hashing::blake2_256(&preimage))
}
