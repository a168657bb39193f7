//! The HTTP service. Loopback by default; any other address needs a bearer token. On loopback
//! it answers only requests addressed to loopback, and JSON bodies must say they are JSON, so
//! that a web page in a browser on the same machine cannot drive it. Every
//! failure is a JSON error `{"error": {"kind", "message"}}` with a fitting status; inference
//! runs on blocking threads, bounded by a concurrency limit and a per-request deadline, so a
//! bad model or input costs one request, never the service.

use crate::{
	error::{Error, Result},
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
	/// Asynchronous tasks remembered (running or finished); the oldest finished are forgotten
	/// first.
	pub max_tasks: usize,
	/// Level of the access log line written for every request (method, path, status, time,
	/// and the job named by an `X-Veritensor-Job` header).
	pub access_log: log::Level,
}

impl ServerConfig {
	/// Loopback on `port`, no token, 10 s requests, 10 min tasks, 2 at once, 1,024 tasks.
	pub fn loopback(port: u16) -> Self {
		Self {
			listen: SocketAddr::from(([127, 0, 0, 1], port)),
			token: None,
			request_timeout: Duration::from_secs(10),
			task_timeout: Duration::from_secs(600),
			max_concurrent: 2,
			max_tasks: 1024,
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

#[derive(Default)]
struct Tasks {
	states: HashMap<String, TaskState>,
	order: VecDeque<String>,
}

impl Tasks {
	/// Makes room for one more task by forgetting the oldest finished one.
	fn make_room(&mut self, limit: usize) -> bool {
		if self.states.len() < limit {
			return true;
		}
		let Some(position) = self
			.order
			.iter()
			.position(|id| !matches!(self.states.get(id), Some(TaskState::Running)))
		else {
			return false;
		};
		if let Some(id) = self.order.remove(position) {
			self.states.remove(&id);
		}
		true
	}
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

impl AppState {
	fn reply<T: Serialize>(
		&self,
		endpoint: &str,
		status: StatusCode,
		result: Result<T>,
	) -> Response {
		self.executor.metrics().requests.with_label_values(&[endpoint]).inc();
		match result {
			Ok(body) => (status, Json(body)).into_response(),
			Err(error) => self.error_response(&error),
		}
	}

	fn error_response(&self, error: &Error) -> Response {
		self.executor.metrics().errors.with_label_values(&[error.kind().as_str()]).inc();
		if matches!(error, Error::Engine(_) | Error::Storage(_) | Error::ResourceExhausted(_)) {
			log::warn!("{error}");
		}
		let (_, body) = error_reply(error);
		(status_of(error), Json(body)).into_response()
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

async fn health(State(state): State<Arc<AppState>>) -> Response {
	let body = serde_json::json!({
		"status": "ok",
		"version": env!("CARGO_PKG_VERSION"),
		"engines": state.executor.engines(),
	});
	state.reply("health", StatusCode::OK, Ok(body))
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
	state.executor.metrics().requests.with_label_values(&["metrics"]).inc();
	([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.executor.metrics().render())
		.into_response()
}

async fn infer(State(state): State<Arc<AppState>>, body: Body) -> Response {
	let limit = infer_body_limit(&state.executor);
	let result = async {
		let bytes = read_body(body, limit, |size| Error::InputTooLarge { size, limit }).await?;
		let request: InferRequest = parse_json(&bytes)?;
		// A task accepted before the drain runs; a new request does not.
		state.refuse_when_draining()?;
		state.run(request, state.config.request_timeout).await
	}
	.await;
	state.reply("infer", StatusCode::OK, result)
}

async fn submit_task(State(state): State<Arc<AppState>>, body: Body) -> Response {
	let limit = infer_body_limit(&state.executor);
	let result = async {
		let bytes = read_body(body, limit, |size| Error::InputTooLarge { size, limit }).await?;
		let request: InferRequest = parse_json(&bytes)?;
		// Counted before the check, so that a drain that starts meanwhile waits for it.
		let running = RunningTask::new(&state);
		state.refuse_when_draining()?;
		let id = format!(
			"{:016x}",
			state.next_task.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9e37_79b9_7f4a_7c15)
				^ state.task_salt
		);
		{
			let mut tasks = state.tasks.lock().unwrap_or_else(PoisonError::into_inner);
			if !tasks.make_room(state.config.max_tasks) {
				return Err(Error::Overloaded(format!(
					"all {} remembered tasks are still running",
					state.config.max_tasks
				)));
			}
			tasks.states.insert(id.clone(), TaskState::Running);
			tasks.order.push_back(id.clone());
		}
		let worker = state.clone();
		let task_id = id.clone();
		tokio::spawn(async move {
			let _running = running;
			let started = Instant::now();
			let outcome = worker.run(request, worker.config.task_timeout).await;
			let ended = match &outcome {
				Ok(_) => "done",
				Err(error) => error.kind().as_str(),
			};
			let elapsed = started.elapsed().as_millis();
			log::log!(worker.config.access_log, "task {task_id} ended: {ended} after {elapsed} ms");
			let outcome = match outcome {
				Ok(result) => TaskState::Done { result: Box::new(result) },
				Err(error) => {
					worker
						.executor
						.metrics()
						.errors
						.with_label_values(&[error.kind().as_str()])
						.inc();
					TaskState::Failed { error: error_body(&error) }
				}
			};
			{
				let mut tasks = worker.tasks.lock().unwrap_or_else(PoisonError::into_inner);
				if let Some(state) = tasks.states.get_mut(&task_id) {
					*state = outcome;
				}
			}
		});
		Ok(serde_json::json!({ "id": id, "state": "running" }))
	}
	.await;
	state.reply("submit_task", StatusCode::ACCEPTED, result)
}

async fn task(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
	let found = state.tasks.lock().unwrap_or_else(PoisonError::into_inner).states.get(&id).cloned();
	let result = found
		.map(|task| {
			let mut body = serde_json::to_value(task).unwrap_or_default();
			body["id"] = serde_json::Value::String(id.clone());
			body
		})
		.ok_or(Error::UnknownTask(id));
	state.reply("task", StatusCode::OK, result)
}

#[derive(Deserialize)]
struct UploadQuery {
	hash: Option<String>,
}

async fn upload_model(
	State(state): State<Arc<AppState>>,
	Query(query): Query<UploadQuery>,
	body: Body,
) -> Response {
	let max = state.executor.store().max_model_bytes();
	let result = async {
		state.refuse_when_draining()?;
		let expected = query.hash.as_deref().map(parse_hash).transpose()?;
		let bytes = read_body(body, max, |size| Error::ModelTooLarge { size, limit: max }).await?;
		let executor = state.executor.clone();
		tokio::task::spawn_blocking(move || {
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
		.map_err(|_| Error::Storage("the upload thread panicked".into()))?
	}
	.await;
	state.reply("upload_model", StatusCode::CREATED, result)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchRequest {
	hash: String,
	uris: Vec<String>,
}

async fn fetch_model(State(state): State<Arc<AppState>>, body: Body) -> Response {
	let result = async {
		let bytes =
			read_body(body, 64 << 10, |size| Error::InputTooLarge { size, limit: 64 << 10 })
				.await?;
		let request: FetchRequest = parse_json(&bytes)?;
		state.refuse_when_draining()?;
		let hash = parse_hash(&request.hash)?;
		let fetched = state.executor.fetch_model(&hash, &request.uris).await?;
		Ok(serde_json::json!({ "hash": hash_hex(&hash), "fetched": fetched }))
	}
	.await;
	state.reply("fetch_model", StatusCode::OK, result)
}

async fn model_info(State(state): State<Arc<AppState>>, Path(hash): Path<String>) -> Response {
	let executor = state.executor.clone();
	let result = async {
		let hash = parse_hash(&hash)?;
		tokio::task::spawn_blocking(move || executor.model_info(&hash))
			.await
			.map_err(|_| Error::Storage("the model thread panicked".into()))?
	}
	.await;
	state.reply("model_info", StatusCode::OK, result)
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
		return checked(&state, &headers, request, next).await;
	}
	let started = Instant::now();
	let line = format!("{} {}", request.method(), request.uri().path());
	let job = headers
		.get("x-veritensor-job")
		.and_then(|v| v.to_str().ok())
		.filter(|job| job.len() <= 32 && job.bytes().all(|b| b.is_ascii_alphanumeric()))
		.map(|job| format!(" job {job}"))
		.unwrap_or_default();
	let response = checked(&state, &headers, request, next).await;
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
		let mut response = state.error_response(&Error::BadInput(message));
		*response.status_mut() = status;
		response
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
		state.error_response(&Error::Unauthorized)
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
		executor,
		config,
		tasks: Mutex::new(Tasks::default()),
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
		.route("/v1/tasks/{id}", get(task))
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
pub async fn serve(
	listener: TcpListener,
	executor: Arc<Executor>,
	config: ServerConfig,
	shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
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
