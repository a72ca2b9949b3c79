"""Fixtures of the analysis_engine integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from consumers.analysis_engine.harness import AnalysisHarness


@pytest.fixture
def analysis_harness(kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path) -> Iterator[AnalysisHarness]:
    """The service's topics in a fresh namespace on the session broker; kills leftovers at the end."""
    harness = AnalysisHarness(kafka_bootstrap, kafka_namespace, tmp_path)
    try:
        yield harness
    finally:
        harness.cleanup()
