#!/usr/bin/env bash
# Installs the ONNX Runtime shared library the executor's second engine loads at run time,
# taken from the PyPI wheel (nothing is compiled). Safe to run again. Prints the library's path.
#
#   scripts/setup-onnxruntime.sh            # installs into ~/.cache/veritensor-onnxruntime/<version>
#   VERITENSOR_ORT_DIR=/opt/ort scripts/setup-onnxruntime.sh
#
# The wheel is pinned by version and platform and the library by its SHA-256, so every machine
# runs the same build of ONNX Runtime.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ORT_VERSION=1.31.1
ORT_LIB_SHA256=fc44112fbe06d7d689c57e11d3862031f64711007e4ee020f8eed5185fd2c1d3
dest="${VERITENSOR_ORT_DIR:-$HOME/.cache/veritensor-onnxruntime/$ORT_VERSION}"
lib="$dest/libonnxruntime.so.$ORT_VERSION"

verify() { [ -f "$1" ] && echo "$ORT_LIB_SHA256  $1" | sha256sum --check --status; }

if verify "$lib"; then
	step "ONNX Runtime $ORT_VERSION: present" >&2
	echo "$lib"
	exit 0
fi

command -v python3 >/dev/null || fail "python3 is missing: run scripts/setup.sh"
python3 -m pip --version >/dev/null 2>&1 || fail "pip for python3 is missing: run scripts/setup.sh"

step "downloading the onnxruntime $ORT_VERSION wheel from PyPI" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download "onnxruntime==$ORT_VERSION" --no-deps --only-binary=:all: \
	--python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_28_x86_64 \
	--quiet -d "$work" >&2 || fail "pip download onnxruntime==$ORT_VERSION failed"

mkdir -p "$dest"
python3 - "$work" "$lib.partial" "$ORT_VERSION" <<'PY' || fail "extracting the library failed"
import glob, sys, zipfile
work, target, version = sys.argv[1:]
wheel = glob.glob(f"{work}/onnxruntime-{version}-*.whl")[0]
with zipfile.ZipFile(wheel) as archive, open(target, "wb") as out:
    out.write(archive.read(f"onnxruntime/capi/libonnxruntime.so.{version}"))
PY
verify "$lib.partial" || { rm -f "$lib.partial"; fail "the library's SHA-256 is not the pinned one"; }
mv "$lib.partial" "$lib"
step "ONNX Runtime $ORT_VERSION installed" >&2
echo "$lib"
