"""The `veritensor` command against the development chain (see conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
VECTORS = json.loads((REPO / "executor" / "demo-models" / "test_vectors.json").read_text())


def veritensor(node_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "veritensor.cli", "--url", node_url, "--suri", "//Charlie", *args],
        capture_output=True, text=True, timeout=300,
    )


def test_models_lists_both_demo_models(node_url):
    done = veritensor(node_url, "models")
    assert done.returncode == 0, done.stderr
    assert "mlp_digits_f32" in done.stdout and "mlp_digits_int" in done.stdout
    listed = json.loads(veritensor(node_url, "--json", "models").stdout)
    assert {model["name"] for model in listed} >= {"mlp_digits_f32", "mlp_digits_int"}


def test_infer_on_an_npy_digit_prints_its_label(node_url, tmp_path):
    image = 3
    path = tmp_path / "digit.npy"
    np.save(path, np.array(VECTORS["pixels"][image], dtype=np.uint8).reshape(1, 64))
    done = veritensor(node_url, "infer", "mlp_digits_int", "--input", str(path))
    assert done.returncode == 0, done.stderr
    assert f"label {VECTORS['mlp_digits_int']['labels'][image]}" in done.stdout
    assert "verified: True" in done.stdout
    assert "settled" in done.stderr  # the progress lines


def test_infer_on_a_png_prints_its_label(node_url, tmp_path):
    from PIL import Image

    image = 5
    pixels = np.array(VECTORS["pixels"][image], dtype=np.float64).reshape(8, 8)
    # Dark ink on white paper, four times the size: the command inverts and averages it back.
    gray = np.rint(255 - pixels * 255 / 16).astype(np.uint8)
    path = tmp_path / "digit.png"
    Image.fromarray(np.kron(gray, np.ones((4, 4), dtype=np.uint8)), mode="L").save(path)
    done = veritensor(node_url, "--json", "infer", "mlp_digits_f32", "--input", str(path))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outputs"]["label"] == [VECTORS["mlp_digits_f32"]["labels"][image]]
    assert result["verified"] is True


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["infer", "no_such_model", "--input", "x.npy"], 2, "no model"),
        (["infer", "mlp_digits_int", "--input", "missing.npy"], 2, "no input file"),
        (["quote", "mlp_digits_int", "--k", "2"], 2, "takes no jobs"),
    ],
)
def test_bad_usage_exits_with_code_two(node_url, args, code, message):
    done = veritensor(node_url, *args)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert message in done.stderr


def test_no_node_exits_with_code_five():
    done = veritensor("ws://127.0.0.1:9", "models")
    assert done.returncode == 5, (done.stdout, done.stderr)
