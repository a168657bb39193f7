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

use crate::tensor::Tensor;
use codec::Encode;
use sp_core::{Get, H256};

/// Domain separator of input hashes.
pub const INPUT_DOMAIN: &[u8] = b"veritensor:input:v1";
/// Domain separator of output hashes.
pub const OUTPUT_DOMAIN: &[u8] = b"veritensor:output:v1";

fn domain_hash<MaxBytes: Get<u32>>(domain: &[u8], tensors: &[Tensor<MaxBytes>]) -> H256 {
	let mut preimage = alloc::vec::Vec::with_capacity(domain.len() + tensors.encoded_size());
	preimage.extend_from_slice(domain);
	tensors.encode_to(&mut preimage);
	H256(sp_crypto_hashing::blake2_256(&preimage))
}

/// The canonical hash of a job's input tensors.
pub fn input_hash<MaxBytes: Get<u32>>(tensors: &[Tensor<MaxBytes>]) -> H256 {
	domain_hash(INPUT_DOMAIN, tensors)
}

/// The canonical hash of a job's output tensors.
pub fn output_hash<MaxBytes: Get<u32>>(tensors: &[Tensor<MaxBytes>]) -> H256 {
	domain_hash(OUTPUT_DOMAIN, tensors)
}
