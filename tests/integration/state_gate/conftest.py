"""Fixtures of the state_gate integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from consumers.state_gate.harness import GateHarness


@pytest.fixture
def gate_harness(kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path) -> Iterator[GateHarness]:
    """A harness on the session broker in a fresh namespace."""
    harness = GateHarness(kafka_bootstrap, kafka_namespace, tmp_path)
    try:
        yield harness
    finally:
        harness.cleanup()
