"""The open window's events folded into each symbol's history as they arrive: no raw event is kept.

`SymbolHistory.update(a, E).update(b, E) == update(a + b, E)` (tested in the composer), so folding a
window's events in arrival order, a chunk at a time, under the window's boundary E gives exactly the
history the boundary run would get by folding the whole cut at once. Chunks bound the per-update cost
(one copy of the bar tuple per chunk, not per event) while keeping at most `chunk` events per symbol.

`update` is all-or-nothing: when it raises, the cut's history stays as it was. A fold that raises is
therefore remembered as the symbol's result for the window, and its later events are dropped, which is
what folding the whole cut at once would have given (the boundary run reports the error).
"""

from __future__ import annotations

from collections.abc import Mapping

from composer.config import ComposerConfig
from composer.history import SymbolHistory
from xray_contracts.raw_market_event import RawMarketEvent

FOLD_CHUNK = 64

Folded = SymbolHistory | Exception


class WindowFold:
    """Per symbol: the open window's history so far (or the error its fold raised) plus a short chunk."""

    def __init__(self, config: ComposerConfig, chunk: int = FOLD_CHUNK) -> None:
        if chunk < 1:
            raise ValueError("chunk must be >= 1")
        self._config = config
        self._chunk = chunk
        self._pending: dict[str, list[RawMarketEvent]] = {}
        self._folded: dict[str, Folded] = {}

    def add(self, event: RawMarketEvent, boundary_ms: int, histories: Mapping[str, SymbolHistory]) -> None:
        """Queue one event of the window closing at `boundary_ms`; `histories` are as of the last close."""
        symbol = event.symbol
        if isinstance(self._folded.get(symbol), Exception):
            return
        pending = self._pending.get(symbol)
        if pending is None:
            pending = self._pending[symbol] = []
        pending.append(event)
        if len(pending) >= self._chunk:
            self._fold(symbol, boundary_ms, histories)

    def take(self, boundary_ms: int, histories: Mapping[str, SymbolHistory]) -> dict[str, Folded]:
        """Fold what is queued and hand over the window's results; the next window starts empty."""
        for symbol in list(self._pending):
            self._fold(symbol, boundary_ms, histories)
        out, self._folded = self._folded, {}
        return out

    def _fold(self, symbol: str, boundary_ms: int, histories: Mapping[str, SymbolHistory]) -> None:
        events = self._pending.pop(symbol, None)
        current = self._folded.get(symbol)
        if not events or isinstance(current, Exception):
            return
        if current is None:
            current = histories.get(symbol) or SymbolHistory.empty(symbol, self._config)
        try:
            self._folded[symbol] = current.update(events, boundary_ms)
        except Exception as error:  # reported by the boundary run, like a failing whole-cut update
            self._folded[symbol] = error
