//! Engines in child processes: a model that allocates without end, overflows its stack, aborts
//! or never finishes takes down one child, never the executor or the node embedding it.
//!
//! The [`Pool`] keeps up to one idle child per execution slot and hands each run to one of
//! them over pipes ([`protocol`]). Each child runs under a memory limit (a cgroup v2
//! `memory.max` when given a delegated cgroup, otherwise `RLIMIT_DATA`, which it sets on itself)
//! and each run under a CPU-time limit (`RLIMIT_CPU`) and a wall-clock deadline. A child that
//! passes its deadline is killed; one that dies is replaced by a fresh one on the next run. A
//! run that breaks a limit ends in `resource_exhausted` (memory, CPU time) or `timeout`.
//!
//! Models load in the child too, under the same limits: a model that explodes while being
//! parsed or optimised is refused like one that explodes while running.

pub mod child;
pub mod limits;
pub mod protocol;

use self::{
	limits::{death_error, CgroupParent, ChildCgroup},
	protocol::{encode_frame, read_frame, write_frame, write_frame_bytes, Answer, Hello, Run},
};
use crate::{
	engine::EngineKind,
	error::{Error, Result},
	executor::{Config, InferRequest, InferResponse},
	metrics::Metrics,
};
use std::{
	ffi::OsString,
	io::BufReader,
	os::fd::AsRawFd,
	path::PathBuf,
	process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio},
	sync::{
		atomic::{AtomicU64, Ordering},
		Mutex, PoisonError,
	},
	time::{Duration, Instant},
};

/// The hidden subcommand under which the executor's and the node's binaries run as a child.
pub const CHILD_SUBCOMMAND: &str = "inference-child";

/// How children are started and limited.
#[derive(Clone, Debug)]
pub struct IsolationConfig {
	/// The program to start: a binary whose `args` subcommand calls [`child::run_child`].
	pub program: PathBuf,
	/// Its arguments.
	pub args: Vec<OsString>,
	/// Memory each child may use, in bytes; 0 for no limit (GPU libraries under `RLIMIT_DATA`).
	pub memory_bytes: u64,
	/// CPU seconds each run may use per ONNX Runtime thread (`threads` times this, all threads
	/// together): a backstop above the wall-clock deadline, for runs without one and threads
	/// that spin, not a second deadline.
	pub cpu_seconds: u64,
	/// A delegated cgroup v2 directory: each child gets a cgroup in it with `memory.max`
	/// instead of `RLIMIT_DATA`.
	pub cgroup: Option<PathBuf>,
}

/// The program that is running now, as children should start it: `/proc/self/exe`, which
/// stays this very binary even if the file it was started from is replaced (an upgrade in
/// place), so parent and children always speak the same protocol and run the same engines.
pub fn this_program() -> PathBuf {
	PathBuf::from("/proc/self/exe")
}

impl IsolationConfig {
	/// `program args…` as children, 2 GiB of memory each, 900 CPU seconds a run per ONNX
	/// Runtime thread, no cgroup.
	pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> Self {
		Self {
			program: program.into(),
			args: args.iter().map(OsString::from).collect(),
			memory_bytes: 2 << 30,
			cpu_seconds: 900,
			cgroup: None,
		}
	}

	/// Children of the running binary ([`this_program`] with [`CHILD_SUBCOMMAND`]) under
	/// these limits: how both the service and the node start theirs.
	pub fn this_program_with(memory_mib: u64, cpu_seconds: u64, cgroup: Option<PathBuf>) -> Self {
		Self {
			memory_bytes: memory_mib.saturating_mul(1 << 20),
			cpu_seconds,
			cgroup,
			..Self::new(this_program(), &[CHILD_SUBCOMMAND])
		}
	}

	/// How the limits are enforced, for logs.
	pub fn describe(&self) -> String {
		let memory = match (&self.cgroup, self.memory_bytes) {
			(_, 0) => "no memory limit".into(),
			(Some(dir), bytes) => format!("memory.max {} MiB in {}", bytes >> 20, dir.display()),
			(None, bytes) => format!("RLIMIT_DATA {} MiB", bytes >> 20),
		};
		format!("{memory} a process, {} CPU s a run per thread", self.cpu_seconds)
	}
}

/// Time an ONNX Runtime run gets after its deadline to stop by itself (it is terminated at the
/// deadline and keeps its child) before the child is killed.
const TERMINATE_GRACE: Duration = Duration::from_secs(1);

/// Time a child gets to open its store and engines.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Children that run models, and the runs handed to them.
pub struct Pool {
	config: IsolationConfig,
	hello: Hello,
	cgroup: Option<CgroupParent>,
	idle: Mutex<Vec<Worker>>,
	started: AtomicU64,
	metrics: Metrics,
}

/// One child process.
struct Worker {
	process: Child,
	stdin: ChildStdin,
	stdout: BufReader<ChildStdout>,
	cgroup: Option<ChildCgroup>,
}

/// How waiting for a child's answer ended without one.
enum NoAnswer {
	/// The deadline passed.
	Late,
	/// The channel closed or broke: the child is gone.
	Gone,
}

impl Worker {
	/// Waits for the next frame until `deadline`.
	fn answer<T: serde::de::DeserializeOwned>(
		&mut self,
		deadline: Option<Instant>,
	) -> core::result::Result<T, NoAnswer> {
		if self.stdout.buffer().is_empty() && !wait_readable(&self.stdout, deadline) {
			return Err(NoAnswer::Late);
		}
		match read_frame(&mut self.stdout) {
			Ok(Some(answer)) => Ok(answer),
			Ok(None) | Err(_) => Err(NoAnswer::Gone),
		}
	}

	/// The child's exit status once it has ended (killed if it has not within a second: it
	/// closed its channel, so it is of no more use).
	fn ended(&mut self) -> Option<ExitStatus> {
		let patience = Instant::now() + Duration::from_secs(1);
		while Instant::now() < patience {
			match self.process.try_wait() {
				Ok(Some(status)) => return Some(status),
				Ok(None) => std::thread::sleep(Duration::from_millis(2)),
				Err(_) => return None,
			}
		}
		let _ = self.process.kill();
		self.process.wait().ok()
	}

	/// Why the child, whose channel closed, ended: the limit it broke, or how it died.
	fn death(&mut self, memory_limit: u64) -> Error {
		let oom = self.cgroup.as_ref().is_some_and(ChildCgroup::oom_killed);
		match self.ended() {
			Some(status) => death_error(status, memory_limit, oom),
			None => Error::Engine("the inference process ended".into()),
		}
	}
}

impl Drop for Worker {
	fn drop(&mut self) {
		let _ = self.process.kill();
		let _ = self.process.wait();
	}
}

/// Whether `stdout` has something to read (or has closed) before `deadline`.
fn wait_readable(stdout: &BufReader<ChildStdout>, deadline: Option<Instant>) -> bool {
	let mut poll =
		libc::pollfd { fd: stdout.get_ref().as_raw_fd(), events: libc::POLLIN, revents: 0 };
	loop {
		let timeout = match deadline {
			None => -1,
			Some(deadline) => {
				// Rounded up, so a wait never ends just before its deadline and spins; past the
				// deadline one last look (an answer already in the pipe is taken).
				let left = deadline.saturating_duration_since(Instant::now());
				left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32
			}
		};
		// SAFETY: one valid pollfd, owned by this frame, for the length of the call.
		let ready = unsafe { libc::poll(&mut poll, 1, timeout) };
		if ready > 0 {
			return true;
		}
		if ready == 0 && timeout == 0 {
			return false;
		}
		if ready < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
			// Reading will tell what is wrong.
			return true;
		}
	}
}

impl Pool {
	/// Starts the first child, so that a program that cannot start or an engine that cannot
	/// load is an error now rather than at the first job.
	pub fn new(config: IsolationConfig, executor: &Config, metrics: Metrics) -> Result<Self> {
		let cgroup = match (&config.cgroup, config.memory_bytes) {
			(Some(dir), bytes) if bytes > 0 => Some(CgroupParent::open(dir)?),
			_ => None,
		};
		let hello = Hello {
			store_dir: executor.store_dir.clone(),
			max_model_bytes: executor.max_model_bytes,
			max_input_bytes: executor.max_input_bytes,
			cached_models: executor.cached_models,
			cache_bytes: executor.cache_bytes,
			default_engine: executor.default_engine,
			onnxruntime_library: executor.onnxruntime_library.clone(),
			threads: executor.threads,
			onnxruntime_provider: executor.onnxruntime_provider,
			default_output_frac_bits: executor.default_output_frac_bits,
			rlimit_data_bytes: (cgroup.is_none() && config.memory_bytes > 0)
				.then_some(config.memory_bytes),
		};
		let pool = Self {
			config,
			hello,
			cgroup,
			idle: Mutex::new(Vec::new()),
			started: AtomicU64::new(0),
			metrics,
		};
		let first = pool.start()?;
		pool.idle.lock().unwrap_or_else(PoisonError::into_inner).push(first);
		Ok(pool)
	}

	/// The configuration in effect.
	pub fn config(&self) -> &IsolationConfig {
		&self.config
	}

	fn start(&self) -> Result<Worker> {
		let number = self.started.fetch_add(1, Ordering::Relaxed);
		self.metrics.children_started.inc();
		let cannot = |e: std::io::Error| {
			Error::Engine(format!(
				"cannot start the inference process {}: {e}",
				self.config.program.display()
			))
		};
		let mut command = Command::new(&self.config.program);
		// Nothing of the parent's environment (tokens among it) but what helps a diagnosis.
		command.env_clear();
		for kept in ["RUST_BACKTRACE", "RUST_LOG"] {
			if let Some(value) = std::env::var_os(kept) {
				command.env(kept, value);
			}
		}
		let mut process = command
			.args(&self.config.args)
			.stdin(Stdio::piped())
			.stdout(Stdio::piped())
			.stderr(Stdio::inherit())
			.spawn()
			.map_err(cannot)?;
		let (Some(stdin), Some(stdout)) = (process.stdin.take(), process.stdout.take()) else {
			let _ = process.kill();
			let _ = process.wait();
			return Err(Error::Engine("the inference process has no pipes".into()));
		};
		let mut worker = Worker { process, stdin, stdout: BufReader::new(stdout), cgroup: None };
		if let Some(parent) = &self.cgroup {
			let name = format!("veritensor-executor-{}-{number}", std::process::id());
			let cgroup = parent.create(&name, self.config.memory_bytes)?;
			// The child waits for its hello before doing anything, so it is in its cgroup
			// before it loads a model.
			cgroup.add(worker.process.id())?;
			worker.cgroup = Some(cgroup);
		}
		write_frame(&mut worker.stdin, &self.hello)?;
		match worker.answer::<Result<()>>(Some(Instant::now() + START_TIMEOUT)) {
			Ok(ready) => ready.map(|()| worker),
			Err(NoAnswer::Late) => {
				Err(Error::Engine("the inference process did not start in time".into()))
			}
			Err(NoAnswer::Gone) => Err(worker.death(self.config.memory_bytes)),
		}
	}

	/// Runs `request` in a child, ending it at `deadline`. A child that breaks a limit, dies
	/// or passes the deadline is not reused.
	///
	/// A run that broke the memory or CPU-time limit in a child that had served other runs is
	/// tried once more in a fresh one: what a child keeps between runs (loaded models, its
	/// heap) must not turn into a refusal of a request that a fresh child, with the same
	/// limits, would serve.
	pub fn infer(
		&self,
		request: &InferRequest,
		deadline: Option<Instant>,
	) -> Result<InferResponse> {
		let started = Instant::now();
		let late = || Error::Timeout(started.elapsed().as_millis() as u64);
		let engine = request.engine.unwrap_or(self.hello.default_engine);
		// ONNX Runtime runs stop by themselves at the deadline; the others are killed at it.
		let grace =
			if engine == EngineKind::OnnxRuntime { TERMINATE_GRACE } else { Duration::ZERO };
		let mut fresh_only = false;
		loop {
			let now = Instant::now();
			if deadline.is_some_and(|d| now >= d) {
				return Err(late());
			}
			// Encoded for each attempt, with the time left now, and before any child is
			// involved: a request that cannot be sent is the request's fault, not a child's.
			let frame = encode_frame(&Run {
				request,
				deadline_ms: deadline.map(|d| d.saturating_duration_since(now).as_millis() as u64),
				cpu_seconds: self
					.config
					.cpu_seconds
					.saturating_mul(self.hello.threads.max(1) as u64),
			})?;
			let (mut worker, fresh) = self.worker_for(fresh_only)?;
			if deadline.is_some_and(|d| Instant::now() >= d) {
				// Started too late for this run; it serves the next.
				self.park(worker);
				return Err(late());
			}
			let answer = match write_frame_bytes(&mut worker.stdin, &frame) {
				Ok(()) => worker.answer::<Answer>(deadline.map(|d| d + grace)),
				// A child that died before it took the run.
				Err(_) => Err(NoAnswer::Gone),
			};
			let outcome = match answer {
				Ok(Answer { result, retire: false }) => {
					self.park(worker);
					return result;
				}
				Ok(Answer { result, retire: true }) => {
					// The child lived, but is left with what broke its limit: not reused.
					drop(worker);
					match result {
						Err(error) => error,
						Ok(response) => return Ok(response),
					}
				}
				Err(NoAnswer::Late) => {
					// Dropping the worker kills it.
					drop(worker);
					late()
				}
				Err(NoAnswer::Gone) => worker.death(self.config.memory_bytes),
			};
			self.metrics.children_ended.with_label_values(&[outcome.kind().as_str()]).inc();
			if matches!(outcome, Error::ResourceExhausted(_)) && !fresh {
				fresh_only = true;
				continue;
			}
			return Err(outcome);
		}
	}

	/// An idle child that is still alive, or a fresh one (always a fresh one if asked), and
	/// whether it is fresh.
	fn worker_for(&self, fresh_only: bool) -> Result<(Worker, bool)> {
		if !fresh_only {
			loop {
				let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
				let Some(mut worker) = idle else { break };
				// An idle child that died meanwhile (killed from outside) is dropped and
				// replaced.
				if matches!(worker.process.try_wait(), Ok(None)) {
					return Ok((worker, false));
				}
			}
		}
		Ok((self.start()?, true))
	}

	fn park(&self, worker: Worker) {
		self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(worker);
	}
}
