"""Event-time cut planning for one input partition (ARCHITECTURE §7).

A partition's cut for boundary P closes when a record with `recv_ts_ms >= P` is seen on that partition
(or, live, when the caller decides the wall clock has passed P plus a grace delay at the log end). The
plan is then a pure function of the partition's log and the config: replays, restarts and rebalances
produce the same runs with the same `run_id`s.

Rules:
- The open window of a partition ends at boundary `open_boundary_ms`. The first record of a partition
  opens the window ending at the first boundary strictly after its `recv_ts_ms`.
- A record with `recv_ts_ms >= open_boundary_ms` closes every boundary P with
  open_boundary_ms <= P <= recv_ts_ms, oldest first. The first closed boundary gets the pending events;
  later ones (a gap in the data) get empty slices. The closing record then joins the new open window.
- A late record (`recv_ts_ms` below the open window's start) joins the open window: cuts are defined
  by log position, never re-opened.
- Every symbol known on the partition runs at every closed boundary, in lexicographic order, even with
  an empty slice. A symbol becomes known with its first record.
- `cut_end_ingest_seq` is the offset of the last record before the closing record (partition-wide, like
  the original's global seq); `cut_start_ingest_seq` is the symbol's previous cut end + 1, or its first
  offset. An empty slice therefore has start > end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from xray_contracts.raw_market_event import RawMarketEvent


class PlannedEvent(Protocol):
    """What planning reads of a record (a decoded RawMarketEvent, or the service's counted-only form)."""

    @property
    def event_type(self) -> str: ...

    @property
    def symbol(self) -> str: ...

    @property
    def recv_ts_ms(self) -> int: ...


@dataclass(frozen=True, slots=True)
class PlannedCut:
    """One symbol's slice for one closed boundary."""

    symbol: str
    engine_timestamp_ms: int
    cut_start_ingest_seq: int
    cut_end_ingest_seq: int
    events: tuple[RawMarketEvent, ...]
    # Every event of the slice counted by type, including those `keep` left out of `events`.
    counts_by_event_type: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class PartitionCursor:
    """What a partition's planner must remember across restarts (the rest is re-read from the log)."""

    open_boundary_ms: int | None
    last_offset: int | None
    last_cut_end: tuple[tuple[str, int], ...]
    known_symbols: tuple[str, ...]


@dataclass(slots=True)
class _Pending:
    events: list[RawMarketEvent] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    first_offset: int | None = None


class PartitionCutPlanner:
    """Feeds a partition's records in offset order and returns the cuts they close.

    `keep(event)` says which events a cut must carry (default: all); the others, and records that are not
    a full `RawMarketEvent`, are only counted, so a busy feed's book and mark updates need not sit in
    memory for a whole window.
    """

    def __init__(
        self,
        interval_ms: int = 180_000,
        cursor: PartitionCursor | None = None,
        keep: Callable[[RawMarketEvent], bool] | None = None,
    ) -> None:
        if interval_ms <= 0:
            raise ValueError("interval_ms must be > 0")
        self.interval_ms = interval_ms
        self._keep = keep
        self._open_boundary: int | None = None
        self._last_offset: int | None = None
        self._last_cut_end: dict[str, int] = {}
        self._known: set[str] = set()
        self._pending: dict[str, _Pending] = {}
        self._window_start_offset: int | None = None
        self._cursor = PartitionCursor(None, None, (), ())
        if cursor is not None:
            self._open_boundary = cursor.open_boundary_ms
            self._last_offset = cursor.last_offset
            self._last_cut_end = dict(cursor.last_cut_end)
            self._known = set(cursor.known_symbols)
            self._cursor = cursor

    @property
    def open_boundary_ms(self) -> int | None:
        """The boundary that will close the open window, if a window is open."""
        return self._open_boundary

    @property
    def window_start_offset(self) -> int | None:
        """Offset of the first record of the open window: where a restart must resume reading."""
        return self._window_start_offset

    def cursor(self) -> PartitionCursor:
        """The restart state as of the last closed cut (pending records are re-read from the log)."""
        return self._cursor

    def commit_offset(self) -> int | None:
        """The input offset a consumer may commit: the open window's first record, else the next one."""
        if self._window_start_offset is not None:
            return self._window_start_offset
        return None if self._last_offset is None else self._last_offset + 1

    def is_redelivery(self, offset: int) -> bool:
        """True for a record already covered by a closed cut (re-delivered before the commit caught up):
        `add` ignores it."""
        return (
            self._last_offset is not None
            and offset <= self._last_offset
            and self._window_start_offset is None
        )

    def add(self, offset: int, event: PlannedEvent) -> list[PlannedCut]:
        """Add one record; return the cuts it closes (possibly none)."""
        if self.is_redelivery(offset):
            return []
        ts = event.recv_ts_ms
        if self._open_boundary is None:
            self._open_boundary = self._boundary_after(ts)
        closed: list[PlannedCut] = []
        if ts >= self._open_boundary:
            closed = self._close_through(self._boundary_at_or_before(ts), cut_end=self._prev_offset(offset))
        self._known.add(event.symbol)
        pending = self._pending.setdefault(event.symbol, _Pending())
        if pending.first_offset is None:
            pending.first_offset = offset
        counts = pending.counts
        counts[event.event_type] = counts.get(event.event_type, 0) + 1
        if isinstance(event, RawMarketEvent) and (self._keep is None or self._keep(event)):
            pending.events.append(event)
        if self._window_start_offset is None:
            self._window_start_offset = offset
        self._last_offset = offset
        return closed

    def close_through(self, boundary_ms: int) -> list[PlannedCut]:
        """Close every open boundary <= `boundary_ms` now (live grace close at the log end)."""
        if self._open_boundary is None or boundary_ms < self._open_boundary:
            return []
        end = self._last_offset if self._last_offset is not None else -1
        return self._close_through(boundary_ms, cut_end=end)

    def _close_through(self, last_boundary: int, *, cut_end: int) -> list[PlannedCut]:
        assert self._open_boundary is not None
        out: list[PlannedCut] = []
        boundary = self._open_boundary
        first = True
        while boundary <= last_boundary:
            for symbol in sorted(self._known | set(self._pending)):
                pending = self._pending.get(symbol) if first else None
                previous_end = self._last_cut_end.get(symbol)
                if previous_end is not None:
                    start = previous_end + 1
                elif pending is not None and pending.first_offset is not None:
                    start = pending.first_offset
                else:
                    start = cut_end + 1
                events = tuple(pending.events) if pending is not None else ()
                counts = tuple(sorted(pending.counts.items())) if pending is not None else ()
                out.append(PlannedCut(symbol, boundary, start, cut_end, events, counts))
                self._last_cut_end[symbol] = cut_end
            first = False
            boundary += self.interval_ms
        self._pending.clear()
        self._open_boundary = boundary
        self._window_start_offset = None
        self._cursor = PartitionCursor(
            open_boundary_ms=boundary,
            last_offset=cut_end,
            last_cut_end=tuple(sorted(self._last_cut_end.items())),
            known_symbols=tuple(sorted(self._known)),
        )
        return out

    def _prev_offset(self, offset: int) -> int:
        return self._last_offset if self._last_offset is not None else offset - 1

    def _boundary_after(self, ts: int) -> int:
        return (ts // self.interval_ms + 1) * self.interval_ms

    def _boundary_at_or_before(self, ts: int) -> int:
        return (ts // self.interval_ms) * self.interval_ms


def plan_partition(
    records: Iterable[tuple[int, RawMarketEvent]], interval_ms: int = 180_000
) -> list[PlannedCut]:
    """Plan every cut a partition's log closes (a reference for tests and offline replays)."""
    planner = PartitionCutPlanner(interval_ms)
    cuts: list[PlannedCut] = []
    for offset, event in records:
        cuts.extend(planner.add(offset, event))
    return cuts
