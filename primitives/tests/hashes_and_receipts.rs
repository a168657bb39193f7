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

fn hex_bytes(value: &serde_json::Value) -> Vec<u8> {
	let text = value.as_str().expect("hex strings");
	let digits = text.strip_prefix("0x").expect("0x-prefixed hex");
	(0..digits.len())
		.step_by(2)
		.map(|at| u8::from_str_radix(&digits[at..at + 2], 16).expect("hex digits"))
		.collect()
}

fn hash_of(value: &serde_json::Value) -> H256 {
	H256::from_slice(&hex_bytes(value))
}

/// The pinned vectors every client checks itself against (the Python SDK's tests read the same
/// file): the hashes here must never change, or clients' verification breaks.
#[test]
fn the_pinned_hash_and_receipt_vectors_hold() {
	let vectors: serde_json::Value =
		serde_json::from_str(include_str!("vectors/hashes.json")).expect("the vectors are JSON");
	let cases = vectors["cases"].as_array().expect("a list of cases");
	assert!(cases.len() >= 7);
	for case in cases {
		let name = case["name"].as_str().unwrap();
		let tensors: Vec<Tensor<ConstU32<{ 1 << 20 }>>> = case["tensors"]
			.as_array()
			.unwrap()
			.iter()
			.map(|tensor| {
				let elem = match tensor["elem"].as_str().unwrap() {
					"Bool" => ElementType::Bool,
					"U8" => ElementType::U8,
					"I8" => ElementType::I8,
					"I16" => ElementType::I16,
					"I32" => ElementType::I32,
					"I64" => ElementType::I64,
					"F32" => ElementType::F32,
					other => panic!("{name}: element type {other} not in the vectors' list"),
				};
				Tensor {
					elem,
					shape: tensor["shape"]
						.as_array()
						.unwrap()
						.iter()
						.map(|side| side.as_u64().unwrap() as u32)
						.collect::<Vec<_>>()
						.try_into()
						.unwrap(),
					frac_bits: tensor["frac_bits"].as_u64().unwrap() as u8,
					data: hex_bytes(&tensor["data"]).try_into().unwrap(),
				}
			})
			.collect();
		assert_eq!(input_hash(&tensors), hash_of(&case["input_hash"]), "{name}: input hash");
		assert_eq!(output_hash(&tensors), hash_of(&case["output_hash"]), "{name}: output hash");
	}

	let pinned = &vectors["receipt"];
	let worker = app::Pair::from_string(pinned["worker_seed"].as_str().unwrap(), None).unwrap();
	assert_eq!(AsRef::<[u8]>::as_ref(&worker.public()), &hex_bytes(&pinned["worker"])[..]);
	let receipt = Receipt {
		genesis_hash: hash_of(&pinned["genesis_hash"]),
		job_id: pinned["job"].as_u64().unwrap(),
		model: hash_of(&pinned["model"]),
		input_hash: hash_of(&pinned["input_hash"]),
		output_hash: hash_of(&pinned["output_hash"]),
		worker: worker.public(),
	};
	assert_eq!(receipt.signing_payload(), hex_bytes(&pinned["signing_payload"]));
	let signature = app::Signature::try_from(&hex_bytes(&pinned["signature"])[..]).unwrap();
	assert!(receipt.verify(&signature), "the pinned signature verifies");
}
