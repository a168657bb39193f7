//! The limits a child process runs under: its memory (cgroup v2 `memory.max`, or
//! `RLIMIT_DATA` set by the child on itself) and the CPU time of each run (`RLIMIT_CPU`), and
//! how the parent tells from the way a child ended which limit it broke.

use crate::error::{Error, Result};
use std::{
	alloc::{GlobalAlloc, Layout, System},
	fs,
	os::unix::process::ExitStatusExt,
	path::{Path, PathBuf},
	process::ExitStatus,
	sync::atomic::{AtomicBool, Ordering},
};

/// The exit code of a child whose allocation failed under its memory limit.
pub const EXIT_MEMORY_EXHAUSTED: i32 = 86;

static EXIT_ON_ALLOCATION_FAILURE: AtomicBool = AtomicBool::new(false);

/// The system allocator, except that in an executor's child process a failed allocation ends
/// the process at once with [`EXIT_MEMORY_EXHAUSTED`], so the parent can tell a model that
/// broke its memory limit from one that crashed. Elsewhere (a node's own process) it behaves as
/// the system allocator. Binaries that run executor children declare it as their
/// `#[global_allocator]`.
pub struct LimitAwareAllocator;

impl LimitAwareAllocator {
	#[cold]
	fn failed(pointer: *mut u8) -> *mut u8 {
		if EXIT_ON_ALLOCATION_FAILURE.load(Ordering::Relaxed) {
			const MESSAGE: &[u8] = b"veritensor-executor child: memory limit reached\n";
			// SAFETY: write(2) and _exit(2) are async-signal-safe and allocate nothing; the
			// message is a static buffer of the given length.
			unsafe {
				libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
				libc::_exit(EXIT_MEMORY_EXHAUSTED);
			}
		}
		pointer
	}
}

// SAFETY: every method forwards to the system allocator with the caller's arguments unchanged;
// the only addition is ending the process when it returned null.
unsafe impl GlobalAlloc for LimitAwareAllocator {
	unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
		let pointer = unsafe { System.alloc(layout) };
		if pointer.is_null() {
			return Self::failed(pointer);
		}
		pointer
	}

	unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
		let pointer = unsafe { System.alloc_zeroed(layout) };
		if pointer.is_null() {
			return Self::failed(pointer);
		}
		pointer
	}

	unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
		unsafe { System.dealloc(pointer, layout) }
	}

	unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
		let moved = unsafe { System.realloc(pointer, layout, new_size) };
		if moved.is_null() {
			return Self::failed(moved);
		}
		moved
	}
}

/// From now on a failed allocation ends this process with [`EXIT_MEMORY_EXHAUSTED`] (if the
/// binary's global allocator is [`LimitAwareAllocator`]).
pub fn exit_on_allocation_failure() {
	EXIT_ON_ALLOCATION_FAILURE.store(true, Ordering::Relaxed);
}

/// The hard limit this process inherited for `resource`.
fn hard_limit(resource: libc::__rlimit_resource_t) -> u64 {
	let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: libc::RLIM_INFINITY };
	// SAFETY: `limit` is a valid, writable rlimit for the duration of the call.
	if unsafe { libc::getrlimit(resource, &mut limit) } != 0 {
		return libc::RLIM_INFINITY;
	}
	limit.rlim_max
}

/// Sets `resource` to `soft` (and `hard`), never above the hard limit this process inherited
/// (a service manager's or a container's), which it could not raise.
fn set_limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> Result<()> {
	let inherited = hard_limit(resource);
	// Below an inherited finite hard limit, so that a CPU limit still arrives as SIGXCPU (the
	// hard one is SIGKILL, which would read as a crash).
	let ceiling =
		if inherited == libc::RLIM_INFINITY { inherited } else { inherited.saturating_sub(1) };
	let limit =
		libc::rlimit { rlim_cur: soft.min(ceiling).min(hard), rlim_max: hard.min(inherited) };
	// SAFETY: `limit` is a valid rlimit for the duration of the call.
	if unsafe { libc::setrlimit(resource, &limit) } != 0 {
		return Err(Error::Storage(format!("setrlimit: {}", std::io::Error::last_os_error())));
	}
	Ok(())
}

/// No core dumps: a child a model crashes must not write gigabytes, nor keep its pipes open
/// while it does.
pub fn no_core_dumps() -> Result<()> {
	set_limit(libc::RLIMIT_CORE, 0, 0)
}

/// Limits this process's data (heap and private writable mappings) to `bytes`. Suits the CPU
/// engines; a GPU library maps device memory into the address space and needs no limit here
/// (or a cgroup).
pub fn limit_own_memory(bytes: u64) -> Result<()> {
	set_limit(libc::RLIMIT_DATA, bytes, bytes)
}

/// CPU seconds this process has used so far, all threads together, rounded up.
fn cpu_seconds_used() -> u64 {
	// SAFETY: an all-zero rusage is a valid value for getrusage to fill in.
	let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
	// SAFETY: `usage` is a valid, writable rusage.
	if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
		return 0;
	}
	let seconds = usage.ru_utime.tv_sec + usage.ru_stime.tv_sec;
	let micros = usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
	(seconds as u64).saturating_add((micros as u64).div_ceil(1_000_000))
}

/// Lets this process use `seconds` more CPU seconds from now: past them the kernel sends
/// SIGXCPU, which ends it. The hard limit stays unlimited so the next run can move it on.
pub fn limit_cpu_from_now(seconds: u64) -> Result<()> {
	let soft = cpu_seconds_used().saturating_add(seconds.max(1));
	set_limit(libc::RLIMIT_CPU, soft, libc::RLIM_INFINITY)
}

/// A delegated cgroup v2 directory in which every child gets a cgroup of its own with a
/// `memory.max`: unlike `RLIMIT_DATA` it counts what the process really uses, GPU drivers'
/// host memory included, and the kernel's OOM killer enforces it.
#[derive(Clone, Debug)]
pub struct CgroupParent {
	dir: PathBuf,
}

impl CgroupParent {
	/// Checks that `dir` is a cgroup v2 directory whose children can have a memory limit,
	/// enabling the memory controller for them if it is not yet.
	pub fn open(dir: &Path) -> Result<Self> {
		let refused = |why: String| {
			Error::BadInput(format!(
				"cgroup {}: {why} (docs/executor.md, Isolation)",
				dir.display()
			))
		};
		let controllers = fs::read_to_string(dir.join("cgroup.controllers"))
			.map_err(|e| refused(format!("not a cgroup v2 directory: {e}")))?;
		if !controllers.split_whitespace().any(|c| c == "memory") {
			return Err(refused("the memory controller is not delegated to it".into()));
		}
		let subtree = dir.join("cgroup.subtree_control");
		let enabled = fs::read_to_string(&subtree)
			.map_err(|e| refused(format!("reading cgroup.subtree_control: {e}")))?;
		if !enabled.split_whitespace().any(|c| c == "memory") {
			fs::write(&subtree, "+memory").map_err(|e| {
				refused(format!("cannot enable the memory controller for its children: {e}"))
			})?;
		}
		Ok(Self { dir: dir.to_path_buf() })
	}

	/// Creates the cgroup of one child, with its memory limit and no swap.
	pub fn create(&self, name: &str, memory_bytes: u64) -> Result<ChildCgroup> {
		let dir = self.dir.join(name);
		let failed = |what: &str, e: std::io::Error| {
			Error::Storage(format!("cgroup {}: {what}: {e}", dir.display()))
		};
		// A cgroup left by an earlier process of the same id would carry its counters: it is
		// replaced (an empty cgroup can be removed).
		if dir.exists() {
			fs::remove_dir(&dir).map_err(|e| failed("removing a stale one", e))?;
		}
		fs::create_dir(&dir).map_err(|e| failed("creating it", e))?;
		let limit = if memory_bytes == 0 { "max".to_string() } else { memory_bytes.to_string() };
		fs::write(dir.join("memory.max"), limit).map_err(|e| failed("memory.max", e))?;
		// Without swap the limit is a limit; some kernels have no swap accounting.
		let _ = fs::write(dir.join("memory.swap.max"), "0");
		Ok(ChildCgroup { dir })
	}
}

/// One child's cgroup; removed when dropped (after the child has ended).
#[derive(Debug)]
pub struct ChildCgroup {
	dir: PathBuf,
}

impl ChildCgroup {
	/// Moves process `pid` into this cgroup.
	pub fn add(&self, pid: u32) -> Result<()> {
		fs::write(self.dir.join("cgroup.procs"), pid.to_string()).map_err(|e| {
			Error::Storage(format!("cgroup {}: adding process {pid}: {e}", self.dir.display()))
		})
	}

	/// Whether this cgroup reached its own memory limit and the OOM killer acted on it (the
	/// `oom` count; `oom_kill` would also count kills by the machine-wide OOM killer).
	pub fn oom_killed(&self) -> bool {
		fs::read_to_string(self.dir.join("memory.events")).is_ok_and(|events| {
			events.lines().any(|line| {
				line.strip_prefix("oom ")
					.and_then(|n| n.trim().parse::<u64>().ok())
					.is_some_and(|n| n > 0)
			})
		})
	}
}

impl Drop for ChildCgroup {
	fn drop(&mut self) {
		let _ = fs::remove_dir(&self.dir);
	}
}

/// The error a run ends with when its child process ended before answering: the limit it
/// broke if the way it ended names one, otherwise an engine failure.
pub fn death_error(status: ExitStatus, memory_limit: u64, oom_killed: bool) -> Error {
	let megabytes = memory_limit >> 20;
	if status.code() == Some(EXIT_MEMORY_EXHAUSTED) || oom_killed {
		return Error::ResourceExhausted(format!(
			"the model needed more than the memory limit of {megabytes} MiB"
		));
	}
	match status.signal() {
		Some(libc::SIGXCPU) => {
			Error::ResourceExhausted("the model used up its CPU-time limit".into())
		}
		Some(signal) => {
			Error::Engine(format!("the inference process was killed by signal {signal}"))
		}
		None => Error::Engine(format!("the inference process ended unexpectedly ({status})")),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// A wait status as the kernel reports it: an exit code in the high byte, or a signal.
	fn exited(code: i32) -> ExitStatus {
		ExitStatus::from_raw(code << 8)
	}

	#[test]
	fn the_way_a_child_ended_names_the_limit_it_broke() {
		let memory = death_error(exited(EXIT_MEMORY_EXHAUSTED), 256 << 20, false);
		assert!(
			matches!(&memory, Error::ResourceExhausted(m) if m.contains("256 MiB")),
			"{memory}"
		);
		let cpu = death_error(ExitStatus::from_raw(libc::SIGXCPU), 256 << 20, false);
		assert!(matches!(&cpu, Error::ResourceExhausted(m) if m.contains("CPU")), "{cpu}");
		// Killed by the OOM killer of its cgroup: SIGKILL, with the cgroup's count to tell.
		let oom = death_error(ExitStatus::from_raw(libc::SIGKILL), 1 << 30, true);
		assert!(matches!(&oom, Error::ResourceExhausted(m) if m.contains("1024 MiB")), "{oom}");
		let killed = death_error(ExitStatus::from_raw(libc::SIGKILL), 1 << 30, false);
		assert!(matches!(&killed, Error::Engine(m) if m.contains("signal 9")), "{killed}");
		let crashed = death_error(exited(101), 1 << 30, false);
		assert!(matches!(&crashed, Error::Engine(m) if m.contains("101")), "{crashed}");
	}
}
