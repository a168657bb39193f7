//! The canonical hash layout, receipts and proofs of possession.

use codec::Encode;
use sp_core::ConstU32;
use sp_core::{crypto::Pair as _, H256};
use sp_crypto_hashing::blake2_256;
use veritensor_primitives::{
	hashing::{INPUT_DOMAIN, OUTPUT_DOMAIN},
	input_hash, output_hash, possession_payload,
	tensor::{ElementType, Tensor},
	worker_key::app,
	Receipt,
};

type Bytes = ConstU32<64>;

fn sample() -> Vec<Tensor<Bytes>> {
	vec![
		Tensor {
			elem: ElementType::I64,
			shape: vec![1].try_into().unwrap(),
			frac_bits: 0,
			data: 7i64.to_le_bytes().to_vec().try_into().unwrap(),
		},
		Tensor {
			elem: ElementType::F32,
			shape: vec![1, 2].try_into().unwrap(),
			frac_bits: 16,
			data: [65536i32, -32768]
				.iter()
				.flat_map(|v| v.to_le_bytes())
				.collect::<Vec<u8>>()
				.try_into()
				.unwrap(),
		},
	]
}

/// The preimage written out byte by byte as the `hashing` module documents it.
fn documented_preimage(domain: &[u8]) -> Vec<u8> {
	let mut bytes = domain.to_vec();
	bytes.push(2 << 2); // compact(2): two tensors
					 // Tensor 0: I64 (index 5), shape [1], frac_bits 0, 8 data bytes.
	bytes.push(5);
	bytes.push(1 << 2);
	bytes.extend(1u32.to_le_bytes());
	bytes.push(0);
	bytes.push(8 << 2);
	bytes.extend(7i64.to_le_bytes());
	// Tensor 1: F32 (index 6), shape [1, 2], frac_bits 16, 8 data bytes.
	bytes.push(6);
	bytes.push(2 << 2);
	bytes.extend(1u32.to_le_bytes());
	bytes.extend(2u32.to_le_bytes());
	bytes.push(16);
	bytes.push(8 << 2);
	bytes.extend(65536i32.to_le_bytes());
	bytes.extend((-32768i32).to_le_bytes());
	bytes
}

#[test]
fn hashes_follow_the_documented_byte_layout() {
	assert_eq!(INPUT_DOMAIN.len(), 19);
	assert_eq!(OUTPUT_DOMAIN.len(), 20);
	let tensors = sample();
	assert_eq!(output_hash(&tensors), H256(blake2_256(&documented_preimage(OUTPUT_DOMAIN))));
	assert_eq!(input_hash(&tensors), H256(blake2_256(&documented_preimage(INPUT_DOMAIN))));
}

#[test]
fn input_and_output_hashes_never_coincide() {
	let tensors = sample();
	assert_ne!(input_hash(&tensors), output_hash(&tensors));
}

#[test]
fn any_change_to_an_output_changes_its_hash() {
	let tensors = sample();
	let base = output_hash(&tensors);
	let mut changed = tensors.clone();
	changed[1].data[0] ^= 1;
	assert_ne!(output_hash(&changed), base);
	let mut changed = tensors.clone();
	changed[1].frac_bits = 15;
	assert_ne!(output_hash(&changed), base);
	let mut changed = tensors;
	changed.swap(0, 1);
	assert_ne!(output_hash(&changed), base);
}

fn receipt(worker: app::Public) -> Receipt {
	Receipt {
		genesis_hash: H256::repeat_byte(1),
		job_id: 42,
		model: H256::repeat_byte(2),
		input_hash: H256::repeat_byte(3),
		output_hash: H256::repeat_byte(4),
		worker,
	}
}

#[test]
fn a_receipt_verifies_only_unchanged_and_from_its_worker() {
	let alice = app::Pair::from_string("//Alice", None).unwrap();
	let bob = app::Pair::from_string("//Bob", None).unwrap();
	let receipt = receipt(alice.public());
	let signature = alice.sign(&receipt.signing_payload());
	assert!(receipt.verify(&signature));

	let mut tampered = receipt.clone();
	tampered.output_hash = H256::repeat_byte(5);
	assert!(!tampered.verify(&signature));

	let mut other_job = receipt.clone();
	other_job.job_id = 43;
	assert!(!other_job.verify(&signature));

	let forged = bob.sign(&receipt.signing_payload());
	assert!(!receipt.verify(&forged));
}

#[test]
fn the_receipt_payload_is_domain_then_scale() {
	let alice = app::Pair::from_string("//Alice", None).unwrap();
	let receipt = receipt(alice.public());
	let payload = receipt.signing_payload();
	assert!(payload.starts_with(b"veritensor:receipt:v1"));
	assert_eq!(&payload[21..], &receipt.encode()[..]);
	// genesis 32 + job id 8 + three hashes 96 + worker key 32
	assert_eq!(receipt.encode().len(), 168);
}

#[test]
fn a_proof_of_possession_is_bound_to_operator_and_chain() {
	let key = app::Pair::from_string("//Worker", None).unwrap();
	let genesis = H256::repeat_byte(9);
	let operator = [1u8; 32];
	let proof = key.sign(&possession_payload(&operator, &genesis));
	use sp_runtime::RuntimeAppPublic;
	assert!(key.public().verify(&possession_payload(&operator, &genesis), &proof));
	assert!(!key.public().verify(&possession_payload(&[2u8; 32], &genesis), &proof));
	assert!(!key.public().verify(&possession_payload(&operator, &H256::repeat_byte(8)), &proof));
}

#[test]
fn the_worker_key_type_is_vtwk() {
	assert_eq!(veritensor_primitives::WORKER_KEY_TYPE.0, *b"vtwk");
}
