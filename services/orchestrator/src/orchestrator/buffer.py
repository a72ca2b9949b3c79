"""An append-only, bounded buffer of raw events stamped with a strictly increasing `ingest_seq`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from xray_contracts.raw_market_event import RawMarketEvent

from orchestrator.errors import BufferFullError


@dataclass(frozen=True, slots=True)
class RawInputBufferRecord:
    """One buffered raw event and its position."""

    ingest_seq: int
    ingest_ts_ms: int
    event: RawMarketEvent


class RawInputBuffer:
    """Append-only buffer. A full buffer raises `BufferFullError`; nothing is ever dropped silently.

    In the service the input topic partition is the buffer (offset == ingest_seq); this class keeps the
    in-memory form of the fact sheet for library users and tests.
    """

    def __init__(self, max_records: int, clock_ms: Callable[[], int] | None = None) -> None:
        if max_records <= 0:
            raise ValueError("max_records must be > 0")
        self._max_records = max_records
        self._records: list[RawInputBufferRecord] = []
        self._clock_ms = clock_ms

    def append(self, event: RawMarketEvent, ingest_ts_ms: int | None = None) -> RawInputBufferRecord:
        """Append one event; its seq is the previous seq + 1 (starting at 1)."""
        if len(self._records) >= self._max_records:
            raise BufferFullError(f"buffer full ({self._max_records} records)")
        if ingest_ts_ms is None:
            ingest_ts_ms = self._clock_ms() if self._clock_ms is not None else event.recv_ts_ms
        record = RawInputBufferRecord(len(self._records) + 1, ingest_ts_ms, event)
        self._records.append(record)
        return record

    def last_ingest_seq(self) -> int | None:
        """Highest seq, or None when empty."""
        return self._records[-1].ingest_seq if self._records else None

    def range_by_seq(self, start: int, end: int) -> tuple[RawInputBufferRecord, ...]:
        """Records with start <= seq <= end, in seq order."""
        if start > end:
            raise ValueError(f"start {start} > end {end}")
        lo = max(start, 1) - 1
        return tuple(self._records[lo : max(end, 0)])

    def range_by_symbol(self, symbol: str, start: int, end: int) -> tuple[RawInputBufferRecord, ...]:
        """`range_by_seq` filtered to one symbol."""
        return tuple(r for r in self.range_by_seq(start, end) if r.event.symbol == symbol)

    def all_records(self) -> tuple[RawInputBufferRecord, ...]:
        """An immutable snapshot of every record."""
        return tuple(self._records)

    def __len__(self) -> int:
        return len(self._records)
