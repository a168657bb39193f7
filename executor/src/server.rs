//! The HTTP service. Loopback by default; any other address needs a bearer token. Every
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
		atomic::{AtomicU64, Ordering},
		Arc, Mutex, PoisonError,
	},
	time::{Duration, Instant},
};
use tokio::{net::TcpListener, sync::Semaphore, time::timeout_at};

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
			let outcome = match worker.run(request, worker.config.task_timeout).await {
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
			let mut tasks = worker.tasks.lock().unwrap_or_else(PoisonError::into_inner);
			if let Some(state) = tasks.states.get_mut(&task_id) {
				*state = outcome;
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

async fn require_token(
	State(state): State<Arc<AppState>>,
	headers: HeaderMap,
	request: Request,
	next: Next,
) -> Response {
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

/// The service's routes over an executor.
pub fn router(executor: Arc<Executor>, config: ServerConfig) -> Router {
	let task_salt = u64::from_le_bytes(
		sp_crypto_hashing::blake2_256(
			&format!("{:?}{}", Instant::now(), std::process::id()).into_bytes(),
		)[..8]
			.try_into()
			.expect("8 bytes; qed"),
	);
	let state = Arc::new(AppState {
		slots: Arc::new(Semaphore::new(config.max_concurrent.max(1))),
		executor,
		config,
		tasks: Mutex::new(Tasks::default()),
		next_task: AtomicU64::new(1),
		task_salt,
	});
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
		.layer(middleware::from_fn_with_state(state.clone(), require_token))
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

/// Serves until `shutdown` resolves.
pub async fn serve(
	listener: TcpListener,
	executor: Arc<Executor>,
	config: ServerConfig,
	shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
	axum::serve(listener, router(executor, config))
		.with_graceful_shutdown(shutdown)
		.await
		.map_err(|e| Error::Storage(format!("server: {e}")))
}
