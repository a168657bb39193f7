//! Conformance: a model's test vectors run on every engine this executor has, and whether
//! their output hashes agree. A model whose vectors agree on every engine can be pinned to any
//! of them; the summary hash names the vectors and their agreed outputs in one value, which a
//! model's owner can publish with the model.

use crate::{
	engine::EngineKind,
	error::{Error, Result},
	executor::{Executor, InferRequest},
	store::parse_hash,
	tensor::{input_hash, JsonTensor},
};
use codec::Encode;
use sp_core::H256;

/// What the engines gave for one vector.
#[derive(Clone, Debug)]
pub struct VectorOutcome {
	/// The vector's canonical input hash.
	pub input_hash: H256,
	/// Each engine's output hash (hex), or its error.
	pub outputs: Vec<(EngineKind, std::result::Result<String, String>)>,
}

impl VectorOutcome {
	/// The output hash every engine gave, if they all gave the same one.
	pub fn agreed(&self) -> Option<&str> {
		let mut hashes = self.outputs.iter().map(|(_, output)| output.as_ref().ok());
		let first = hashes.next()??;
		hashes.all(|hash| hash == Some(first)).then_some(first.as_str())
	}
}

/// The vectors' outcomes and, if every vector agreed on every engine, the summary hash:
/// blake2-256 of `"veritensor:conformance:v1"`, the model hash (32 bytes), the engines that
/// agreed (SCALE: a list of (name, version) strings), then each vector's input hash and
/// agreed output hash (32 bytes each), in order.
#[derive(Clone, Debug)]
pub struct Report {
	/// Per vector, in order.
	pub vectors: Vec<VectorOutcome>,
	/// The summary hash, when everything agreed.
	pub summary: Option<H256>,
}

/// Runs `vectors` (each a list of input tensors in graph order) through model `model` (hex
/// hash, in the store) on every engine `executor` has.
pub fn run(executor: &Executor, model: &str, vectors: &[Vec<JsonTensor>]) -> Result<Report> {
	if vectors.is_empty() {
		return Err(Error::BadInput(String::from("no test vectors")));
	}
	let model_hash = parse_hash(model)?;
	let infos = executor.engines();
	let engines: Vec<EngineKind> = infos.iter().map(|info| info.engine).collect();
	let mut outcomes = Vec::with_capacity(vectors.len());
	for inputs in vectors {
		let input_hash = input_hash(inputs)?;
		let outputs = engines
			.iter()
			.map(|engine| {
				let request = InferRequest {
					model: model.to_string(),
					inputs: inputs.clone(),
					engine: Some(*engine),
					engine_version: None,
					schema: None,
					output_frac_bits: None,
					fetch_from: Vec::new(),
					input_from: None,
				};
				let output = executor
					.infer(&request)
					.map(|response| response.output_hash)
					.map_err(|error| format!("{} ({error})", error.kind().as_str()));
				(*engine, output)
			})
			.collect();
		outcomes.push(VectorOutcome { input_hash, outputs });
	}
	let mut summary = None;
	if outcomes.iter().all(|outcome| outcome.agreed().is_some()) {
		let mut preimage = b"veritensor:conformance:v1".to_vec();
		preimage.extend_from_slice(model_hash.as_bytes());
		let named: Vec<(String, String)> = infos
			.iter()
			.map(|info| (info.engine.name().to_string(), info.version.clone()))
			.collect();
		named.encode_to(&mut preimage);
		for outcome in &outcomes {
			preimage.extend_from_slice(outcome.input_hash.as_bytes());
			let agreed = parse_hash(outcome.agreed().unwrap_or_default())?;
			preimage.extend_from_slice(agreed.as_bytes());
		}
		summary = Some(H256(sp_crypto_hashing::blake2_256(&preimage)));
	}
	Ok(Report { vectors: outcomes, summary })
}
