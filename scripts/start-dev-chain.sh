#!/usr/bin/env bash
# Builds the node (dev profile) and starts a single-validator development chain:
# Alice authors blocks with BABE and finalises them with GRANDPA; state is thrown away on exit.
# JSON-RPC and WebSocket on ws://127.0.0.1:9944 (set RPC_PORT to change it). Ctrl-C stops it.
# Extra arguments go to the node, e.g. `scripts/start-dev-chain.sh --base-path /tmp/vt` to keep
# state between runs (then without --tmp).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

prepare_node

rpc_port="${RPC_PORT:-9944}"
step "starting the dev chain: RPC on ws://127.0.0.1:$rpc_port (Ctrl-C to stop)"
storage=(--tmp)
for arg in "$@"; do
	case "$arg" in --base-path | --base-path=* | -d) storage=() ;; esac
done
exec "$NODE_BIN" --dev "${storage[@]}" --rpc-port "$rpc_port" "$@"
