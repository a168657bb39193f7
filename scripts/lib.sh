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

# Installs the JavaScript client of the client check, the demo and the end-to-end tests.
install_js_client() {
	command -v npm >/dev/null || fail "npm is missing: run scripts/setup.sh"
	(cd "$REPO_ROOT/scripts/client" && npm ci --no-audit --no-fund --loglevel=error) ||
		fail "npm ci in scripts/client failed"
}
