"""A development chain for the tests: the node at `VERITENSOR_URL` if set, or else a
`veritensor-node --dev --tmp` this session starts on free loopback ports and stops at the end.
The node binary is `VERITENSOR_NODE_BIN`, or the debug build in the cargo target directory
(`VERITENSOR_URL` must be a fresh dev chain: the tests bond and register accounts and keys once).
Without either, the chain tests are skipped, unless `VERITENSOR_REQUIRE_NODE` is set (the
project's test command sets it): then they fail."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _node_binary() -> Path | None:
    named = os.environ.get("VERITENSOR_NODE_BIN")
    if named:
        return Path(named)
    target = Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache" / "veritensor-target"))
    built = target / "debug" / "veritensor-node"
    return built if built.exists() else None


def _record_pid(process: subprocess.Popen) -> None:
    # The test command stops whatever a test left running, by the PIDs in this file.
    file = os.environ.get("VERITENSOR_PID_FILE")
    if not file:
        return
    try:
        stat = Path(f"/proc/{process.pid}/stat").read_text()
        started = stat[stat.rindex(")") + 2 :].split(" ")[19]
        with open(file, "a") as pids:
            pids.write(f"{process.pid} {started}\n")
    except OSError:
        pass


def _wait_for_blocks(url: str, log: Path, process: subprocess.Popen, timeout: float = 120.0) -> None:
    from substrateinterface import SubstrateInterface

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the node exited with {process.returncode}; log {log}")
        try:
            substrate = SubstrateInterface(url=url)
            if substrate.get_block_number(None) >= 1:
                substrate.close()
                return
            substrate.close()
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(1.0)
    raise RuntimeError(f"the node produced no block in {timeout:g} s; log {log}")


@pytest.fixture(scope="session")
def node_url():
    url = os.environ.get("VERITENSOR_URL")
    if url:
        yield url
        return
    binary = _node_binary()
    if binary is None or not binary.exists():
        message = "no dev chain: set VERITENSOR_URL or VERITENSOR_NODE_BIN, or build the node"
        if os.environ.get("VERITENSOR_REQUIRE_NODE"):
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="veritensor-sdk-"))
    rpc, p2p = _free_port(), _free_port()
    log = directory / "node.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [str(binary), "--dev", "--base-path", str(directory / "chain"), "--rpc-port", str(rpc),
             "--port", str(p2p), "--no-prometheus", "--no-telemetry", "--no-mdns"],
            stdout=output, stderr=subprocess.STDOUT,
        )
    _record_pid(process)
    url = f"ws://127.0.0.1:{rpc}"
    try:
        _wait_for_blocks(url, log, process)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
