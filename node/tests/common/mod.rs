//! Runs real node processes on loopback and talks to them over JSON-RPC.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::{
	fs::File,
	io::{Read, Write},
	net::{TcpListener, TcpStream},
	path::PathBuf,
	process::{Child, Command, ExitStatus, Stdio},
	sync::Mutex,
	time::{Duration, Instant},
};

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0")
		.and_then(|listener| listener.local_addr())
		.expect("the OS hands out a free loopback port")
		.port()
}

/// Appends a started process's PID and start time (field 22 of `/proc/PID/stat`) to
/// `$VERITENSOR_PID_FILE` (set by the test command), so that the test command can stop exactly
/// the processes a test started if the test binary dies before dropping them.
fn record_pid(pid: u32) {
	use std::io::Write;
	let Some(path) = std::env::var_os("VERITENSOR_PID_FILE") else { return };
	let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return };
	let after_name = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
	let Some(started) = after_name.split(' ').nth(19) else { return };
	if let Ok(mut file) = std::fs::OpenOptions::new().append(true).open(path) {
		let _ = writeln!(file, "{pid} {started}");
	}
}

/// A node process; killed when dropped, so that no test leaves one behind, even on failure.
pub struct Node {
	pub name: String,
	pub rpc_port: u16,
	pub p2p_port: u16,
	pub prometheus_port: u16,
	pub log_path: PathBuf,
	child: Mutex<Option<Child>>,
	_dir: tempdir::TempDir,
}

/// A minimal self-cleaning temporary directory (no extra dependency).
pub mod tempdir {
	use std::path::{Path, PathBuf};

	pub struct TempDir(PathBuf);

	impl TempDir {
		pub fn new(prefix: &str) -> Self {
			let unique = format!(
				"{prefix}-{}-{}",
				std::process::id(),
				std::time::SystemTime::now()
					.duration_since(std::time::UNIX_EPOCH)
					.unwrap()
					.as_nanos()
			);
			let path = std::env::temp_dir().join(unique);
			std::fs::create_dir_all(&path).expect("temp dir can be created");
			TempDir(path)
		}

		pub fn path(&self) -> &Path {
			&self.0
		}
	}

	impl Drop for TempDir {
		fn drop(&mut self) {
			let _ = std::fs::remove_dir_all(&self.0);
		}
	}
}

impl Node {
	/// Starts the node binary with `args` plus its own RPC and P2P ports, no telemetry, no
	/// Prometheus, no mDNS, and its output in a log file.
	pub fn start(name: &str, args: &[&str]) -> Node {
		let dir = tempdir::TempDir::new(&format!("veritensor-{name}"));
		let log_path = dir.path().join("node.log");
		let log = File::create(&log_path).expect("log file can be created");
		let rpc_port = free_port();
		let p2p_port = free_port();
		let prometheus_port = free_port();
		let child = Command::new(env!("CARGO_BIN_EXE_veritensor-node"))
			.args(args)
			.args(["--rpc-port", &rpc_port.to_string(), "--port", &p2p_port.to_string()])
			.args(["--prometheus-port", &prometheus_port.to_string()])
			.args(["--no-telemetry", "--no-mdns"])
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.expect("the node binary starts");
		record_pid(child.id());
		Node {
			name: name.into(),
			rpc_port,
			p2p_port,
			prometheus_port,
			log_path,
			child: Mutex::new(Some(child)),
			_dir: dir,
		}
	}

	pub fn log(&self) -> String {
		std::fs::read_to_string(&self.log_path).unwrap_or_default()
	}

	/// The last lines of the node's log, for failure messages.
	pub fn log_tail(&self) -> String {
		let log = self.log();
		let lines: Vec<&str> = log.lines().collect();
		lines[lines.len().saturating_sub(25)..].join("\n")
	}

	/// Waits until a line of the log contains `needle`; returns that line.
	pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(line) = self.log().lines().find(|line| line.contains(needle)) {
				return line.to_string();
			}
			self.assert_running();
			assert!(
				Instant::now() < deadline,
				"{}: no log line with {needle:?} within {timeout:?}:\n{}",
				self.name,
				self.log_tail()
			);
			std::thread::sleep(Duration::from_millis(200));
		}
	}

	/// The node's libp2p peer id, from its start-up log.
	pub fn peer_id(&self) -> String {
		let line = self.wait_for_log("Local node identity is:", Duration::from_secs(60));
		line.split_whitespace().last().expect("the line ends with the peer id").to_string()
	}

	/// Its multiaddress on loopback, for `--bootnodes`.
	pub fn multiaddr(&self) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port, self.peer_id())
	}

	/// Calls a JSON-RPC method; `Err` if the node is unreachable or answers with an error.
	pub fn rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		rpc_call(self.rpc_port, method, params)
	}

	/// Calls a JSON-RPC method, retrying while the node starts, up to `timeout`.
	pub fn rpc_when_up(&self, method: &str, params: Value, timeout: Duration) -> Value {
		let deadline = Instant::now() + timeout;
		loop {
			match self.rpc(method, params.clone()) {
				Ok(result) => return result,
				Err(error) => {
					self.assert_running();
					assert!(
						Instant::now() < deadline,
						"{}: {method} failed for {timeout:?}: {error}\n{}",
						self.name,
						self.log_tail()
					);
				}
			}
			std::thread::sleep(Duration::from_millis(500));
		}
	}

	/// The number of the best block.
	pub fn best_number(&self) -> Option<u64> {
		let header = self.rpc("chain_getHeader", json!([])).ok()?;
		hex_number(&header["number"])
	}

	/// The number of the last finalised block.
	pub fn finalized_number(&self) -> Option<u64> {
		let hash = self.rpc("chain_getFinalizedHead", json!([])).ok()?;
		let header = self.rpc("chain_getHeader", json!([hash])).ok()?;
		hex_number(&header["number"])
	}

	/// Fails the test if the process has exited.
	pub fn assert_running(&self) {
		let mut child = self.child.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		if let Some(status) = child.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
			panic!("{} exited early with {status}:\n{}", self.name, self.log_tail());
		}
	}

	/// Sends SIGINT and waits up to `timeout` for the process to exit; returns its status.
	pub fn interrupt(&mut self, timeout: Duration) -> ExitStatus {
		let mut child = self
			.child
			.get_mut()
			.unwrap_or_else(|poisoned| poisoned.into_inner())
			.take()
			.expect("running");
		let sent = Command::new("kill")
			.args(["-INT", &child.id().to_string()])
			.status()
			.expect("kill runs");
		assert!(sent.success(), "SIGINT could not be sent to {}", self.name);
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(status) = child.try_wait().expect("wait works") {
				return status;
			}
			if Instant::now() >= deadline {
				let _ = child.kill();
				let _ = child.wait();
				panic!(
					"{} did not exit within {timeout:?} of SIGINT:\n{}",
					self.name,
					self.log_tail()
				);
			}
			std::thread::sleep(Duration::from_millis(100));
		}
	}
}

impl Drop for Node {
	fn drop(&mut self) {
		let child = self.child.get_mut().unwrap_or_else(|poisoned| poisoned.into_inner());
		if let Some(mut child) = child.take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}
}

/// Reads a `0x`-prefixed hex number from a JSON string.
pub fn hex_number(value: &Value) -> Option<u64> {
	u64::from_str_radix(value.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// One JSON-RPC call over HTTP/1.0 (no chunked replies, the server closes the connection).
pub fn rpc_call(port: u16, method: &str, params: Value) -> Result<Value, String> {
	let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
	let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
	stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
	let request = format!(
		"POST / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
		 Content-Length: {}\r\n\r\n{body}",
		body.len()
	);
	stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
	let mut response = String::new();
	stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
	let (head, payload) = response.split_once("\r\n\r\n").ok_or("malformed HTTP response")?;
	if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
		return Err(format!("HTTP error: {}", head.lines().next().unwrap_or_default()));
	}
	let reply: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
	match reply.get("error") {
		Some(error) => Err(format!("RPC error: {error}")),
		None => Ok(reply["result"].clone()),
	}
}

/// One HTTP/1.0 GET on loopback: the status line and the body.
pub fn http_get(address: &str, path: &str) -> Result<(String, String), String> {
	http_request(address, "GET", path, &[])
}

/// One HTTP/1.0 request on loopback: the status line and the body.
pub fn http_request(
	address: &str,
	method: &str,
	path: &str,
	body: &[u8],
) -> Result<(String, String), String> {
	http_request_with(address, method, path, "Content-Type: application/json\r\n", body)
}

/// [`http_request`] with `headers` (each line ending in CRLF) instead of the JSON content
/// type.
pub fn http_request_with(
	address: &str,
	method: &str,
	path: &str,
	headers: &str,
	body: &[u8],
) -> Result<(String, String), String> {
	let mut stream = TcpStream::connect(address).map_err(|e| e.to_string())?;
	stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
	let head = format!(
		"{method} {path} HTTP/1.0\r\nHost: {address}\r\n{headers}Content-Length: {}\r\n\r\n",
		body.len()
	);
	stream.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
	stream.write_all(body).map_err(|e| e.to_string())?;
	let mut response = String::new();
	stream.read_to_string(&mut response).map_err(|e| e.to_string())?;
	let (head, body) = response.split_once("\r\n\r\n").ok_or("malformed HTTP response")?;
	Ok((head.lines().next().unwrap_or_default().to_string(), body.to_string()))
}

/// Polls `condition` every half second until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
	let deadline = Instant::now() + timeout;
	while Instant::now() < deadline {
		if condition() {
			return true;
		}
		std::thread::sleep(Duration::from_millis(500));
	}
	condition()
}
