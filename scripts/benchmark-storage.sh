#!/usr/bin/env bash
# Measures the database weights (the time of one storage read and one write) on a node's own
# database, with the node's `benchmark storage` command:
#   1. builds the node with `--features runtime-benchmarks` (the client database exposes its
#      handles only then; a separate build of most crates, ~25 min cold on 2 cores), dev profile
#      unless BENCH_NODE=release;
#   2. reads every key of the database's best state and writes keys back, timed, and writes the
#      weights (average per read and per write) to the output directory. Writes are committed in
#      batches of BATCH_SIZE keys (default 1000, about a full block's writes) and timed per key;
#      keys past the last whole batch are not written, so the state needs more keys than that.
#
#   scripts/benchmark-storage.sh <base path> <chain spec> [output directory]
#   VERITENSOR_KEEP_BENCH=1 scripts/bench-load.sh   # keeps a loaded node's directory in /tmp
#   scripts/benchmark-storage.sh /tmp/veritensor-bench-load-XXXXXX/node \
#       /tmp/veritensor-bench-load-XXXXXX/test-chain-spec.json
#
# The state decides the figures: a database with a chain's real state (its size and depth) gives
# weights worth using; a fresh chain's genesis is small and reads from it come out cheap. The node
# must not be running on that base path, and since the write benchmark writes to the database,
# give it a copy of a node's database that matters. Run it on a quiet machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

base_path="${1:-}"
chain="${2:-}"
output="${3:-$(mktemp -d /tmp/veritensor-storage-weights-XXXXXX)}"
[ -n "$base_path" ] && [ -n "$chain" ] ||
	fail "usage: scripts/benchmark-storage.sh <node base path> <chain spec> [output directory]"
[ -d "$base_path/chains" ] || fail "$base_path holds no node database (no chains/ in it)"
[ -f "$chain" ] || [ "$chain" = dev ] || [ "$chain" = local ] || fail "no chain spec $chain"
mkdir -p "$output"

require_toolchain

if [ "${BENCH_NODE:-dev}" = release ]; then
	step "building the node with runtime benchmarks (release)"
	cargo build --locked --release -p veritensor-node --features runtime-benchmarks
	node="$CARGO_TARGET_DIR/release/veritensor-node"
else
	step "building the node with runtime benchmarks (dev profile)"
	cargo build --locked -p veritensor-node --features runtime-benchmarks
	# Keep the benchmarking node: the ordinary build below writes the same path.
	cp "$CARGO_TARGET_DIR/debug/veritensor-node" "$CARGO_TARGET_DIR/veritensor-node-benchmarks"
	node="$CARGO_TARGET_DIR/veritensor-node-benchmarks"
	# Both builds write the same runtime wasm file: put the ordinary node's own back.
	step "building the ordinary node again (its runtime wasm is shared with the build above)"
	touch runtime/src/lib.rs
	cargo build --locked -p veritensor-node
fi

step "benchmarking reads and writes on $base_path (weights into $output)"
"$node" benchmark storage \
	--base-path "$base_path" \
	--chain "$chain" \
	--database paritydb \
	--state-version 1 \
	--batch-size "${BATCH_SIZE:-1000}" \
	--header scripts/weight-header.txt \
	--weight-path "$output"

step "wrote $output/paritydb_weights.rs"
