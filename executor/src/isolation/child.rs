//! The child side: a process that runs models for its parent, one request at a time, under the
//! limits the parent asked for. Binaries that supervise children (the executor service, the
//! node) start it from a hidden subcommand that calls [`run_child`].

use super::{
	limits,
	protocol::{
		encode_frame, read_frame, write_frame, write_frame_bytes, Answer, Hello, Run,
		MAX_FRAME_BYTES,
	},
};
use crate::{
	error::{Error, Result},
	executor::{Config, Executor, InferResponse},
};
use std::{
	fs::File,
	io::BufReader,
	os::fd::FromRawFd,
	time::{Duration, Instant},
};

/// [`run_child`], then ends the process at once with its code: no static destructors of the
/// engines' libraries run, which could hang or crash at exit.
pub fn run_child_and_exit() -> ! {
	let code = run_child();
	// SAFETY: _exit ends the process; nothing is left to flush (frames are written whole).
	unsafe { libc::_exit(code) }
}

/// Serves the parent on stdin and stdout until stdin closes; returns the exit code.
///
/// Stdout carries only frames: it is moved to a descriptor of its own and descriptor 1 points
/// at stderr from then on, so nothing a library prints can corrupt a frame.
pub fn run_child() -> i32 {
	// SAFETY: dup and dup2 on the process's own standard descriptors, before any other thread
	// exists; the new descriptor is owned by the File below and nothing else.
	let frames_out = unsafe {
		let fd = libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3);
		if fd < 0 || libc::dup2(2, 1) < 0 {
			eprintln!("veritensor-executor child: cannot set up its descriptors");
			return 2;
		}
		File::from_raw_fd(fd)
	};
	let mut input = BufReader::new(std::io::stdin().lock());
	let mut output = frames_out;
	let hello: Hello = match next_frame(&mut input) {
		Ok(hello) => hello,
		Err(code) => return code,
	};
	let executor = start(&hello);
	let ready = executor.as_ref().map(|_| ()).map_err(Clone::clone);
	if write_frame(&mut output, &ready).is_err() {
		return 2;
	}
	let Ok(executor) = executor else { return 1 };
	loop {
		let run: Run = match next_frame(&mut input) {
			Ok(run) => run,
			Err(code) => return code,
		};
		let result = serve(&executor, run);
		// An engine that could not allocate (ONNX Runtime catches its own failures) leaves
		// this process with what it holds: it retires after answering.
		let retire = matches!(result, Err(Error::ResourceExhausted(_)));
		// Outputs too large for a frame are refused here, not sent; the child is fine.
		let frame = encode_frame(&Answer { result, retire }).or_else(|_| {
			encode_frame(&Answer {
				result: Err(Error::ResourceExhausted(format!(
					"the outputs are larger than the {} MiB an answer may carry",
					MAX_FRAME_BYTES >> 20
				))),
				retire: false,
			})
		});
		if frame.and_then(|frame| write_frame_bytes(&mut output, &frame)).is_err() {
			return 2;
		}
	}
}

/// The parent's next message, or the exit code: 0 when the parent closed the channel, 2 when
/// it sent something unreadable.
fn next_frame<T: serde::de::DeserializeOwned>(input: &mut impl std::io::Read) -> Result<T, i32> {
	match read_frame(input) {
		Ok(Some(message)) => Ok(message),
		Ok(None) => Err(0),
		Err(error) => {
			eprintln!("veritensor-executor child: {error}");
			Err(2)
		}
	}
}

/// The child's limits, then its executor.
fn start(hello: &Hello) -> Result<Executor> {
	limits::exit_on_allocation_failure();
	limits::no_core_dumps()?;
	// If memory runs short on the machine, the kernel ends a child before the node.
	let _ = std::fs::write("/proc/self/oom_score_adj", "1000");
	// Not dumpable (a core_pattern pipe ignores RLIMIT_CORE), nor open to ptrace by other
	// processes of the user.
	// SAFETY: prctl with PR_SET_DUMPABLE and a plain integer argument.
	unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0) };
	// A stop signal meant for the service (a terminal's Ctrl-C reaches its whole process
	// group; systemd signals every process of the unit) must not end a run it is draining:
	// a child ends with its parent instead.
	// SAFETY: signal with SIG_IGN installs no handler code.
	unsafe {
		libc::signal(libc::SIGTERM, libc::SIG_IGN);
		libc::signal(libc::SIGINT, libc::SIG_IGN);
	}
	end_with_parent();
	if let Some(bytes) = hello.rlimit_data_bytes {
		limits::limit_own_memory(bytes)?;
	}
	let mut config = Config::new(&hello.store_dir);
	config.max_model_bytes = hello.max_model_bytes;
	config.max_input_bytes = hello.max_input_bytes;
	config.cached_models = hello.cached_models;
	config.cache_bytes = hello.cache_bytes;
	config.default_engine = hello.default_engine;
	config.onnxruntime_library = hello.onnxruntime_library.clone();
	config.threads = hello.threads;
	config.onnxruntime_provider = hello.onnxruntime_provider;
	config.default_output_frac_bits = hello.default_output_frac_bits;
	Executor::new(config)
}

/// Ends this process as soon as its parent has gone (the write end of stdin closes), even in
/// the middle of a run that would otherwise go on until its CPU-time limit.
fn end_with_parent() {
	let watch = || {
		// Events 0: poll reports only a hang-up (or an error), never data, so the main
		// thread's reads are left alone.
		let mut stdin = libc::pollfd { fd: 0, events: 0, revents: 0 };
		loop {
			// SAFETY: one valid pollfd, owned by this frame, for the length of the call.
			let ready = unsafe { libc::poll(&mut stdin, 1, -1) };
			if ready > 0 {
				// SAFETY: _exit ends the process without running anything else.
				unsafe { libc::_exit(0) };
			}
		}
	};
	if let Err(error) = std::thread::Builder::new().name("parent-watch".into()).spawn(watch) {
		eprintln!("veritensor-executor child: no parent watch: {error}");
	}
}

fn serve(executor: &Executor, run: Run) -> Result<InferResponse> {
	limits::limit_cpu_from_now(run.cpu_seconds)?;
	let deadline = run.deadline_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
	executor.infer_here(&run.request, deadline)
}
