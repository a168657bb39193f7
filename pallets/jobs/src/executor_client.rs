//! The off-chain worker's client of the executor (`executor/`, embedded in the node or on
//! another machine): a job's tensors to the executor's JSON API as an asynchronous task, its
//! answer back to chain tensors, over the node's HTTP with deadlines.
//!
//! The answer is trusted only as far as it can be checked here: its outputs must fit the
//! model's schema and hash to the output hash the executor claims, which is the hash the
//! receipt will carry.

use alloc::{format, string::String, vec::Vec};
use frame_support::BoundedVec;
use serde_json::{json, Value};
use sp_core::{hexdisplay::HexDisplay, Get, H256};
use sp_runtime::offchain::{http, Timestamp};
use veritensor_primitives::{
	hashing::output_hash,
	offchain::ExecutorEndpoint,
	tensor::{check_tensors, ElementType, IoSchema, Tensor, TensorSpec},
	CannotExecuteReason, ComparisonRule, Engine, ExecutorErrorKind, JobId, ModelHash,
};

/// Why an inference did not produce outputs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum ClientError {
	/// The executor could not be reached, or did not answer before the deadline: try again
	/// later.
	Unreachable(String),
	/// The executor refused or failed. `kind` is `None` for a kind this runtime does not know
	/// (an executor newer than the runtime), which is treated as passing; `name` is the kind as
	/// the executor wrote it.
	Executor { kind: Option<ExecutorErrorKind>, name: String, message: String },
	/// The executor answered something this client cannot accept (not JSON, outputs that do not
	/// fit the schema, or a hash that does not match them).
	Malformed(String),
}

impl ClientError {
	/// Whether no retry can cure the failure, so the job is answered "cannot execute" at once.
	pub fn is_permanent(&self) -> bool {
		matches!(self, Self::Executor { kind: Some(kind), .. } if kind.is_permanent())
	}

	/// Whether the failure is about fetching a job's remote input (unreachable, refused by the
	/// executor's policy, or not the announced tensors).
	pub fn is_input_fetch(&self) -> bool {
		matches!(
			self,
			Self::Executor {
				kind: Some(
					ExecutorErrorKind::InputUnavailable
						| ExecutorErrorKind::BadRemoteInput
						| ExecutorErrorKind::RemoteInputRefused
				),
				..
			}
		)
	}

	/// The reason to report to the chain when giving up on the job over this failure.
	pub fn reason(&self) -> CannotExecuteReason {
		match self {
			Self::Executor { kind: Some(kind), .. } => kind.reason(),
			_ => CannotExecuteReason::ExecutionFailed,
		}
	}
}

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

/// An element type as the executor's JSON names it (its serde form).
fn elem_name(elem: ElementType) -> Value {
	serde_json::to_value(elem).unwrap_or_default()
}

/// The body of `POST /v1/infer` or `POST /v1/tasks` for a job with inline inputs: the model,
/// its inputs in the executor's JSON form (raw wire integers), the model's schema, so that the
/// executor checks both sides and rounds float outputs at the schema's fraction bits, and the
/// registry's URIs of the model, which the executor fetches it from if it does not have it, and
/// for a model compared by exact hash the engine and version it is pinned to.
pub fn infer_request<B: Get<u32>>(
	model: &ModelHash,
	inputs: &[Tensor<B>],
	schema: &IoSchema,
	comparison: Option<&ComparisonRule>,
	fetch_from: &[Vec<u8>],
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
	request_body(model, inputs, None, schema, comparison, fetch_from)
}

/// The body of an inference request for a job whose input is kept at `uri`: the executor
/// fetches it under its fetch policy and checks it against `input_hash` before running.
pub fn remote_infer_request(
	model: &ModelHash,
	uri: &[u8],
	input_hash: &H256,
	schema: &IoSchema,
	comparison: Option<&ComparisonRule>,
	fetch_from: &[Vec<u8>],
) -> Vec<u8> {
	let input_from = json!({
		"uri": String::from_utf8_lossy(uri),
		"hash": hex(input_hash.as_bytes()),
	});
	request_body(model, Vec::new(), Some(input_from), schema, comparison, fetch_from)
}

fn hex(bytes: &[u8]) -> String {
	format!("0x{}", HexDisplay::from(&bytes))
}

fn request_body(
	model: &ModelHash,
	inputs: Vec<Value>,
	input_from: Option<Value>,
	schema: &IoSchema,
	comparison: Option<&ComparisonRule>,
	fetch_from: &[Vec<u8>],
) -> Vec<u8> {
	let mut body = json!({
		"model": hex(model.as_bytes()),
		"inputs": inputs,
		// Serialising fails only on names that are not text, which the registry refuses; the
		// outputs are checked against the schema here in any case.
		"schema": serde_json::to_value(schema).unwrap_or_default(),
	});
	if let Some(input_from) = input_from {
		body["input_from"] = input_from;
	}
	// Outputs compared by exact hash must come from the one engine version the model is pinned
	// to; the executor refuses the request if it does not run exactly that.
	if let Some(ComparisonRule::ExactHash { engine, version }) = comparison {
		body["engine"] = Engine::api_name(*engine).into();
		body["engine_version"] = String::from_utf8_lossy(version).into();
	}
	if !fetch_from.is_empty() {
		body["fetch_from"] =
			fetch_from.iter().map(|uri| String::from_utf8_lossy(uri)).collect::<Vec<_>>().into();
	}
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
	if value["elem"] != elem_name(spec.elem) {
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

/// The executor's error in `answer`, with its kind.
fn error_of(answer: &Value) -> ClientError {
	let name: String = answer["error"]["kind"].as_str().unwrap_or("unknown").into();
	let message = answer["error"]["message"].as_str().unwrap_or("").into();
	ClientError::Executor { kind: ExecutorErrorKind::parse(&name), name, message }
}

/// The outputs of an inference result, if they fit the schema and hash to the claimed hash.
fn outputs_of<B: Get<u32>>(
	result: &Value,
	schema: &IoSchema,
) -> Result<(Vec<Tensor<B>>, H256), ClientError> {
	let outputs = result["outputs"].as_array().ok_or_else(|| malformed("has no outputs"))?;
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
	let claimed = result["output_hash"].as_str().and_then(parse_h256);
	if claimed != Some(hash) {
		return Err(malformed("claims an output hash its outputs do not have"));
	}
	Ok((tensors, hash))
}

/// Reads the executor's answer to an inference: outputs that fit the schema and the hash they
/// hash to, or the executor's error sorted into retry or cannot-execute.
pub fn read_answer<B: Get<u32>>(
	status: u16,
	body: &[u8],
	schema: &IoSchema,
) -> Result<(Vec<Tensor<B>>, H256), ClientError> {
	let answer: Value = serde_json::from_slice(body).map_err(|_| malformed("is not JSON"))?;
	if status != 200 {
		return Err(error_of(&answer));
	}
	outputs_of(&answer, schema)
}

/// Where an asynchronous inference stands.
#[derive(
	frame_support::CloneNoBound,
	frame_support::PartialEqNoBound,
	frame_support::EqNoBound,
	frame_support::DebugNoBound,
)]
pub enum TaskState<B: Get<u32>> {
	/// Still running.
	Running,
	/// Done: outputs that fit the schema, and their hash.
	Done(Vec<Tensor<B>>, H256),
}

/// Reads the executor's answer to `GET /v1/tasks/{id}`.
pub fn read_task<B: Get<u32>>(
	status: u16,
	body: &[u8],
	schema: &IoSchema,
) -> Result<TaskState<B>, ClientError> {
	let answer: Value = serde_json::from_slice(body).map_err(|_| malformed("is not JSON"))?;
	if status != 200 {
		return Err(error_of(&answer));
	}
	task_of(&answer, schema)
}

/// Where a task stands, as the executor shows it (alone, or in a batch's answer).
fn task_of<B: Get<u32>>(answer: &Value, schema: &IoSchema) -> Result<TaskState<B>, ClientError> {
	if answer.get("error").is_some() && answer.get("state").is_none() {
		return Err(error_of(answer));
	}
	match answer["state"].as_str() {
		Some("running") => Ok(TaskState::Running),
		Some("done") => outputs_of(&answer["result"], schema)
			.map(|(outputs, hash)| TaskState::Done(outputs, hash)),
		Some("failed") => Err(error_of(answer)),
		_ => Err(malformed("has no task state")),
	}
}

/// What names an executor task across retries and restarts: a key (sent as
/// `Idempotency-Key`) and how long its result is worth waiting for (sent as
/// `X-Veritensor-Timeout-Ms`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct TaskTerms {
	/// The same for every start of one worker key's task on one job's input on one chain: a
	/// start the executor already took (its answer lost on the way back, or the node
	/// restarted) gets the running task, not a second run.
	pub key: String,
	/// Milliseconds after which the executor drops the task if it has not finished (a task
	/// still queued then never runs): its answer would come past the job's give-up point.
	pub timeout_ms: u64,
}

/// One request to the executor: a method, a path under the endpoint's URL, a body posted as
/// JSON, and headers that follow the content type, before the token.
pub struct ExecutorRequest {
	method: http::Method,
	path: String,
	body: Option<Vec<u8>>,
	headers: Vec<(&'static str, String)>,
}

/// Sends `requests` to the executor at `endpoint` all at once and waits for their answers
/// together, until `deadline`: each one's status and body, in the order given. Requests in
/// flight together cost one round trip rather than one each; the executor queues work it
/// cannot run at once.
fn exchange_all(
	endpoint: &ExecutorEndpoint,
	requests: Vec<ExecutorRequest>,
	deadline: Timestamp,
) -> Vec<Result<(u16, Vec<u8>), ClientError>> {
	let base = match core::str::from_utf8(&endpoint.url) {
		Ok(base) => base.trim_end_matches('/'),
		Err(_) => {
			let error = ClientError::Unreachable("the executor URL is not UTF-8".into());
			return requests.iter().map(|_| Err(error.clone())).collect();
		}
	};
	let authorization = (!endpoint.token.is_empty())
		.then(|| format!("Bearer {}", String::from_utf8_lossy(&endpoint.token)));
	let mut urls = Vec::with_capacity(requests.len());
	let mut outcomes: Vec<Result<(u16, Vec<u8>), ClientError>> = Vec::with_capacity(requests.len());
	let mut pending = Vec::new();
	for ExecutorRequest { method, path, body, headers } in requests {
		let url = format!("{base}{path}");
		let mut request =
			http::Request::<Vec<Vec<u8>>>::new(&url).method(method).deadline(deadline);
		if let Some(body) = body {
			request =
				request.body(alloc::vec![body]).add_header("Content-Type", "application/json");
		}
		for (name, value) in &headers {
			request = request.add_header(name, value);
		}
		if let Some(authorization) = &authorization {
			request = request.add_header("Authorization", authorization);
		}
		match request.send() {
			Ok(sent) => {
				pending.push(sent);
				// A placeholder, replaced by the answer below.
				outcomes.push(Ok((0, Vec::new())));
			}
			Err(e) => {
				outcomes.push(Err(ClientError::Unreachable(format!("sending to {url}: {e:?}"))))
			}
		}
		urls.push(url);
	}
	if pending.is_empty() {
		return outcomes;
	}
	let mut answers = http::PendingRequest::try_wait_all(pending, deadline).into_iter();
	for (outcome, url) in outcomes.iter_mut().zip(&urls) {
		if outcome.is_err() {
			continue;
		}
		*outcome = match answers.next() {
			Some(Ok(Ok(response))) => {
				// Read under the same deadline: a body that stalls must not hold up the run.
				let mut body = response.body();
				body.deadline(deadline);
				let bytes: Vec<u8> = body.by_ref().collect();
				match body.error() {
					None => Ok((response.code, bytes)),
					Some(e) => Err(ClientError::Unreachable(format!("{url}: reading: {e:?}"))),
				}
			}
			Some(Ok(Err(e))) => Err(ClientError::Unreachable(format!("{url}: {e:?}"))),
			Some(Err(_)) => Err(ClientError::Unreachable(format!("{url} did not answer in time"))),
			None => Err(ClientError::Unreachable(format!("{url}: no status"))),
		};
	}
	outcomes
}

/// A start of an executor task for `job` ([`start_tasks`]).
pub struct TaskStart {
	/// The job, named in an `X-Veritensor-Job` header for the executor's access log.
	pub job: JobId,
	/// The task's key and timeout.
	pub terms: TaskTerms,
	/// An [`infer_request`] or [`remote_infer_request`] body.
	pub request: Vec<u8>,
}

impl TaskStart {
	fn into_request(self) -> ExecutorRequest {
		ExecutorRequest {
			method: http::Method::Post,
			path: "/v1/tasks".into(),
			body: Some(self.request),
			headers: alloc::vec![
				("X-Veritensor-Job", format!("{}", self.job)),
				("Idempotency-Key", self.terms.key),
				("X-Veritensor-Timeout-Ms", format!("{}", self.terms.timeout_ms)),
			],
		}
	}
}

/// Starts inferences as tasks on the executor, in batches (`POST /v1/tasks/batch`) all in
/// flight together; returns each task's id, in the order of `starts`. A batch the executor
/// does not take (an executor without batches, or a batch past its body limit) is sent again
/// as one `POST /v1/tasks` per task.
pub fn start_tasks(
	endpoint: &ExecutorEndpoint,
	starts: Vec<TaskStart>,
	deadline: Timestamp,
) -> Vec<Result<Vec<u8>, ClientError>> {
	let mut batches: Vec<Vec<TaskStart>> = Vec::new();
	let mut bytes = 0usize;
	for start in starts {
		let size = start.request.len().saturating_add(256);
		match batches.last_mut() {
			Some(batch)
				if batch.len() < MAX_BATCH_TASKS
					&& bytes.saturating_add(size) <= MAX_BATCH_BYTES =>
			{
				bytes = bytes.saturating_add(size);
				batch.push(start);
			}
			_ => {
				bytes = size;
				batches.push(alloc::vec![start]);
			}
		}
	}
	let requests = batches
		.iter()
		.map(|batch| batch_request("/v1/tasks/batch", batch_of_starts(batch)))
		.collect();
	let answers = exchange_all(endpoint, requests, deadline);
	let mut started = Vec::new();
	for (batch, answer) in batches.into_iter().zip(answers) {
		match batch_answers(answer, batch.len()) {
			BatchAnswer::Each(answers) => started.extend(answers.iter().map(task_id_of)),
			BatchAnswer::Failed(error) => started.extend(batch.iter().map(|_| Err(error.clone()))),
			BatchAnswer::NotTaken => {
				let requests = batch.into_iter().map(TaskStart::into_request).collect();
				started.extend(
					exchange_all(endpoint, requests, deadline)
						.into_iter()
						.map(|answer| answer.and_then(|(status, body)| read_start(status, &body))),
				);
			}
		}
	}
	started
}

/// Most tasks in one batch request, as the executor takes them.
const MAX_BATCH_TASKS: usize = 256;

/// Most bytes of inference requests in one batch (a larger request goes in a batch of its own):
/// within the body an executor takes for one inference request even when it takes inputs of
/// only 64 KiB (1.4 MiB; 22 MiB for the default 1 MiB).
const MAX_BATCH_BYTES: usize = 1 << 20;

/// The body of `POST /v1/tasks/batch` for `starts`: each request as it would be posted alone,
/// with its headers as fields.
fn batch_of_starts(starts: &[TaskStart]) -> Vec<u8> {
	let mut body = Vec::with_capacity(
		starts.iter().map(|start| start.request.len().saturating_add(256)).sum::<usize>(),
	);
	body.extend_from_slice(b"{\"tasks\":[");
	for (index, start) in starts.iter().enumerate() {
		if index > 0 {
			body.push(b',');
		}
		let head = serde_json::to_vec(&json!({
			"job": format!("{}", start.job),
			"key": start.terms.key,
			"timeout_ms": start.terms.timeout_ms,
		}))
		.unwrap_or_default();
		// The fields, then the request as it is: `{"job":..,"key":..,"timeout_ms":..,"request":{..}}`.
		body.extend_from_slice(&head[..head.len().saturating_sub(1)]);
		body.extend_from_slice(b",\"request\":");
		body.extend_from_slice(&start.request);
		body.push(b'}');
	}
	body.extend_from_slice(b"]}");
	body
}

fn batch_request(path: &str, body: Vec<u8>) -> ExecutorRequest {
	ExecutorRequest {
		method: http::Method::Post,
		path: path.into(),
		body: Some(body),
		headers: Vec::new(),
	}
}

/// What a batch request got.
enum BatchAnswer {
	/// Each task's answer, in order.
	Each(Vec<Value>),
	/// Nothing, for every task: the executor was not reached, refused everything (its token,
	/// a drain), or answered what is not an answer to each task. Each task is asked again later.
	Failed(ClientError),
	/// A batch this executor does not take (it has no batches, or not one this size): nothing
	/// was done, each task is asked alone now.
	NotTaken,
}

fn batch_answers(answer: Result<(u16, Vec<u8>), ClientError>, tasks: usize) -> BatchAnswer {
	let body = match answer {
		Ok((200, body)) => body,
		// Unknown path or method (an executor without batches), a body it refuses as too
		// large, not JSON of its kind, or not a batch it knows.
		Ok((400 | 404 | 405 | 413 | 415, _)) => return BatchAnswer::NotTaken,
		Ok((_, body)) => {
			return BatchAnswer::Failed(match serde_json::from_slice::<Value>(&body) {
				Ok(answer) if answer.get("error").is_some() => error_of(&answer),
				_ => ClientError::Unreachable("the executor refused a batch".into()),
			})
		}
		Err(error) => return BatchAnswer::Failed(error),
	};
	let answer: Result<Value, _> = serde_json::from_slice(&body);
	match answer.ok().and_then(|mut answer| answer.get_mut("tasks").map(Value::take)) {
		Some(Value::Array(answers)) if answers.len() == tasks => BatchAnswer::Each(answers),
		// Not an answer to each task: nothing in it can be trusted, and the tasks (running,
		// perhaps done) are asked again later rather than dropped.
		_ => BatchAnswer::Failed(ClientError::Unreachable(
			"the executor's answer to a batch does not answer each task".into(),
		)),
	}
}

/// Reads the executor's answer to a task start: the task's id.
pub fn read_start(status: u16, body: &[u8]) -> Result<Vec<u8>, ClientError> {
	let answer: Value = serde_json::from_slice(body).map_err(|_| malformed("is not JSON"))?;
	if !(200..300).contains(&status) {
		return Err(error_of(&answer));
	}
	task_id_of(&answer)
}

/// A started task's id, as the executor answers a start (alone, or in a batch's answer).
fn task_id_of(answer: &Value) -> Result<Vec<u8>, ClientError> {
	if answer.get("error").is_some() {
		return Err(error_of(answer));
	}
	let id = answer["id"].as_str().ok_or_else(|| malformed("has no task id"))?;
	if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
		return Err(malformed("has a task id that is not alphanumeric"));
	}
	Ok(id.as_bytes().to_vec())
}

fn task_request(method: http::Method, id: &[u8]) -> ExecutorRequest {
	ExecutorRequest {
		method,
		path: format!("/v1/tasks/{}", String::from_utf8_lossy(id)),
		body: None,
		headers: Vec::new(),
	}
}

/// Tells the executor that the tasks `ids` are no longer wanted (`DELETE /v1/tasks/{id}`),
/// all in flight together: a queued task never runs, and its idempotency key is free for a
/// fresh start. A task the executor does not know (404) is as good as cancelled.
pub fn cancel_tasks(
	endpoint: &ExecutorEndpoint,
	ids: &[Vec<u8>],
	deadline: Timestamp,
) -> Vec<Result<(), ClientError>> {
	let requests = ids.iter().map(|id| task_request(http::Method::Delete, id)).collect();
	exchange_all(endpoint, requests, deadline)
		.into_iter()
		.map(|answer| answer.and_then(|(status, body)| read_cancellation(status, &body)))
		.collect()
}

/// Reads the executor's answer to a cancellation: done, or already unknown (404), or why not.
pub fn read_cancellation(status: u16, body: &[u8]) -> Result<(), ClientError> {
	if (200..300).contains(&status) || status == 404 {
		return Ok(());
	}
	let answer: Value = serde_json::from_slice(body).map_err(|_| malformed("is not JSON"))?;
	Err(error_of(&answer))
}

/// Asks the executor where the tasks stand, in batches (`POST /v1/tasks/poll`) all in flight
/// together: each task's state, its outputs checked against its schema, in the order of
/// `tasks`. A batch the executor does not take is asked again as one `GET /v1/tasks/{id}` per
/// task.
pub fn poll_tasks<B: Get<u32>>(
	endpoint: &ExecutorEndpoint,
	tasks: &[(&[u8], &IoSchema)],
	deadline: Timestamp,
) -> Vec<Result<TaskState<B>, ClientError>> {
	let batches: Vec<&[(&[u8], &IoSchema)]> = tasks.chunks(MAX_BATCH_TASKS).collect();
	let requests = batches
		.iter()
		.map(|batch| {
			let ids: Vec<_> = batch.iter().map(|(id, _)| String::from_utf8_lossy(id)).collect();
			batch_request(
				"/v1/tasks/poll",
				serde_json::to_vec(&json!({ "ids": ids })).unwrap_or_default(),
			)
		})
		.collect();
	let answers = exchange_all(endpoint, requests, deadline);
	let mut states = Vec::with_capacity(tasks.len());
	for (batch, answer) in batches.into_iter().zip(answers) {
		match batch_answers(answer, batch.len()) {
			BatchAnswer::Each(answers) => {
				states.extend(answers.iter().zip(batch).map(|(answer, (id, schema))| {
					// A task's state comes with its id: an answer that names another task, or
					// none, is not this one's.
					let named = answer["id"].as_str().map(str::as_bytes);
					if answer.get("state").is_some() && named != Some(*id) {
						return Err(malformed("to a poll does not name the task"));
					}
					task_of(answer, schema)
				}))
			}
			BatchAnswer::Failed(error) => states.extend(batch.iter().map(|_| Err(error.clone()))),
			BatchAnswer::NotTaken => {
				let requests =
					batch.iter().map(|(id, _)| task_request(http::Method::Get, id)).collect();
				states.extend(
					exchange_all(endpoint, requests, deadline).into_iter().zip(batch).map(
						|(answer, (_, schema))| {
							answer.and_then(|(status, body)| read_task(status, &body, schema))
						},
					),
				);
			}
		}
	}
	states
}
