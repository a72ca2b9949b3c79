"""Wall-clock helpers: the only place market_data reads the time of day."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], int]


def wall_clock_ms() -> int:
    """Milliseconds since the Unix epoch, floored."""
    return time.time_ns() // 1_000_000
