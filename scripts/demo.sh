#!/usr/bin/env bash
# The demo: a development node with its embedded executor and off-chain workers runs real digit
# images through both demo models. Both are listed at genesis, with the node's worker key
# registered under Eve; an operator (Dave) registers a second key of the node, a user submits the
# images as jobs, and the script follows them to settlement, printing each prediction against its
# label, the fees and the latency.
#   scripts/demo.sh [--images N]     (N from 1 to 64; 60 by default)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

prepare_node

step "installing the JavaScript client (@polkadot/api)"
install_js_client

step "running the demo"
exec node scripts/client/demo.mjs "$NODE_BIN" "$@"
