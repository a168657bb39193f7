"""The README's quick start, run as written (only the node's address changed)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from veritensor import samples

REPO = Path(__file__).resolve().parents[3]


def test_the_readme_quick_start_prints_a_verified_prediction_in_five_lines(node_url):
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has a Python quick start"
    code = blocks[0]
    assert len(code.strip().splitlines()) == 5
    done = subprocess.run(
        [sys.executable, "-c", code.replace("ws://127.0.0.1:9944", node_url)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"prediction: {samples.label(0)} verified: True"
