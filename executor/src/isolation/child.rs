//! The child side: a process that runs models for its parent, one request at a time, under the
//! limits the parent asked for. Binaries that supervise children (the executor service, the
//! node) start it from a hidden subcommand that calls [`run_child`].

use super::{
	limits,
	protocol::{read_frame, write_frame, Hello, Run},
};
use crate::{
	error::Result,
	executor::{Config, Executor, InferResponse},
};
use std::{
	fs::File,
	io::BufReader,
	os::fd::FromRawFd,
	time::{Duration, Instant},
};

/// Serves the parent on stdin and stdout until stdin closes; returns the exit code.
///
/// Stdout carries only frames: it is moved to a descriptor of its own and descriptor 1 points
/// at stderr from then on, so nothing a library prints can corrupt a frame.
pub fn run_child() -> i32 {
	// SAFETY: dup and dup2 on the process's own standard descriptors, before any other thread
	// exists; the new descriptor is owned by the File below and nothing else.
	let frames_out = unsafe {
		let fd = libc::dup(1);
		if fd < 0 || libc::dup2(2, 1) < 0 {
			eprintln!("veritensor-executor child: cannot set up its descriptors");
			return 2;
		}
		File::from_raw_fd(fd)
	};
	let mut input = BufReader::new(std::io::stdin().lock());
	let mut output = frames_out;
	let hello: Hello = match read_frame(&mut input) {
		Ok(Some(hello)) => hello,
		Ok(None) => return 0,
		Err(error) => {
			eprintln!("veritensor-executor child: {error}");
			return 2;
		}
	};
	let executor = start(&hello);
	let ready = executor.as_ref().map(|_| ()).map_err(Clone::clone);
	if write_frame(&mut output, &ready).is_err() {
		return 2;
	}
	let Ok(executor) = executor else { return 1 };
	loop {
		let run: Run = match read_frame(&mut input) {
			Ok(Some(run)) => run,
			Ok(None) => return 0,
			Err(error) => {
				eprintln!("veritensor-executor child: {error}");
				return 2;
			}
		};
		let answer = serve(&executor, run);
		if write_frame(&mut output, &answer).is_err() {
			return 2;
		}
	}
}

/// The child's limits, then its executor.
fn start(hello: &Hello) -> Result<Executor> {
	limits::exit_on_allocation_failure();
	if let Some(bytes) = hello.rlimit_data_bytes {
		limits::limit_own_memory(bytes)?;
	}
	let mut config = Config::new(&hello.store_dir);
	config.max_model_bytes = hello.max_model_bytes;
	config.max_input_bytes = hello.max_input_bytes;
	config.cached_models = hello.cached_models;
	config.default_engine = hello.default_engine;
	config.onnxruntime_library = hello.onnxruntime_library.clone();
	config.threads = hello.threads;
	config.default_output_frac_bits = hello.default_output_frac_bits;
	Executor::new(config)
}

fn serve(executor: &Executor, run: Run) -> Result<InferResponse> {
	limits::limit_cpu_from_now(run.cpu_seconds)?;
	let deadline = run.deadline_ms.map(|ms| Instant::now() + Duration::from_millis(ms));
	executor.infer_here(&run.request, deadline)
}
