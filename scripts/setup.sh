#!/usr/bin/env bash
# Prepares a fresh Debian (or Ubuntu) machine to build and test Veritensor. Safe to run again:
# it installs only what is missing.
#
#   - Debian packages: protobuf-compiler, clang, libclang-dev (the node's networking and
#     bindings), nodejs and npm (only for the JavaScript client check in the tests), python3
#     and python3-pip (to fetch the ONNX Runtime wheel; see setup-onnxruntime.sh), python3-venv
#     (the Python SDK's tests install it into a virtual environment);
#   - Rust: the wasm32v1-none target and the rust-src component (the runtime's wasm build), and
#     the clippy and rustfmt components (the test command's lint and format checks).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v clang >/dev/null || missing+=(clang)
dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v python3 >/dev/null || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)

if ((${#missing[@]})); then
	step "installing Debian packages: ${missing[*]}"
	command -v apt-get >/dev/null || fail "apt-get not found: install ${missing[*]} by hand"
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || fail "run as root or install sudo to add ${missing[*]}"
		sudo=sudo
	fi
	$sudo apt-get update -qq || fail "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null ||
		fail "apt-get install ${missing[*]} failed"
else
	step "Debian packages: all present"
fi

command -v rustup >/dev/null ||
	fail "rustup not found: install Rust from https://rustup.rs, then run this script again"

if rustup target list --installed | grep -qx wasm32v1-none; then
	step "Rust target wasm32v1-none: present"
else
	step "adding the Rust target wasm32v1-none"
	rustup target add wasm32v1-none || fail "rustup target add wasm32v1-none failed"
fi

if rustup component list --installed | grep -q '^rust-src'; then
	step "Rust component rust-src: present"
else
	step "adding the Rust component rust-src"
	rustup component add rust-src || fail "rustup component add rust-src failed"
fi

for component in clippy rustfmt; do
	if rustup component list --installed | grep -q "^$component"; then
		step "Rust component $component: present"
	else
		step "adding the Rust component $component"
		rustup component add "$component" || fail "rustup component add $component failed"
	fi
done

step "set-up complete (cargo target dir: $CARGO_TARGET_DIR)"
