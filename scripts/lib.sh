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
	step "building the node (the first build takes ~35 min on 2 cores; later ones are incremental)"
	cargo build --locked -p veritensor-node
}

# Every node process a test starts is recorded, one PID a line, in $VERITENSOR_PID_FILE, so that
# whatever starts the tests can stop exactly those processes if a test dies without cleaning up
# (a crash, a SIGKILL), and never another checkout's or another user's nodes.
# `track_test_processes` creates the file (unless one is set already) and stops what is left in
# it on exit.
track_test_processes() {
	if [ -z "${VERITENSOR_PID_FILE:-}" ]; then
		VERITENSOR_PID_FILE="$(mktemp "${TMPDIR:-/tmp}/veritensor-test-pids.XXXXXX")"
		export VERITENSOR_PID_FILE
		trap stop_test_processes EXIT
	fi
}

# Stops the processes recorded in $VERITENSOR_PID_FILE that are still running and still the
# programs that were recorded (a recycled PID is left alone), then removes the file.
stop_test_processes() {
	local file="${VERITENSOR_PID_FILE:-}" pid
	[ -n "$file" ] && [ -f "$file" ] || return 0
	while read -r pid; do
		[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || continue
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'veritensor' || continue
		kill -INT "$pid" 2>/dev/null || true
	done <"$file"
	sleep 2
	while read -r pid; do
		[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || continue
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'veritensor' || continue
		kill -KILL "$pid" 2>/dev/null || true
	done <"$file"
	rm -f "$file"
}

# Installs the JavaScript client of the client check, the demo and the end-to-end tests.
install_js_client() {
	command -v npm >/dev/null || fail "npm is missing: run scripts/setup.sh"
	(cd "$REPO_ROOT/scripts/client" && npm ci --no-audit --no-fund --loglevel=error) ||
		fail "npm ci in scripts/client failed"
}
