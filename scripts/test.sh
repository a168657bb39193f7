#!/usr/bin/env bash
# Runs every Veritensor test:
#   1. set-up check (scripts/setup.sh installs what is missing, scripts/setup-onnxruntime.sh the
#      ONNX Runtime library the executor's second engine loads);
#   2. cargo test for the whole workspace but the pallets (step 3 runs theirs): primitives and
#      runtime unit tests, the integer ONNX
#      interpreter (the demo model against ONNX Runtime's recorded outputs, each op's semantics,
#      truncated and mutated models), the executor's
#      tests (demo models through both engines, every error, the HTTP service on loopback,
#      fetching from a loopback model host), then the node's process tests (a --dev node
#      produces and finalises blocks and exits cleanly on SIGINT; four local_testnet validators
#      finalise a common block);
#   3. each pallet's unit tests with its benchmarks and try-runtime hooks (features
#      runtime-benchmarks and try-runtime), which run every benchmark once against the pallet's
#      mock runtime;
#   4. a standard JavaScript client (@polkadot/api) reads a dev node's metadata and state;
#   5. end-to-end tests over @polkadot/api on real node processes: the demo flow, faults (a
#      corrupt model, bad inputs), a worker node stopped with jobs assigned and restarted, an
#      attacker filling every block with tipped remarks while the worker answers, and quorums
#      of three with a byzantine worker and a worker node killed between commit and reveal,
#      audits and challenges (one settled by the runtime's own run of the integer model), and
#      the validator set on five local-testnet nodes (one joins by council motion, authors,
#      leaves and stops);
#   6. the Python SDK (installed into a virtual environment) and its `veritensor` command,
#      tested with pytest against a dev node the tests start.
# Before the tests: cargo fmt --check, and clippy -D warnings on primitives, the pallets and the
# executor. Every test starts its own node processes on free loopback ports and stops them; their
# PIDs are recorded (see track_test_processes in lib.sh), and any left running when this script
# ends are stopped.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
track_test_processes

"$REPO_ROOT/scripts/setup.sh"
require_toolchain
VERITENSOR_ONNXRUNTIME_LIB="$("$REPO_ROOT/scripts/setup-onnxruntime.sh")"
export VERITENSOR_ONNXRUNTIME_LIB

started=$(date +%s)
step "formatting: cargo fmt --all --check"
cargo fmt --all --check || fail "the code is not formatted: run cargo fmt --all"

step "lints: cargo clippy -D warnings on primitives, the interpreter, the pallets and the executor (all their targets)"
SKIP_WASM_BUILD=1 cargo clippy --locked --all-targets -p veritensor-primitives \
	-p veritensor-interpreter -p pallet-models -p pallet-workers -p pallet-jobs -p pallet-validators \
	-p veritensor-executor -- -D warnings

step "the interpreter builds for the runtime's target (wasm32v1-none, no_std)"
cargo build --locked -p veritensor-interpreter --target wasm32v1-none

# The pallets' own tests run once, below, with their benchmarks and try-runtime checks (a
# superset of the plain run; clippy above already compiled their tests without the features).
step "cargo test --workspace but the pallets (the first run builds the node and its wasm runtime: ~40 min on 2 cores)"
cargo test --workspace --locked --exclude pallet-models --exclude pallet-workers --exclude pallet-jobs \
	--exclude pallet-validators

for manifest in pallets/*/Cargo.toml; do
	package=$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n 1)
	step "$package with its benchmarks and try-runtime checks (features runtime-benchmarks, try-runtime)"
	SKIP_WASM_BUILD=1 cargo test --locked -p "$package" --features runtime-benchmarks,try-runtime
done

step "JavaScript client check (@polkadot/api)"
[ -x "$NODE_BIN" ] || fail "no node binary at $NODE_BIN after cargo test"
install_js_client
node scripts/client/check.mjs "$NODE_BIN"

step "end-to-end tests: the demo, faults, a worker node stopped and restarted, a block-filling attack, quorums and audits with a byzantine worker, a validator joining and leaving (~27 min)"
node scripts/client/e2e.mjs "$NODE_BIN"

step "Python SDK and command (pytest against a dev node, ~5 min)"
sdk_venv="$(install_python_sdk)"
VERITENSOR_NODE_BIN="$NODE_BIN" VERITENSOR_REQUIRE_NODE=1 \
	"$sdk_venv/bin/python" -m pytest -q -s -p no:cacheprovider sdk/python/tests

step "all tests passed in $(($(date +%s) - started)) s"
