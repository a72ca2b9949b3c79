"""Per-symbol monotonicity of published engine timestamps."""

from __future__ import annotations

from orchestrator.errors import SequencingError


class SymbolSequencer:
    """Accepts equal or later engine timestamps per symbol; rejects earlier ones."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}

    def check(self, symbol: str, engine_timestamp_ms: int) -> None:
        """Raise `SequencingError` if `engine_timestamp_ms` is below the symbol's last one; else record it."""
        last = self._last.get(symbol)
        if last is not None and engine_timestamp_ms < last:
            raise SequencingError(f"{symbol}: engine_timestamp_ms {engine_timestamp_ms} < last {last}")
        self._last[symbol] = engine_timestamp_ms

    def last(self, symbol: str) -> int | None:
        """The last accepted engine timestamp of `symbol`."""
        return self._last.get(symbol)
