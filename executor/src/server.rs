//! The HTTP service. Loopback by default; any other address needs a bearer token. On loopback
//! it answers only requests addressed to loopback, and JSON bodies must say they are JSON, so
//! that a web page in a browser on the same machine cannot drive it. Every
//! failure is a JSON error `{"error": {"kind", "message"}}` with a fitting status; inference
//! runs on blocking threads, bounded by a concurrency limit and a per-request deadline, so a
//! bad model or input costs one request, never the service.

use crate::{
	error::{Error, ExecutorErrorKind, Result},
	executor::{Executor, InferRequest, InferResponse},
	graph::read_signature,
	store::{hash_hex, parse_hash},
};
use axum::{
	body::{Body, Bytes},
	extract::{DefaultBodyLimit, Path, Query, Request, State},
	http::{header, HeaderMap, StatusCode},
	middleware::{self, Next},
	response::{IntoResponse, Response},
	routing::{get, post, put},
	Json, Router,
};
use http_body_util::{BodyExt, Limited};
use prometheus::IntGaugeVec;
use serde::{Deserialize, Serialize};
use std::{
	collections::{HashMap, VecDeque},
	future::Future,
	net::SocketAddr,
	sync::{
		atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
		Arc, Mutex, PoisonError,
	},
	time::{Duration, Instant},
};
use tokio::{
	net::TcpListener,
	sync::{Notify, Semaphore},
	time::timeout_at,
};

/// Tasks a service remembers unless told otherwise: as many jobs as sixteen worker keys of
/// capacity 256 can have open at once, each of whose results is kept until read.
pub const DEFAULT_MAX_TASKS: usize = 4096;

/// How long a service keeps a finished task's result nobody has read, unless told otherwise.
pub const DEFAULT_RESULT_KEEP: Duration = Duration::from_secs(120);

/// The longest timeout a service takes: deadlines are instants, computed without overflow.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(7 * 86_400);

/// How the service runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
	/// Address to listen on.
	pub listen: SocketAddr,
	/// Bearer token every request except `/health` must carry; required off loopback.
	pub token: Option<String>,
	/// Deadline of a synchronous inference, waiting for a slot included.
	pub request_timeout: Duration,
	/// Deadline of an asynchronous task, waiting for a slot included.
	pub task_timeout: Duration,
	/// Inferences running at once.
	pub max_concurrent: usize,
	/// Asynchronous tasks remembered (running or finished). Room for a new one is made by
	/// forgetting the oldest finished task that is expendable: its outcome was read, its
	/// deadline has passed, or it finished `result_keep` ago. A result not read yet is
	/// otherwise never forgotten to make room, so a full table refuses new tasks
	/// (`overloaded`) rather than lose finished work.
	pub max_tasks: usize,
	/// How long a finished task's result is kept for a client that has not read it, at most
	/// (within its deadline): long enough for a client that polls every few seconds, short
	/// enough that results nobody comes for do not hold the table for a whole task timeout.
	pub result_keep: Duration,
	/// Level of the access log line written for every request (method, path, status, time,
	/// and the job named by an `X-Veritensor-Job` header).
	pub access_log: log::Level,
}

impl ServerConfig {
	/// Loopback on `port`, no token, 10 s requests, 10 min tasks, 2 at once, 4,096 tasks,
	/// unread results kept 2 min.
	pub fn loopback(port: u16) -> Self {
		Self {
			listen: SocketAddr::from(([127, 0, 0, 1], port)),
			token: None,
			request_timeout: Duration::from_secs(10),
			task_timeout: Duration::from_secs(600),
			max_concurrent: 2,
			max_tasks: DEFAULT_MAX_TASKS,
			result_keep: DEFAULT_RESULT_KEEP,
			access_log: log::Level::Info,
		}
	}

	/// Refuses settings that would expose the service or cannot work.
	pub fn validate(&self) -> Result<()> {
		if !self.listen.ip().is_loopback() && self.token.as_deref().is_none_or(str::is_empty) {
			return Err(Error::BadInput(format!(
				"listening on {} needs a bearer token (--token-file or VERITENSOR_EXECUTOR_TOKEN)",
				self.listen
			)));
		}
		if self.max_concurrent == 0 || self.max_tasks == 0 {
			return Err(Error::BadInput("max_concurrent and max_tasks must be at least 1".into()));
		}
		let longest = [self.request_timeout, self.task_timeout, self.result_keep];
		if longest.iter().any(|limit| *limit > MAX_TIMEOUT) {
			return Err(Error::BadInput(format!(
				"timeouts and the result keep are at most {} days",
				MAX_TIMEOUT.as_secs() / 86_400
			)));
		}
		Ok(())
	}
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
enum TaskState {
	Running,
	Done { result: Box<InferResponse> },
	Failed { error: ErrorBody },
}

/// A task the service remembers.
struct Remembered {
	state: TaskState,
	/// Whether a client has polled it finished.
	read: bool,
	/// Past this its outcome is no longer kept for a client that has not read it: the task's
	/// deadline, or, once it has finished, `result_keep` later if sooner.
	keep_until: Instant,
}

impl Remembered {
	/// Whether forgetting the task loses nothing a client still waits for.
	fn expendable(&self, now: Instant) -> bool {
		!matches!(self.state, TaskState::Running) && (self.read || self.keep_until <= now)
	}

	/// Its state for the `tasks` gauge.
	fn gauge_label(&self) -> &'static str {
		match (&self.state, self.read) {
			(TaskState::Running, _) => "running",
			(_, false) => "unread",
			(_, true) => "read",
		}
	}
}

struct Tasks {
	states: HashMap<String, Remembered>,
	order: VecDeque<String>,
	/// The task started under each idempotency key with the blake2-256 of its request body,
	/// and the key of each such task.
	by_key: HashMap<String, (String, [u8; 32])>,
	key_of: HashMap<String, String>,
	/// How to stop each task that has not ended.
	aborts: HashMap<String, tokio::task::AbortHandle>,
	/// The tasks remembered, by state.
	gauge: IntGaugeVec,
}

impl Tasks {
	fn new(gauge: IntGaugeVec) -> Self {
		Self {
			states: HashMap::new(),
			order: VecDeque::new(),
			by_key: HashMap::new(),
			key_of: HashMap::new(),
			aborts: HashMap::new(),
			gauge,
		}
	}

	/// Makes room for one more task by forgetting the oldest expendable one
	/// ([`Remembered::expendable`]). Whether there is room: under overload a result not read
	/// yet is kept and the new task refused, since forgetting it would only have its client
	/// start the same work again, pushing out another's result in turn.
	fn make_room(&mut self, limit: usize) -> bool {
		if self.states.len() < limit {
			return true;
		}
		let now = Instant::now();
		let Some(position) = self
			.order
			.iter()
			.position(|id| self.states.get(id).is_some_and(|task| task.expendable(now)))
		else {
			return false;
		};
		if let Some(id) = self.order.get(position).cloned() {
			self.forget(&id);
		}
		true
	}

	/// Remembers task `id`, running until `deadline`.
	fn start(&mut self, id: &str, deadline: Instant) {
		let task = Remembered { state: TaskState::Running, read: false, keep_until: deadline };
		self.gauge.with_label_values(&[task.gauge_label()]).inc();
		self.states.insert(id.to_string(), task);
		self.order.push_back(id.to_string());
	}

	/// Records how task `id` ended; its unread result is kept for `keep` at most.
	fn finish(&mut self, id: &str, outcome: TaskState, keep: Duration) {
		self.aborts.remove(id);
		let Some(task) = self.states.get_mut(id) else { return };
		self.gauge.with_label_values(&[task.gauge_label()]).dec();
		task.state = outcome;
		if let Some(kept) = Instant::now().checked_add(keep) {
			task.keep_until = task.keep_until.min(kept);
		}
		self.gauge.with_label_values(&[task.gauge_label()]).inc();
	}

	/// Where task `id` stands as a client polling it sees it, marked read once finished.
	fn read(&mut self, id: &str) -> Option<&TaskState> {
		let task = self.states.get_mut(id)?;
		if !matches!(task.state, TaskState::Running) && !task.read {
			self.gauge.with_label_values(&[task.gauge_label()]).dec();
			task.read = true;
			self.gauge.with_label_values(&[task.gauge_label()]).inc();
		}
		Some(&task.state)
	}

	/// Whether task `id` is known and has not ended.
	fn running(&self, id: &str) -> bool {
		self.states.get(id).is_some_and(|task| matches!(task.state, TaskState::Running))
	}

	/// Forgets task `id`, stopping it if it has not ended. Whether it was known.
	fn forget(&mut self, id: &str) -> bool {
		if let Some(abort) = self.aborts.remove(id) {
			abort.abort();
		}
		if let Some(key) = self.key_of.remove(id) {
			self.by_key.remove(&key);
		}
		self.order.retain(|known| known != id);
		let Some(task) = self.states.remove(id) else { return false };
		self.gauge.with_label_values(&[task.gauge_label()]).dec();
		true
	}
}

/// Header naming a task start so that sending it again starts nothing new: a client whose
/// first attempt got no answer retries under the same key and learns the task's id.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// Header giving a task's deadline as milliseconds from its arrival, when sooner than the
/// service's own task timeout: work still queued or fetching then is dropped.
pub const TIMEOUT_MS: &str = "x-veritensor-timeout-ms";

/// The idempotency key of a request, if it carries a well-formed one.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>> {
	let Some(value) = headers.get(IDEMPOTENCY_KEY) else { return Ok(None) };
	let key = value.to_str().unwrap_or_default();
	let fits = (1..=128).contains(&key.len())
		&& key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
	if !fits {
		return Err(Error::BadInput(
			"an Idempotency-Key is 1 to 128 letters, digits, `-`, `_`, `:` or `.`".into(),
		));
	}
	Ok(Some(key.to_string()))
}

/// The time a task may take: the service's task timeout, or the request's sooner deadline.
fn task_limit(headers: &HeaderMap, timeout: Duration) -> Result<Duration> {
	let Some(value) = headers.get(TIMEOUT_MS) else { return Ok(timeout) };
	let millis: u64 = value
		.to_str()
		.ok()
		.and_then(|text| text.parse().ok())
		.ok_or_else(|| Error::BadInput(format!("{TIMEOUT_MS} is a number of milliseconds")))?;
	if millis == 0 {
		return Err(Error::Timeout(0));
	}
	Ok(timeout.min(Duration::from_millis(millis)))
}

struct AppState {
	executor: Arc<Executor>,
	config: ServerConfig,
	slots: Arc<Semaphore>,
	tasks: Mutex<Tasks>,
	next_task: AtomicU64,
	task_salt: u64,
	/// Set when the service is asked to stop: new work is refused, running tasks finish.
	draining: AtomicBool,
	/// Tasks whose run has not ended.
	tasks_running: AtomicUsize,
	/// Told when `tasks_running` drops to zero.
	tasks_idle: Notify,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct ErrorBody {
	kind: String,
	message: String,
}

/// What the service answers for `error`: its HTTP status and JSON body
/// (`{"error": {"kind", "message"}}`).
pub fn error_reply(error: &Error) -> (u16, serde_json::Value) {
	(status_of(error).as_u16(), serde_json::json!({ "error": error_body(error) }))
}

fn status_of(error: &Error) -> StatusCode {
	match error {
		Error::ModelNotFound(_) | Error::UnknownTask(_) => StatusCode::NOT_FOUND,
		Error::ModelTooLarge { .. } | Error::InputTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
		Error::HashMismatch { .. }
		| Error::CorruptModel(_)
		| Error::UnsupportedOperator(_)
		| Error::SchemaMismatch(_)
		| Error::BadRemoteInput(_)
		| Error::EngineMismatch(_)
		| Error::ResourceExhausted(_) => StatusCode::UNPROCESSABLE_ENTITY,
		Error::BadInput(_) | Error::EngineUnavailable(_) => StatusCode::BAD_REQUEST,
		Error::FetchRefused(_) | Error::RemoteInputRefused(_) => StatusCode::FORBIDDEN,
		Error::FetchFailed(_) | Error::InputUnavailable(_) => StatusCode::BAD_GATEWAY,
		Error::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
		Error::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
		Error::Unauthorized => StatusCode::UNAUTHORIZED,
		Error::Engine(_) | Error::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
	}
}

fn error_body(error: &Error) -> ErrorBody {
	ErrorBody { kind: error.kind().as_str().into(), message: error.to_string() }
}

/// A handler's failure: the executor's error as JSON, with the status of its kind unless
/// another is given (a request check says which rule it broke by its status). The guard
/// counts it in the error metrics.
#[derive(Debug)]
pub struct ApiError {
	error: Error,
	status: Option<StatusCode>,
}

impl ApiError {
	fn with_status(status: StatusCode, error: Error) -> Self {
		Self { error, status: Some(status) }
	}
}

impl From<Error> for ApiError {
	fn from(error: Error) -> Self {
		Self { error, status: None }
	}
}

/// The kind of an error answered, left on the response for the guard to count.
#[derive(Clone, Copy)]
struct Answered(ExecutorErrorKind);

impl IntoResponse for ApiError {
	fn into_response(self) -> Response {
		let error = self.error;
		if matches!(error, Error::Engine(_) | Error::Storage(_) | Error::ResourceExhausted(_)) {
			log::warn!("{error}");
		}
		let (_, body) = error_reply(&error);
		let mut response =
			(self.status.unwrap_or_else(|| status_of(&error)), Json(body)).into_response();
		response.extensions_mut().insert(Answered(error.kind()));
		response
	}
}

/// What a handler answers.
type Reply<T> = std::result::Result<T, ApiError>;

impl AppState {
	/// Counts a request to `endpoint`.
	fn count(&self, endpoint: &str) {
		self.executor.metrics().requests.with_label_values(&[endpoint]).inc();
	}

	/// Counts the error a response answers, if it answers one.
	fn count_error(&self, response: &Response) {
		if let Some(Answered(kind)) = response.extensions().get::<Answered>() {
			self.executor.metrics().errors.with_label_values(&[kind.as_str()]).inc();
		}
	}

	/// Runs an inference within `limit`: first fetches a remote input, and the model from the
	/// request's URIs if the store does not have it. A request this executor cannot serve with
	/// the engine it names is refused before anything is fetched.
	async fn run(&self, mut request: InferRequest, limit: Duration) -> Result<InferResponse> {
		self.executor.engine_for(&request)?;
		let deadline = tokio::time::Instant::now() + limit;
		if let Some(remote) = request.input_from.take() {
			if !request.inputs.is_empty() {
				return Err(Error::BadInput("give inputs or input_from, not both".into()));
			}
			request.inputs = timeout_at(deadline, self.executor.fetch_input(&remote))
				.await
				.map_err(|_| Error::Timeout(limit.as_millis() as u64))??;
		}
		if request.fetch_from.is_empty() {
			return self.run_until(request, deadline, limit).await;
		}
		match self.run_until(request.clone(), deadline, limit).await {
			Err(Error::ModelNotFound(_)) => {
				let model = parse_hash(&request.model)?;
				timeout_at(deadline, self.executor.fetch_model(&model, &request.fetch_from))
					.await
					.map_err(|_| Error::Timeout(limit.as_millis() as u64))??;
				self.run_until(request, deadline, limit).await
			}
			outcome => outcome,
		}
	}

	fn refuse_when_draining(&self) -> Result<()> {
		if self.draining.load(Ordering::SeqCst) {
			return Err(Error::Overloaded("the service is stopping; it takes no new work".into()));
		}
		Ok(())
	}

	/// Stops taking work and waits until every task has ended (each within its deadline).
	/// Sequentially consistent with [`RunningTask::new`]: a task counted after the flag is set
	/// sees it and is refused; one counted before is waited for.
	async fn drain(&self) {
		self.draining.store(true, Ordering::SeqCst);
		let running = self.tasks_running.load(Ordering::SeqCst);
		if running > 0 {
			log::info!("stopping: waiting for {running} running task(s) to end");
		}
		loop {
			let idle = self.tasks_idle.notified();
			if self.tasks_running.load(Ordering::SeqCst) == 0 {
				break;
			}
			idle.await;
		}
		log::info!("stopping: no task running");
	}

	/// Runs an inference on a blocking thread once a slot is free, before `deadline`.
	async fn run_until(
		&self,
		request: InferRequest,
		deadline: tokio::time::Instant,
		limit: Duration,
	) -> Result<InferResponse> {
		let millis = limit.as_millis() as u64;
		let busy =
			|| Error::Overloaded(format!("every execution slot stayed busy for {millis} ms"));
		let permit = timeout_at(deadline, self.slots.clone().acquire_owned())
			.await
			.map_err(|_| busy())?
			.map_err(|_| busy())?;
		let executor = self.executor.clone();
		// The permit moves into the thread: a run that outlives its deadline keeps its slot
		// until it really ends (an isolated run ends at the deadline, killed), so the limit on
		// concurrent work holds.
		let run_deadline = deadline.into_std();
		let work = tokio::task::spawn_blocking(move || {
			let _permit = permit;
			executor.infer_until(&request, Some(run_deadline))
		});
		match timeout_at(deadline, work).await {
			Err(_) => Err(Error::Timeout(millis)),
			Ok(Err(_)) => Err(Error::Engine("the inference thread panicked".into())),
			Ok(Ok(result)) => result,
		}
	}
}

async fn read_body(body: Body, limit: u64, too_large: impl Fn(u64) -> Error) -> Result<Bytes> {
	match Limited::new(body, limit as usize).collect().await {
		Ok(collected) => Ok(collected.to_bytes()),
		Err(error) if error.is::<http_body_util::LengthLimitError>() => Err(too_large(limit + 1)),
		Err(error) => Err(Error::BadInput(format!("reading the request body: {error}"))),
	}
}

fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T> {
	serde_json::from_slice(bytes).map_err(|e| Error::BadInput(format!("request JSON: {e}")))
}

/// JSON carries each value as up to 20 digits and a comma: the body limit of an inference.
fn infer_body_limit(executor: &Executor) -> u64 {
	executor.config().max_input_bytes.saturating_mul(22).saturating_add(64 << 10)
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
	state.count("health");
	Json(serde_json::json!({
		"status": "ok",
		"version": env!("CARGO_PKG_VERSION"),
		"engines": state.executor.engines(),
	}))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
	state.executor.metrics().requests.with_label_values(&["metrics"]).inc();
	([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.executor.metrics().render())
		.into_response()
}

async fn infer(State(state): State<Arc<AppState>>, body: Body) -> Reply<Json<InferResponse>> {
	state.count("infer");
	let limit = infer_body_limit(&state.executor);
	let bytes = read_body(body, limit, |size| Error::InputTooLarge { size, limit }).await?;
	let request: InferRequest = parse_json(&bytes)?;
	// A task accepted before the drain runs; a new request does not.
	state.refuse_when_draining()?;
	Ok(Json(state.run(request, state.config.request_timeout).await?))
}

async fn submit_task(
	State(state): State<Arc<AppState>>,
	headers: HeaderMap,
	body: Body,
) -> Reply<(StatusCode, Json<serde_json::Value>)> {
	state.count("submit_task");
	let key = idempotency_key(&headers)?;
	let limit = task_limit(&headers, state.config.task_timeout)?;
	let body_limit = infer_body_limit(&state.executor);
	let bytes =
		read_body(body, body_limit, |size| Error::InputTooLarge { size, limit: body_limit })
			.await?;
	let request: InferRequest = parse_json(&bytes)?;
	let body_hash = sp_crypto_hashing::blake2_256(&bytes);
	let (started, view) = start_task(&state, key, limit, request, body_hash)?;
	let status = if started { StatusCode::ACCEPTED } else { StatusCode::OK };
	Ok((status, Json(view)))
}

/// Most tasks one batch request starts or polls.
pub const MAX_BATCH_TASKS: usize = 256;

/// One task of `POST /v1/tasks/batch`: what `POST /v1/tasks` takes in its body and headers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchedStart {
	/// As the `Idempotency-Key` header.
	#[serde(default)]
	key: Option<String>,
	/// As the `X-Veritensor-Timeout-Ms` header.
	#[serde(default)]
	timeout_ms: Option<u64>,
	/// As the `X-Veritensor-Job` header: what the access log names.
	#[serde(default)]
	job: Option<String>,
	/// The inference request, as its client wrote it: hashed as `POST /v1/tasks` hashes its
	/// body, so that a task is known by its key and request however it was started.
	request: Box<serde_json::value::RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskBatch {
	tasks: Vec<BatchedStart>,
}

/// `POST /v1/tasks/batch`: starts many tasks in one request, each as `POST /v1/tasks` would,
/// in order. Answers each task's answer in the same order: its view (`{"id", "state"}`), or
/// its error (`{"error"}`); one task's refusal does not refuse the others. The request as a
/// whole is refused (nothing started) only when it is not a batch this service takes.
async fn submit_tasks(
	State(state): State<Arc<AppState>>,
	body: Body,
) -> Reply<Json<serde_json::Value>> {
	state.count("submit_tasks");
	let body_limit = infer_body_limit(&state.executor);
	let bytes =
		read_body(body, body_limit, |size| Error::InputTooLarge { size, limit: body_limit })
			.await?;
	let batch: TaskBatch = parse_json(&bytes)?;
	ensure_batch_size(batch.tasks.len())?;
	let mut answers = Vec::with_capacity(batch.tasks.len());
	for entry in batch.tasks {
		let job = entry.job.as_deref().filter(|job| is_log_safe(job)).unwrap_or("-");
		let answer = batched_start(&state, entry.key, entry.timeout_ms, &entry.request);
		let outcome = match &answer {
			Ok((true, _)) => "started",
			Ok((false, _)) => "replayed",
			Err(error) => error.kind().as_str(),
		};
		log::log!(state.config.access_log, "task start in a batch: job {job} {outcome}");
		answers.push(match answer {
			Ok((_, view)) => view,
			Err(error) => {
				state.executor.metrics().errors.with_label_values(&[error.kind().as_str()]).inc();
				error_reply(&error).1
			}
		});
	}
	Ok(Json(serde_json::json!({ "tasks": answers })))
}

/// One task of a batch, started as `POST /v1/tasks` starts one.
fn batched_start(
	state: &Arc<AppState>,
	key: Option<String>,
	timeout_ms: Option<u64>,
	request: &serde_json::value::RawValue,
) -> Result<(bool, serde_json::Value)> {
	let mut headers = HeaderMap::new();
	if let Some(key) = key {
		let value = key.parse().map_err(|_| Error::BadInput("a malformed task key".into()))?;
		headers.insert(IDEMPOTENCY_KEY, value);
	}
	if let Some(millis) = timeout_ms {
		headers.insert(TIMEOUT_MS, millis.into());
	}
	let key = idempotency_key(&headers)?;
	let limit = task_limit(&headers, state.config.task_timeout)?;
	let bytes = request.get().as_bytes();
	let request: InferRequest = parse_json(bytes)?;
	let body_hash = sp_crypto_hashing::blake2_256(bytes);
	start_task(state, key, limit, request, body_hash)
}

fn ensure_batch_size(tasks: usize) -> Result<()> {
	if tasks == 0 || tasks > MAX_BATCH_TASKS {
		return Err(Error::BadInput(format!(
			"a batch names 1 to {MAX_BATCH_TASKS} tasks, not {tasks}"
		)));
	}
	Ok(())
}

/// Whether a client's word can go in a log line as it is.
fn is_log_safe(text: &str) -> bool {
	text.len() <= 32 && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PollBatch {
	ids: Vec<String>,
}

/// `POST /v1/tasks/poll`: where many tasks stand, in one request, each as `GET /v1/tasks/{id}`
/// shows it (and read as that reads it), in order; a task the service does not know answers
/// its `unknown_task` error.
async fn poll_tasks(
	State(state): State<Arc<AppState>>,
	body: Body,
) -> Reply<Json<serde_json::Value>> {
	state.count("poll_tasks");
	// Ids are a few dozen bytes each.
	let limit = (MAX_BATCH_TASKS as u64) << 8;
	let bytes = read_body(body, limit, |size| Error::InputTooLarge { size, limit }).await?;
	let batch: PollBatch = parse_json(&bytes)?;
	ensure_batch_size(batch.ids.len())?;
	let mut tasks = state.tasks.lock().unwrap_or_else(PoisonError::into_inner);
	let answers: Vec<serde_json::Value> = batch
		.ids
		.into_iter()
		.map(|id| match tasks.read(&id) {
			Some(found) => task_view(&id, Some(found)),
			None => error_reply(&Error::UnknownTask(id)).1,
		})
		.collect();
	Ok(Json(serde_json::json!({ "tasks": answers })))
}

/// Starts a task for `request` (hashing to `body_hash`) that may run for `limit`, under
/// `key` if the client gave one: answers whether it started now, and the task as
/// `GET /v1/tasks/{id}` shows it. A key naming a task started with the same request answers
/// that task, and nothing new runs.
fn start_task(
	state: &Arc<AppState>,
	key: Option<String>,
	limit: Duration,
	request: InferRequest,
	body_hash: [u8; 32],
) -> Result<(bool, serde_json::Value)> {
	// Counted before the check, so that a drain that starts meanwhile waits for it.
	let running = RunningTask::new(state);
	state.refuse_when_draining()?;
	let id = format!(
		"{:016x}",
		state.next_task.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9e37_79b9_7f4a_7c15)
			^ state.task_salt
	);
	{
		let mut tasks = state.tasks.lock().unwrap_or_else(PoisonError::into_inner);
		if let Some((known, started_with)) = key.as_ref().and_then(|key| tasks.by_key.get(key)) {
			let known = known.clone();
			// Replayed only for the same request, and not once failed: a failure may have
			// been passing (a fetch, a busy slot) and a retry is the client's way to try
			// again; another request under the key replaces the task rather than answer with
			// a result that is not its own.
			let same_request = *started_with == body_hash;
			let failed = tasks
				.states
				.get(&known)
				.is_some_and(|task| matches!(task.state, TaskState::Failed { .. }));
			if same_request && !failed {
				// Started before: this is a retry, and nothing new runs. Not a read of the
				// outcome: the client may keep only the task's id, and polls for the rest.
				let view = task_view(&known, tasks.states.get(&known).map(|task| &task.state));
				return Ok((false, view));
			}
			tasks.forget(&known);
		}
		if !tasks.make_room(state.config.max_tasks) {
			return Err(Error::Overloaded(format!(
				"all {} remembered tasks are still running or hold results not read yet",
				state.config.max_tasks
			)));
		}
		// `limit` is at most the task timeout, which `validate` bounds.
		tasks.start(&id, Instant::now() + limit);
		if let Some(key) = key {
			tasks.by_key.insert(key.clone(), (id.clone(), body_hash));
			tasks.key_of.insert(id.clone(), key);
		}
	}
	let worker = state.clone();
	let task_id = id.clone();
	let handle = tokio::spawn(async move {
		let _running = running;
		let started = Instant::now();
		let outcome = worker.run(request, limit).await;
		let ended = match &outcome {
			Ok(_) => "done",
			Err(error) => error.kind().as_str(),
		};
		let elapsed = started.elapsed().as_millis();
		log::log!(worker.config.access_log, "task {task_id} ended: {ended} after {elapsed} ms");
		let outcome = match outcome {
			Ok(result) => TaskState::Done { result: Box::new(result) },
			Err(error) => {
				worker.executor.metrics().errors.with_label_values(&[error.kind().as_str()]).inc();
				TaskState::Failed { error: error_body(&error) }
			}
		};
		let keep = worker.config.result_keep;
		worker.tasks.lock().unwrap_or_else(PoisonError::into_inner).finish(&task_id, outcome, keep);
	});
	let mut tasks = state.tasks.lock().unwrap_or_else(PoisonError::into_inner);
	// Unless it has already ended (and removed its entry) or been forgotten.
	if !handle.is_finished() && tasks.running(&id) {
		tasks.aborts.insert(id.clone(), handle.abort_handle());
	}
	Ok((true, serde_json::json!({ "id": id, "state": "running" })))
}

/// A task as `GET /v1/tasks/{id}` shows it.
fn task_view(id: &str, state: Option<&TaskState>) -> serde_json::Value {
	let mut body = state
		.map(|state| serde_json::to_value(state).unwrap_or_default())
		.unwrap_or_else(|| serde_json::json!({ "state": "running" }));
	body["id"] = serde_json::Value::String(id.to_string());
	body
}

async fn task(
	State(state): State<Arc<AppState>>,
	Path(id): Path<String>,
) -> Reply<Json<serde_json::Value>> {
	state.count("task");
	let mut tasks = state.tasks.lock().unwrap_or_else(PoisonError::into_inner);
	let found = tasks.read(&id).ok_or_else(|| Error::UnknownTask(id.clone()))?;
	Ok(Json(task_view(&id, Some(found))))
}

/// `DELETE /v1/tasks/{id}`: the client no longer wants the task. One still queued or fetching
/// stops at once; a run already in an inference process ends at its deadline (its slot held
/// till then, so the concurrency limit holds); a finished one is forgotten.
async fn cancel_task(
	State(state): State<Arc<AppState>>,
	Path(id): Path<String>,
) -> Reply<Json<serde_json::Value>> {
	state.count("cancel_task");
	let mut tasks = state.tasks.lock().unwrap_or_else(PoisonError::into_inner);
	let running = tasks.running(&id);
	if !tasks.forget(&id) {
		return Err(Error::UnknownTask(id).into());
	}
	drop(tasks);
	if running {
		log::log!(state.config.access_log, "task {id} cancelled");
	}
	Ok(Json(
		serde_json::json!({ "id": id, "state": if running { "cancelled" } else { "forgotten" } }),
	))
}

#[derive(Deserialize)]
struct UploadQuery {
	hash: Option<String>,
}

async fn upload_model(
	State(state): State<Arc<AppState>>,
	Query(query): Query<UploadQuery>,
	body: Body,
) -> Reply<(StatusCode, Json<serde_json::Value>)> {
	state.count("upload_model");
	let max = state.executor.store().max_model_bytes();
	state.refuse_when_draining()?;
	let expected = query.hash.as_deref().map(parse_hash).transpose()?;
	let bytes = read_body(body, max, |size| Error::ModelTooLarge { size, limit: max }).await?;
	let executor = state.executor.clone();
	let stored = tokio::task::spawn_blocking(move || -> Result<serde_json::Value> {
		// A file that is not a readable model never enters the store.
		let signature = read_signature(&bytes)?;
		let hash = executor.store().add_bytes(&bytes, expected)?;
		Ok(serde_json::json!({
			"hash": hash_hex(&hash),
			"bytes": bytes.len(),
			"signature": signature,
		}))
	})
	.await
	.map_err(|_| Error::Storage("the upload thread panicked".into()))??;
	Ok((StatusCode::CREATED, Json(stored)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchRequest {
	hash: String,
	uris: Vec<String>,
}

async fn fetch_model(
	State(state): State<Arc<AppState>>,
	body: Body,
) -> Reply<Json<serde_json::Value>> {
	state.count("fetch_model");
	let bytes =
		read_body(body, 64 << 10, |size| Error::InputTooLarge { size, limit: 64 << 10 }).await?;
	let request: FetchRequest = parse_json(&bytes)?;
	state.refuse_when_draining()?;
	let hash = parse_hash(&request.hash)?;
	let fetched = state.executor.fetch_model(&hash, &request.uris).await?;
	Ok(Json(serde_json::json!({ "hash": hash_hex(&hash), "fetched": fetched })))
}

async fn model_info(
	State(state): State<Arc<AppState>>,
	Path(hash): Path<String>,
) -> Reply<Json<crate::executor::ModelInfo>> {
	state.count("model_info");
	let executor = state.executor.clone();
	let hash = parse_hash(&hash)?;
	let info = tokio::task::spawn_blocking(move || executor.model_info(&hash))
		.await
		.map_err(|_| Error::Storage("the model thread panicked".into()))??;
	Ok(Json(info))
}

/// A task counted as running for as long as this lives, however its run ends (a panic
/// included): a drain waits for it.
struct RunningTask(Arc<AppState>);

impl RunningTask {
	fn new(state: &Arc<AppState>) -> Self {
		state.tasks_running.fetch_add(1, Ordering::SeqCst);
		Self(state.clone())
	}
}

impl Drop for RunningTask {
	fn drop(&mut self) {
		if self.0.tasks_running.fetch_sub(1, Ordering::SeqCst) == 1 {
			self.0.tasks_idle.notify_waiters();
		}
	}
}

/// Whether a `Host` header names this machine's loopback (`localhost`, `127.x.y.z`, `[::1]`,
/// any port). A page in a browser that resolves its own name to 127.0.0.1 (DNS rebinding)
/// sends its own name, and is refused.
fn is_loopback_host(host: &str) -> bool {
	let name = match host.strip_prefix('[') {
		Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
		None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
	};
	name.eq_ignore_ascii_case("localhost")
		|| name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Routes whose body is JSON: they refuse any other content type, so that a web page (which
/// may post `text/plain` anywhere without asking) cannot start work here.
fn takes_json(request: &Request) -> bool {
	request.method() == axum::http::Method::POST
}

/// Every request: [`checked`], then its access log line.
async fn guard(
	State(state): State<Arc<AppState>>,
	headers: HeaderMap,
	request: Request,
	next: Next,
) -> Response {
	// Scrapes and health checks come every few seconds: below the service's own level.
	let level = match request.uri().path() {
		"/metrics" | "/health" => log::Level::Debug,
		_ => state.config.access_log,
	};
	if !log::log_enabled!(level) {
		let response = checked(&state, &headers, request, next).await;
		state.count_error(&response);
		return response;
	}
	let started = Instant::now();
	let line = format!("{} {}", request.method(), request.uri().path());
	let job = headers
		.get("x-veritensor-job")
		.and_then(|v| v.to_str().ok())
		.filter(|job| is_log_safe(job))
		.map(|job| format!(" job {job}"))
		.unwrap_or_default();
	let response = checked(&state, &headers, request, next).await;
	state.count_error(&response);
	log::log!(
		level,
		"{line} {}{job} {} µs",
		response.status().as_u16(),
		started.elapsed().as_micros()
	);
	response
}

/// What a request passes before its handler: on a loopback listener a loopback `Host`; a JSON
/// content type where the body is JSON; the bearer token where one is set (except on
/// `/health`).
async fn checked(
	state: &Arc<AppState>,
	headers: &HeaderMap,
	request: Request,
	next: Next,
) -> Response {
	// A bad input, answered with the status that says which rule it broke.
	let refuse = |status: StatusCode, message: String| {
		ApiError::with_status(status, Error::BadInput(message)).into_response()
	};
	if state.config.listen.ip().is_loopback() {
		let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
		if !is_loopback_host(host) {
			return refuse(
				StatusCode::MISDIRECTED_REQUEST,
				format!("this service answers only requests addressed to loopback, not `{host}`"),
			);
		}
	}
	if takes_json(&request) {
		let content_type =
			headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
		let essence = content_type.split(';').next().unwrap_or_default().trim();
		if !essence.eq_ignore_ascii_case("application/json") {
			return refuse(
				StatusCode::UNSUPPORTED_MEDIA_TYPE,
				format!(
					"the body must be sent as Content-Type: application/json, not `{content_type}`"
				),
			);
		}
	}
	let Some(token) = state.config.token.as_deref() else {
		return next.run(request).await;
	};
	if request.uri().path() == "/health" {
		return next.run(request).await;
	}
	let presented = headers
		.get(header::AUTHORIZATION)
		.and_then(|v| v.to_str().ok())
		.and_then(|v| v.strip_prefix("Bearer "));
	let matches = presented.is_some_and(|p| {
		// Compared in constant time so the token cannot be guessed byte by byte.
		p.len() == token.len()
			&& p.bytes().zip(token.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
	});
	if matches {
		next.run(request).await
	} else {
		ApiError::from(Error::Unauthorized).into_response()
	}
}

/// A fresh bearer token: 32 random bytes from the kernel, as hex.
pub fn generate_token() -> Result<String> {
	use std::io::Read;
	let mut bytes = [0u8; 32];
	std::fs::File::open("/dev/urandom")
		.and_then(|mut random| random.read_exact(&mut bytes))
		.map_err(|e| Error::Storage(format!("reading /dev/urandom for a token: {e}")))?;
	Ok(hex::encode(bytes))
}

/// The service's routes over an executor.
pub fn router(executor: Arc<Executor>, config: ServerConfig) -> Router {
	routes(app_state(executor, config))
}

fn app_state(executor: Arc<Executor>, config: ServerConfig) -> Arc<AppState> {
	let task_salt = u64::from_le_bytes(
		sp_crypto_hashing::blake2_256(
			&format!("{:?}{}", Instant::now(), std::process::id()).into_bytes(),
		)[..8]
			.try_into()
			.expect("8 bytes; qed"),
	);
	Arc::new(AppState {
		slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
		tasks: Mutex::new(Tasks::new(executor.metrics().tasks.clone())),
		executor,
		config,
		next_task: AtomicU64::new(1),
		task_salt,
		draining: AtomicBool::new(false),
		tasks_running: AtomicUsize::new(0),
		tasks_idle: Notify::new(),
	})
}

fn routes(state: Arc<AppState>) -> Router {
	Router::new()
		.route("/health", get(health))
		.route("/metrics", get(metrics))
		.route("/v1/infer", post(infer))
		.route("/v1/tasks", post(submit_task))
		.route("/v1/tasks/batch", post(submit_tasks))
		.route("/v1/tasks/poll", post(poll_tasks))
		.route("/v1/tasks/{id}", get(task).delete(cancel_task))
		.route("/v1/models", put(upload_model))
		.route("/v1/models/fetch", post(fetch_model))
		.route("/v1/models/{hash}", get(model_info))
		// Bodies are read with explicit limits in the handlers, which answer in JSON.
		.layer(DefaultBodyLimit::disable())
		.layer(middleware::from_fn_with_state(state.clone(), guard))
		.with_state(state)
}

/// Binds the listener (so callers learn the real port before serving starts).
pub async fn bind(config: &ServerConfig) -> Result<TcpListener> {
	config.validate()?;
	TcpListener::bind(config.listen)
		.await
		.map_err(|e| Error::Storage(format!("cannot listen on {}: {e}", config.listen)))
}

/// Binds the listener from synchronous code running inside a tokio runtime (a node's service
/// builder, for example).
pub fn bind_in_runtime(config: &ServerConfig) -> Result<TcpListener> {
	config.validate()?;
	let listen =
		|e: std::io::Error| Error::Storage(format!("cannot listen on {}: {e}", config.listen));
	let listener = std::net::TcpListener::bind(config.listen).map_err(listen)?;
	listener.set_nonblocking(true).map_err(listen)?;
	TcpListener::from_std(listener).map_err(listen)
}

/// Serves until `shutdown` resolves, then drains: new inferences and tasks are refused (503
/// `overloaded`) while running tasks end and can still be polled, then the listener closes
/// and requests in flight are answered before this returns.
pub async fn serve<L>(
	listener: L,
	executor: Arc<Executor>,
	config: ServerConfig,
	shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()>
where
	L: axum::serve::Listener,
	L::Addr: std::fmt::Debug,
{
	// Also checked when binding; a caller with a listener of its own gets the same checks.
	config.validate()?;
	let state = app_state(executor, config);
	let draining = state.clone();
	axum::serve(listener, routes(state))
		.with_graceful_shutdown(async move {
			shutdown.await;
			draining.drain().await;
		})
		.await
		.map_err(|e| Error::Storage(format!("server: {e}")))
}

#[cfg(test)]
mod tests {
	use super::*;

	fn done() -> TaskState {
		TaskState::Failed { error: ErrorBody { kind: "timeout".into(), message: "late".into() } }
	}

	fn gauge(tasks: &Tasks, state: &str) -> i64 {
		tasks.gauge.with_label_values(&[state]).get()
	}

	#[test]
	fn an_unread_result_is_kept_until_read_its_keep_or_its_deadline_and_counted_by_state() {
		let metrics = crate::metrics::Metrics::new();
		let mut tasks = Tasks::new(metrics.tasks.clone());
		let later = Instant::now() + Duration::from_secs(600);
		tasks.start("kept", later);
		tasks.start("short-keep", later);
		tasks.start("past-deadline", Instant::now());
		assert_eq!(gauge(&tasks, "running"), 3);
		// Running tasks are never forgotten to make room.
		assert!(!tasks.make_room(3));

		tasks.finish("kept", done(), Duration::from_secs(60));
		tasks.finish("short-keep", done(), Duration::ZERO);
		assert_eq!((gauge(&tasks, "running"), gauge(&tasks, "unread")), (1, 2));
		// Kept for zero seconds: forgotten first, although it is not the oldest.
		assert!(tasks.make_room(3));
		assert!(!tasks.states.contains_key("short-keep") && tasks.states.contains_key("kept"));
		tasks.start("fourth", later);
		// The one whose deadline has passed ends: then nobody waits for its outcome.
		tasks.finish("past-deadline", done(), Duration::from_secs(60));
		assert!(tasks.make_room(3));
		assert!(!tasks.states.contains_key("past-deadline"));
		tasks.start("fifth", later);
		// "kept" is unread, the others run: no room.
		assert!(!tasks.make_room(3));
		assert_eq!((gauge(&tasks, "running"), gauge(&tasks, "unread")), (2, 1));

		// A poll of a running task is not a read; a poll of a finished one is.
		assert!(matches!(tasks.read("fifth"), Some(TaskState::Running)));
		assert!(!tasks.make_room(3));
		assert!(matches!(tasks.read("kept"), Some(TaskState::Failed { .. })));
		assert_eq!((gauge(&tasks, "unread"), gauge(&tasks, "read")), (0, 1));
		assert!(tasks.make_room(3));
		assert!(!tasks.states.contains_key("kept"));
		assert_eq!((gauge(&tasks, "running"), gauge(&tasks, "read")), (2, 0));
		assert!(tasks.forget("fifth") && !tasks.forget("fifth"));
		assert_eq!(gauge(&tasks, "running"), 1);
	}
}
