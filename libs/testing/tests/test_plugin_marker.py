"""Tests that use a broker fixture are marked `kafka`, so `-m "not kafka"` deselects exactly them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

INNER = """
def test_uses_broker(kafka_bootstrap):
    pass

def test_uses_admin(kafka_admin):
    pass

def test_pure(kafka_namespace):
    assert kafka_namespace.startswith("t-pure-")
"""


def _collect(folder: Path, *args: str) -> str:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "xray_testing.pytest_plugin",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(folder),
        *args,
        str(folder),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=folder, check=False).stdout


def test_broker_fixtures_get_the_kafka_marker(tmp_path: Path) -> None:
    (tmp_path / "test_inner.py").write_text(INNER)
    marked = _collect(tmp_path, "-m", "kafka")
    assert "test_uses_broker" in marked
    assert "test_uses_admin" in marked
    assert "test_pure" not in marked
    assert "2/3 tests collected (1 deselected)" in marked
