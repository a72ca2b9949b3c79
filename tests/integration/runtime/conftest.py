"""Fixtures of the runtime's integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from xray_runtime.examples.counter_harness import CounterHarness


@pytest.fixture
def counter_harness(kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path) -> Iterator[CounterHarness]:
    """A harness with the counter's topics created in a fresh namespace; kills leftovers at the end."""
    harness = CounterHarness(kafka_bootstrap, kafka_namespace, tmp_path)
    try:
        yield harness
    finally:
        harness.cleanup()
