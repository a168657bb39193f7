#!/usr/bin/env bash
# Measures the database weights (the time of one storage read and one write) with the node's
# `benchmark storage` command, on a node's own database or on a generated state of a given size:
#   1. builds the node with `--features runtime-benchmarks` (the client database exposes its
#      handles only then; a separate build of the crates that feature reaches), dev profile
#      unless BENCH_NODE=release;
#   2. reads every key of the database's best state and writes keys back, timed, and writes the
#      weights (average per read and per write) to the output directory. Writes are committed in
#      batches of BATCH_SIZE keys (default 100) and timed per key, the cost of a write amortised
#      over a commit as block import amortises it (a block of jobs commits thousands of keys, so
#      100 is on the expensive side); keys past the last whole batch are not written, so the
#      state needs more keys than that.
#
#   scripts/benchmark-storage.sh --accounts <N> [output directory]
#   scripts/benchmark-storage.sh <base path> <chain spec> [output directory]
#
# `--accounts N` measures on the genesis state of the development chain with N more endowed
# accounts (scripts/large-state-spec.py), in a new database under /tmp, removed afterwards: a
# state of a chain's size without running one. The runtime's weights come from
# `BENCH_NODE=release scripts/benchmark-storage.sh --accounts 200000` (the wasm genesis builder
# runs out of memory a little above that).
#
# With a base path, it measures a copy of a stopped node's database, for example the one the load
# benchmark leaves:
#   VERITENSOR_KEEP_BENCH=1 scripts/bench-load.sh   # keeps a loaded node's directory in /tmp
#   scripts/benchmark-storage.sh /tmp/veritensor-bench-load-XXXXXX/node \
#       /tmp/veritensor-bench-load-XXXXXX/test-chain-spec.json
#
# The state decides the figures: reads and writes get slower as the trie grows, and a fresh
# development chain's few thousand keys give figures too low to charge. The node must not be
# running on that base path, and since the write benchmark writes to the database, give it a
# copy of a node's database that matters. Run it on a quiet machine.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage="usage: scripts/benchmark-storage.sh --accounts <N> [output directory]
       scripts/benchmark-storage.sh <node base path> <chain spec> [output directory]"
accounts=""
if [ "${1:-}" = --accounts ]; then
	[ $# -ge 2 ] || fail "$usage"
	accounts="$2"
	[[ "$accounts" =~ ^[1-9][0-9]*$ ]] || fail "--accounts needs a positive whole number, not '$accounts'"
	shift 2
	output_arg="${1:-}"
else
	[ $# -ge 2 ] || fail "$usage"
	# Paths as the caller gave them, before the script moves to the repository.
	base_path="$(realpath -m "$1")"
	chain="$2"
	case "$chain" in
	dev) chain_id=veritensor_dev ;;
	local) chain_id=veritensor_local_testnet ;;
	*)
		[ -f "$chain" ] || fail "no chain spec file $chain (or give dev or local)"
		chain="$(realpath "$chain")"
		chain_id="$(grep -o '"id": *"[^"]*"' "$chain" | head -1 | sed 's/.*"\([^"]*\)"$/\1/')"
		[ -n "$chain_id" ] || fail "$chain has no chain id"
		;;
	esac
	# The node would create an empty database where none is and measure that: refuse instead.
	[ -d "$base_path/chains/$chain_id/paritydb" ] ||
		fail "no ParityDB database of chain $chain_id under $base_path (expected chains/$chain_id/paritydb)"
	output_arg="${3:-}"
fi
batch_size="${BATCH_SIZE:-100}"
[[ "$batch_size" =~ ^[1-9][0-9]*$ ]] || fail "BATCH_SIZE must be a positive whole number"
if [ -n "$output_arg" ]; then
	output="$(realpath -m "$output_arg")"
else
	output="$(mktemp -d /tmp/veritensor-storage-weights-XXXXXX)"
fi
mkdir -p "$output"
cd "$REPO_ROOT"

require_toolchain

if [ "${BENCH_NODE:-dev}" = release ]; then
	step "building the node with runtime benchmarks (release)"
	cargo build --locked --release -p veritensor-node --features runtime-benchmarks
	node="$CARGO_TARGET_DIR/release/veritensor-node"
else
	step "building the node with runtime benchmarks (dev profile)"
	cargo build --locked -p veritensor-node --features runtime-benchmarks
	# Keep the benchmarking node aside: the ordinary build below writes the same path, which the
	# tests and the dev chain use; until it has, say so if this script stops.
	bench_dir="$(mktemp -d /tmp/veritensor-node-benchmarks-XXXXXX)"
	node="$bench_dir/veritensor-node"
	cp "$CARGO_TARGET_DIR/debug/veritensor-node" "$node"
	trap 'rm -rf "$bench_dir"' EXIT
	trap 'echo "warning: $CARGO_TARGET_DIR/debug/veritensor-node may still be the runtime-benchmarks build: run cargo build -p veritensor-node" >&2' ERR
	# Both builds write the same runtime wasm file: put the ordinary node's own back.
	step "building the ordinary node again (its runtime wasm is shared with the build above)"
	touch runtime/src/lib.rs
	cargo build --locked -p veritensor-node
	trap - ERR
fi

if [ -n "$accounts" ]; then
	state_dir="$(mktemp -d /tmp/veritensor-storage-state-XXXXXX)"
	# Keep the node binary's own clean-up, if any, and remove the generated state as well.
	trap 'rm -rf "$state_dir" ${bench_dir:+"$bench_dir"}' EXIT
	step "writing the development chain's spec with $accounts more endowed accounts"
	"$node" build-spec --chain dev >"$state_dir/dev.json" 2>/dev/null ||
		fail "build-spec --chain dev failed"
	python3 scripts/large-state-spec.py "$state_dir/dev.json" "$accounts" "$state_dir/spec.json"
	chain="$state_dir/spec.json"
	base_path="$state_dir/node"
fi

step "benchmarking reads and writes on ${accounts:+a new database of }$base_path (weights into $output)"
"$node" benchmark storage \
	--base-path "$base_path" \
	--chain "$chain" \
	--database paritydb \
	--state-version 1 \
	--batch-size "$batch_size" \
	--warmups 2 \
	--header scripts/weight-header.txt \
	--weight-path "$output"

step "wrote $output/paritydb_weights.rs"
