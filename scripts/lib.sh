# Shared helpers for the scripts in this directory. Source it; do not run it.

# Cargo's target directory lives outside the checkout, shared by every build and every clone.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/veritensor-target}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nerror: %s\n' "$*" >&2; exit 1; }

# The node binary of the dev profile, which the tests and the dev chain share.
NODE_BIN="$CARGO_TARGET_DIR/debug/veritensor-node"
export NODE_BIN

require_toolchain() {
	command -v cargo >/dev/null || fail "cargo is missing: run scripts/setup.sh"
	command -v protoc >/dev/null || fail "protoc is missing: run scripts/setup.sh"
	rustup target list --installed 2>/dev/null | grep -qx wasm32v1-none ||
		fail "the wasm32v1-none target is missing: run scripts/setup.sh"
}

# Checks the machine's set-up, installing what is missing, and builds the node (dev profile).
prepare_node() {
	"$REPO_ROOT/scripts/setup.sh"
	require_toolchain
	step "building the node (the first build takes ~25 min on 2 cores; later ones are incremental)"
	cargo build --locked -p veritensor-node
}

# Every node process a test starts is recorded in $VERITENSOR_PID_FILE, one line each: its PID
# and its start time (field 22 of /proc/PID/stat), so that whatever starts the tests can stop
# exactly those processes if a test dies without cleaning up (a crash, a SIGKILL), and never a
# process that merely got a recycled PID. `track_test_processes` creates the file (unless one is
# set already) and stops what is left in it on exit.
track_test_processes() {
	if [ -z "${VERITENSOR_PID_FILE:-}" ]; then
		VERITENSOR_PID_FILE="$(mktemp "${TMPDIR:-/tmp}/veritensor-test-pids.XXXXXX")"
		export VERITENSOR_PID_FILE
		trap stop_test_processes EXIT
	fi
}

# The start time of process $1 (clock ticks since boot), or nothing if it is gone.
process_start_time() {
	local stat
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	# Fields after the command name, which sits in parentheses and may hold spaces.
	stat="${stat##*) }"
	# shellcheck disable=SC2086
	set -- $stat
	echo "${20}"
}

# Sends signal $1 to every recorded process that still runs with its recorded start time.
signal_recorded() {
	local pid started
	while read -r pid started; do
		[ -n "$pid" ] && [ -n "$started" ] || continue
		[ "$(process_start_time "$pid")" = "$started" ] || continue
		kill "-$1" "$pid" 2>/dev/null || true
	done <"$VERITENSOR_PID_FILE"
}

# Stops the recorded processes still running (SIGINT, then SIGKILL), then removes the file.
stop_test_processes() {
	[ -n "${VERITENSOR_PID_FILE:-}" ] && [ -f "$VERITENSOR_PID_FILE" ] || return 0
	signal_recorded INT
	sleep 2
	signal_recorded KILL
	rm -f "$VERITENSOR_PID_FILE"
}

# Installs the Python SDK (sdk/python, with its test extras) into a virtual environment outside
# the checkout, $VERITENSOR_SDK_VENV (default ~/.cache/veritensor-sdk-venv), as a user would
# install it; prints the environment's directory.
install_python_sdk() {
	local venv="${VERITENSOR_SDK_VENV:-$HOME/.cache/veritensor-sdk-venv}"
	if [ ! -x "$venv/bin/python" ]; then
		python3 -m venv "$venv" >&2 || fail "python3 -m venv $venv failed: run scripts/setup.sh"
	fi
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$REPO_ROOT/sdk/python[test]" >&2 ||
		fail "pip install sdk/python failed"
	# The same version number from another checkout may be installed: this checkout's code wins.
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall \
		"$REPO_ROOT/sdk/python" >&2 || fail "pip install sdk/python failed"
	echo "$venv"
}

# Installs the JavaScript client of the client check, the demo and the end-to-end tests.
install_js_client() {
	command -v npm >/dev/null || fail "npm is missing: run scripts/setup.sh"
	(cd "$REPO_ROOT/scripts/client" && npm ci --no-audit --no-fund --loglevel=error) ||
		fail "npm ci in scripts/client failed"
}
