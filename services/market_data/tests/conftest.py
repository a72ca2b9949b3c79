"""Fixtures of market_data's unit tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def sample_data() -> Path:
    """The real recordings folder from XRAY_SAMPLE_DATA, or skip the test with the reason."""
    value = os.environ.get("XRAY_SAMPLE_DATA")
    if not value:
        pytest.skip("XRAY_SAMPLE_DATA is not set: the real Binance recordings are not available")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"XRAY_SAMPLE_DATA={value} is not a directory")
    return path
