#!/usr/bin/env bash
# Generates a pallet's weights.rs from its runtime benchmarks:
#   1. builds the node in release mode with `--features runtime-benchmarks`
#      (a separate ~30 min cold build on 2 cores);
#   2. runs `veritensor-node benchmark pallet` on the development preset's runtime and writes the
#      result through scripts/frame-weight-template.hbs, so every weights.rs has the same shape.
#
#   scripts/benchmark-pallet.sh <pallet> [output file]
#   scripts/benchmark-pallet.sh pallet_models pallets/models/src/weights.rs
#   scripts/benchmark-pallet.sh pallet_balances runtime/src/weights/pallet_balances.rs
#
# STEPS and REPEAT (default 50 and 20) trade precision for time. BENCH_NODE=dev uses the debug
# node the tests build instead (no second build of the node; see below). Run it on a quiet machine:
# anything else using the CPU inflates the measured weights.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

pallet="${1:-}"
[ -n "$pallet" ] || fail "usage: scripts/benchmark-pallet.sh <pallet, e.g. pallet_models> [output file]"
output="${2:-}"
if [ -z "$output" ]; then
	dir="pallets/${pallet#pallet_}"
	[ -d "$dir/src" ] || fail "no $dir/src: give the output file as the second argument"
	output="$dir/src/weights.rs"
fi

require_toolchain

if [ "${BENCH_NODE:-release}" = dev ]; then
	# The debug node the tests build runs the benchmarks of a runtime built with them: only the
	# runtime is built again. Its host functions are partly unoptimised, so the weights come out
	# higher than a release node measures: safe, not exact.
	step "building the runtime with its benchmarks, and the debug node"
	cargo build --locked -p veritensor-runtime --features runtime-benchmarks
	# A debug build writes the runtime uncompressed.
	cp "$CARGO_TARGET_DIR/debug/wbuild/veritensor-runtime/veritensor_runtime.wasm" \
		"$CARGO_TARGET_DIR/benchmarks-runtime.wasm"
	wasm="$CARGO_TARGET_DIR/benchmarks-runtime.wasm"
	# Both builds write the same wasm file: make the node's build put its own runtime back.
	touch runtime/src/lib.rs
	cargo build --locked -p veritensor-node
	node="$CARGO_TARGET_DIR/debug/veritensor-node"
else
	step "building the node with runtime benchmarks (release)"
	cargo build --locked --release -p veritensor-node --features runtime-benchmarks
	wasm="$CARGO_TARGET_DIR/release/wbuild/veritensor-runtime/veritensor_runtime.compact.compressed.wasm"
	node="$CARGO_TARGET_DIR/release/veritensor-node"
fi
# This chain's pallets declare their WeightInfo trait in their weights.rs (our template); the
# runtime's weights for other pallets implement the trait those pallets declare, which is what
# the benchmark CLI's own template writes.
template=(--template scripts/frame-weight-template.hbs)
case "$output" in runtime/* | */runtime/*) template=() ;; esac

step "listing the benchmarks of $pallet"
"$node" benchmark pallet --runtime "$wasm" \
	--genesis-builder-preset development --list=all 2>/dev/null | grep -q "^$pallet," ||
	fail "the runtime has no benchmarks for $pallet (is it in define_benchmarks! in runtime/src/lib.rs?)"

step "benchmarking $pallet into $output (steps ${STEPS:-50}, repeat ${REPEAT:-20})"
"$node" benchmark pallet \
	--runtime "$wasm" \
	--genesis-builder-preset development \
	--pallet "$pallet" --extrinsic '*' \
	--steps "${STEPS:-50}" --repeat "${REPEAT:-20}" \
	--wasm-execution compiled \
	--heap-pages 4096 \
	--header scripts/weight-header.txt \
	"${template[@]}" \
	--output "$output"

step "wrote $output"
