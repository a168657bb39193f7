#!/usr/bin/env bash
# Load benchmark: one development node takes a flood of digit jobs (W worker keys under W
# operators, J jobs from A accounts) and then a flood of balance transfers, and prints per block
# what it took, the weight used and its authoring time, then settled jobs per block, latency and
# transfers per block. See docs/performance.md.
#   scripts/bench-load.sh [--workers 16] [--jobs 2000] [--accounts 20] [--transfers 3000] [--deadline 30] [--executor-max-tasks N]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
track_test_processes

prepare_node

step "installing the JavaScript client (@polkadot/api)"
install_js_client

step "running the load benchmark"
node scripts/client/bench-load.mjs "$NODE_BIN" "$@"
