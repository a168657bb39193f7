//! The off-chain worker's client of the executor (`executor/`, embedded in the node or on
//! another machine): a job's tensors to the executor's JSON API, its answer back to chain
//! tensors, over the node's HTTP with a deadline.
//!
//! The answer is trusted only as far as it can be checked here: its outputs must fit the
//! model's schema and hash to the output hash the executor claims, which is the hash the
//! receipt will carry.

use alloc::{format, string::String, vec::Vec};
use frame_support::BoundedVec;
use serde_json::{json, Value};
use sp_core::{hexdisplay::HexDisplay, Get, H256};
use sp_runtime::offchain::{http, Duration};
use veritensor_primitives::{
	hashing::output_hash,
	offchain::ExecutorEndpoint,
	tensor::{check_tensors, ElementType, IoSchema, Tensor, TensorSpec},
	ModelHash,
};

/// Why an inference did not produce outputs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ClientError {
	/// The executor could not be reached, or did not answer before the deadline: try again
	/// later.
	Unreachable(String),
	/// The executor refused or failed for a reason that may pass (overloaded, timed out, engine
	/// failure, model not fetched yet): try again later.
	Transient { kind: String, message: String },
	/// The job can never run on this model (corrupt model, unsupported operator, schema
	/// mismatch, bad input, …): report it to the chain as "cannot execute".
	Permanent { kind: String, message: String },
	/// The executor answered something this client cannot accept (not JSON, outputs that do not
	/// fit the schema, or a hash that does not match them).
	Malformed(String),
}

/// The error kinds of the executor that no retry can cure (`Error::is_permanent` there).
const PERMANENT_KINDS: [&str; 7] = [
	"model_too_large",
	"hash_mismatch",
	"corrupt_model",
	"unsupported_operator",
	"schema_mismatch",
	"bad_input",
	"input_too_large",
];

fn parse_h256(text: &str) -> Option<H256> {
	let digits = text.strip_prefix("0x")?.as_bytes();
	if digits.len() != 64 {
		return None;
	}
	let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
	let mut hash = [0u8; 32];
	for (index, pair) in digits.chunks(2).enumerate() {
		hash[index] = nibble(pair[0])? << 4 | nibble(pair[1])?;
	}
	Some(H256(hash))
}

fn elem_name(elem: ElementType) -> &'static str {
	match elem {
		ElementType::Bool => "Bool",
		ElementType::U8 => "U8",
		ElementType::I8 => "I8",
		ElementType::I16 => "I16",
		ElementType::I32 => "I32",
		ElementType::I64 => "I64",
		ElementType::F32 => "F32",
	}
}

fn spec_json(spec: &TensorSpec) -> Value {
	json!({
		"name": String::from_utf8_lossy(&spec.name),
		"elem": elem_name(spec.elem),
		"shape": spec.shape.to_vec(),
		"frac_bits": spec.frac_bits,
	})
}

/// The body of `POST /v1/infer` for a job: the model, its inputs in the executor's JSON form
/// (raw wire integers), and the model's schema, so that the executor checks both sides and
/// rounds float outputs at the schema's fraction bits.
pub fn infer_request<B: Get<u32>>(
	model: &ModelHash,
	inputs: &[Tensor<B>],
	schema: &IoSchema,
) -> Vec<u8> {
	let inputs: Vec<Value> = inputs
		.iter()
		.map(|tensor| {
			let count = tensor.element_count().unwrap_or(0) as usize;
			let values: Vec<i64> =
				(0..count).filter_map(|index| tensor.raw_element(index)).collect();
			json!({
				"elem": elem_name(tensor.elem),
				"shape": tensor.shape.to_vec(),
				"frac_bits": tensor.frac_bits,
				"values": values,
			})
		})
		.collect();
	let body = json!({
		"model": format!("0x{}", HexDisplay::from(&model.as_bytes())),
		"inputs": inputs,
		"schema": {
			"inputs": schema.inputs.iter().map(spec_json).collect::<Vec<_>>(),
			"outputs": schema.outputs.iter().map(spec_json).collect::<Vec<_>>(),
		},
	});
	serde_json::to_vec(&body).unwrap_or_default()
}

fn malformed(what: &str) -> ClientError {
	ClientError::Malformed(format!("the executor's answer {what}"))
}

/// One output tensor of the executor's answer, packed into the chain's wire form.
fn tensor_from_json<B: Get<u32>>(
	value: &Value,
	spec: &TensorSpec,
) -> Result<Tensor<B>, ClientError> {
	let values =
		value["values"].as_array().ok_or_else(|| malformed("has an output without values"))?;
	let width = spec.elem.wire_width() as usize;
	let mut data = Vec::with_capacity(values.len() * width);
	for raw in values {
		let raw = raw.as_i64().ok_or_else(|| malformed("has a non-integer value"))?;
		if !spec.elem.holds(raw) {
			return Err(malformed("has a value out of its element type's range"));
		}
		data.extend_from_slice(&raw.to_le_bytes()[..width]);
	}
	let shape: Vec<u32> = value["shape"]
		.as_array()
		.ok_or_else(|| malformed("has an output without a shape"))?
		.iter()
		.map(|d| d.as_u64().and_then(|d| u32::try_from(d).ok()))
		.collect::<Option<_>>()
		.ok_or_else(|| malformed("has a malformed shape"))?;
	let frac_bits = value["frac_bits"].as_u64().and_then(|f| u8::try_from(f).ok()).unwrap_or(0);
	if value["elem"].as_str() != Some(elem_name(spec.elem)) {
		return Err(malformed("has an output of another element type than the schema's"));
	}
	Ok(Tensor {
		elem: spec.elem,
		shape: BoundedVec::try_from(shape)
			.map_err(|_| malformed("has a shape of too many dimensions"))?,
		frac_bits,
		data: BoundedVec::try_from(data)
			.map_err(|_| malformed("has an output too large to submit"))?,
	})
}

/// Reads the executor's answer: outputs that fit the schema and the hash they hash to, or
/// the executor's error sorted into retry or cannot-execute.
pub fn read_answer<B: Get<u32>>(
	status: u16,
	body: &[u8],
	schema: &IoSchema,
) -> Result<(Vec<Tensor<B>>, H256), ClientError> {
	let answer: Value = serde_json::from_slice(body).map_err(|_| malformed("is not JSON"))?;
	if status != 200 {
		let kind: String = answer["error"]["kind"].as_str().unwrap_or("unknown").into();
		let message = answer["error"]["message"].as_str().unwrap_or("").into();
		return Err(if PERMANENT_KINDS.contains(&kind.as_str()) {
			ClientError::Permanent { kind, message }
		} else {
			ClientError::Transient { kind, message }
		});
	}
	let outputs = answer["outputs"].as_array().ok_or_else(|| malformed("has no outputs"))?;
	if outputs.len() != schema.outputs.len() {
		return Err(malformed("has another number of outputs than the schema"));
	}
	let tensors = outputs
		.iter()
		.zip(schema.outputs.iter())
		.map(|(value, spec)| tensor_from_json::<B>(value, spec))
		.collect::<Result<Vec<_>, _>>()?;
	check_tensors(&tensors, &schema.outputs)
		.map_err(|_| malformed("does not fit the model's schema"))?;
	let hash = output_hash(&tensors);
	let claimed = answer["output_hash"].as_str().and_then(parse_h256);
	if claimed != Some(hash) {
		return Err(malformed("claims an output hash its outputs do not have"));
	}
	Ok((tensors, hash))
}

/// Runs one inference on the executor at `endpoint`, giving up at `deadline`.
pub fn infer<B: Get<u32>>(
	endpoint: &ExecutorEndpoint,
	model: &ModelHash,
	inputs: &[Tensor<B>],
	schema: &IoSchema,
	timeout: Duration,
) -> Result<(Vec<Tensor<B>>, H256), ClientError> {
	let deadline = sp_io::offchain::timestamp().add(timeout);
	let base = core::str::from_utf8(&endpoint.url)
		.map_err(|_| ClientError::Unreachable("the executor URL is not UTF-8".into()))?;
	let url = format!("{}/v1/infer", base.trim_end_matches('/'));
	let body = infer_request(model, inputs, schema);
	let authorization = (!endpoint.token.is_empty())
		.then(|| format!("Bearer {}", String::from_utf8_lossy(&endpoint.token)));
	let mut request = http::Request::post(&url, alloc::vec![body])
		.add_header("Content-Type", "application/json")
		.deadline(deadline);
	if let Some(authorization) = &authorization {
		request = request.add_header("Authorization", authorization);
	}
	let pending =
		request.send().map_err(|e| ClientError::Unreachable(format!("sending to {url}: {e:?}")))?;
	let response = pending
		.try_wait(deadline)
		.map_err(|_| ClientError::Unreachable(format!("{url} did not answer in time")))?
		.map_err(|e| ClientError::Unreachable(format!("{url}: {e:?}")))?;
	let answer: Vec<u8> = response.body().collect();
	read_answer(response.code, &answer, schema)
}
