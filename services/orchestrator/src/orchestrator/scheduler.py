"""Tick generation for timer and boundary cadence (fact sheet §4); the clock is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orchestrator.cuts import CutKind

SchedulerMode = Literal["timer", "boundary"]


@dataclass(frozen=True, slots=True)
class Tick:
    """One planned run time and the engine timestamp it implies."""

    planned_ts_ms: int
    engine_timestamp_ms: int
    cut_kind: CutKind


class Scheduler:
    """Returns successive ticks; never skips one (overdue ticks come back to back)."""

    def __init__(
        self, *, mode: SchedulerMode = "boundary", interval_ms: int = 180_000, delay_ms: int = 0
    ) -> None:
        if interval_ms <= 0:
            raise ValueError("interval_ms must be > 0")
        if delay_ms < 0:
            raise ValueError("delay_ms must be >= 0")
        self.mode: SchedulerMode = mode
        self.interval_ms = interval_ms
        self.delay_ms = delay_ms if mode == "boundary" else 0
        self._last_tick_ms: int | None = None

    def next_tick(self, now_ms: int) -> Tick:
        """The next tick: first one from `now_ms`, later ones one interval apart."""
        if self._last_tick_ms is None:
            if self.mode == "timer":
                planned = now_ms
            else:
                base = max(0, now_ms - self.delay_ms)
                planned = (base // self.interval_ms + 1) * self.interval_ms + self.delay_ms
        else:
            planned = self._last_tick_ms + self.interval_ms
        self._last_tick_ms = planned
        if self.mode == "timer":
            return Tick(planned, planned, "timer")
        return Tick(planned, planned - self.delay_ms, "boundary")
