//! What a parent and a child say to each other over the child's stdin and stdout: frames of a
//! little-endian `u32` length and that many bytes of JSON.
//!
//! 1. The parent sends a [`Hello`]; the child applies its limits, opens the store and its
//!    engines, and answers a `Result<(), Error>`.
//! 2. Then, one at a time, the parent sends a [`Run`] and the child answers an [`Answer`].
//! 3. The child exits when its stdin closes.

use crate::{
	engine::EngineKind,
	error::{Error, Result},
	executor::{InferRequest, InferResponse},
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::{
	io::{Read, Write},
	path::PathBuf,
};

/// Largest frame either side sends or accepts: above any request the service admits (its
/// body limit is 22 bytes a wire byte of input, 22 MiB at the default input limit); an answer
/// larger than this is refused by the child, so a model's outputs cannot make the parent
/// allocate without end.
pub const MAX_FRAME_BYTES: u32 = 64 << 20;

/// How the child sets itself up: the executor configuration it runs models with, and the
/// limits it applies to itself.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hello {
	/// Root of the model store (read only, for the child).
	pub store_dir: PathBuf,
	/// Largest model file the store accepts.
	pub max_model_bytes: u64,
	/// Largest total input of one request.
	pub max_input_bytes: u64,
	/// Models kept loaded.
	pub cached_models: usize,
	/// Model file bytes kept loaded.
	pub cache_bytes: u64,
	/// The engine of requests that name none.
	pub default_engine: EngineKind,
	/// ONNX Runtime's library, if configured.
	pub onnxruntime_library: Option<PathBuf>,
	/// Threads per ONNX Runtime run.
	pub threads: usize,
	/// Where ONNX Runtime runs.
	pub onnxruntime_provider: crate::engine::OnnxRuntimeProvider,
	/// Fraction bits of float outputs without a schema.
	pub default_output_frac_bits: u8,
	/// `RLIMIT_DATA` the child sets on itself; `None` under a cgroup, or without a limit.
	pub rlimit_data_bytes: Option<u64>,
}

/// One inference and the limits of this run. The parent sends it borrowing its request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run<R = InferRequest> {
	/// The request, with its inputs in place (remote inputs were fetched by the parent).
	pub request: R,
	/// Milliseconds the run may take, from when the child reads it; ONNX Runtime runs are
	/// terminated when they pass it.
	pub deadline_ms: Option<u64>,
	/// CPU seconds the run may use.
	pub cpu_seconds: u64,
}

/// The child's answer to a run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Answer {
	/// The run's outcome.
	pub result: Result<InferResponse>,
	/// Whether the child should serve no more runs: an engine inside it failed to allocate, so
	/// what it keeps (its heap, loaded models) may have had a part in the failure. A fresh
	/// child gets the run once more before it counts as refused.
	pub retire: bool,
}

fn broken(what: &str, error: impl core::fmt::Display) -> Error {
	Error::Engine(format!("inference process channel: {what}: {error}"))
}

/// A frame's bytes: the length, then the JSON.
pub fn encode_frame<T: Serialize>(message: &T) -> Result<Vec<u8>> {
	let mut frame = vec![0u8; 4];
	serde_json::to_writer(&mut frame, message).map_err(|e| broken("encoding", e))?;
	let length = u32::try_from(frame.len() - 4)
		.ok()
		.filter(|length| *length <= MAX_FRAME_BYTES)
		.ok_or_else(|| Error::InputTooLarge {
			size: (frame.len() - 4) as u64,
			limit: MAX_FRAME_BYTES.into(),
		})?;
	frame[..4].copy_from_slice(&length.to_le_bytes());
	Ok(frame)
}

/// Writes an encoded frame, in one write.
pub fn write_frame_bytes(out: &mut impl Write, frame: &[u8]) -> Result<()> {
	out.write_all(frame).map_err(|e| broken("writing", e))?;
	out.flush().map_err(|e| broken("writing", e))
}

/// Writes one frame.
pub fn write_frame<T: Serialize>(out: &mut impl Write, message: &T) -> Result<()> {
	write_frame_bytes(out, &encode_frame(message)?)
}

/// Reads one frame; `Ok(None)` at a clean end of stream (before a frame starts).
pub fn read_frame<T: DeserializeOwned>(input: &mut impl Read) -> Result<Option<T>> {
	let mut length = [0u8; 4];
	let mut filled = 0;
	while filled < length.len() {
		match input.read(&mut length[filled..]) {
			Ok(0) if filled == 0 => return Ok(None),
			Ok(0) => return Err(broken("reading", "the stream ended inside a frame")),
			Ok(n) => filled += n,
			Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
			Err(e) => return Err(broken("reading", e)),
		}
	}
	let length = u32::from_le_bytes(length);
	if length > MAX_FRAME_BYTES {
		return Err(broken("reading", format!("a frame of {length} bytes")));
	}
	let mut body = vec![0u8; length as usize];
	input.read_exact(&mut body).map_err(|e| broken("reading", e))?;
	serde_json::from_slice(&body).map(Some).map_err(|e| broken("decoding", e))
}
