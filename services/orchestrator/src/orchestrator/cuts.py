"""Cut selection: contiguous, non-overlapping `ingest_seq` ranges per symbol (fact sheet §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from orchestrator.buffer import RawInputBuffer
from orchestrator.errors import CutSelectionError

CutKind = Literal["timer", "boundary"]


@dataclass(frozen=True, slots=True)
class Cut:
    """An inclusive seq range of one symbol's events handed to one engine run."""

    symbol: str
    cut_start_ingest_seq: int
    cut_end_ingest_seq: int
    cut_kind: CutKind


class CutSelector:
    """Remembers the last cut end per symbol; a failed selection leaves that state unchanged."""

    def __init__(self, last_end: dict[str, int] | None = None) -> None:
        self._last_end: dict[str, int] = dict(last_end or {})

    def next_cut(
        self, *, buffer: RawInputBuffer, symbol: str, cut_end_ingest_seq: int, cut_kind: CutKind
    ) -> Cut:
        """Select the next cut of `symbol` ending at `cut_end_ingest_seq`."""
        if cut_end_ingest_seq <= 0:
            raise CutSelectionError(f"cut_end_ingest_seq must be > 0, got {cut_end_ingest_seq}")
        previous = self._last_end.get(symbol)
        if previous is not None:
            start = previous + 1
        else:
            own = buffer.range_by_symbol(symbol, 1, cut_end_ingest_seq)
            if not own:
                raise CutSelectionError(f"no record of {symbol} at or below seq {cut_end_ingest_seq}")
            start = own[0].ingest_seq
        if start > cut_end_ingest_seq:
            raise CutSelectionError(f"nothing new for {symbol}: start {start} > end {cut_end_ingest_seq}")
        self._last_end[symbol] = cut_end_ingest_seq
        return Cut(symbol, start, cut_end_ingest_seq, cut_kind)

    def last_end(self, symbol: str) -> int | None:
        """The last selected cut end of `symbol`, if any."""
        return self._last_end.get(symbol)
