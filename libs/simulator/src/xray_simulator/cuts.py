"""Group simulated events into orchestrator-style cuts: per symbol, recv_ts_ms in [E - 180 s, E)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from xray_contracts.raw_market_event import RawMarketEvent

from xray_simulator.config import WINDOW_MS


def iter_cuts(
    events: Iterable[RawMarketEvent], symbols: Iterable[str], window_ms: int = WINDOW_MS
) -> Iterator[tuple[int, dict[str, list[RawMarketEvent]]]]:
    """Yield (engine_ts, {symbol: events received in [engine_ts - window, engine_ts)}) in time order.

    Events must arrive in receive order (as iter_events gives them); every symbol gets a list,
    possibly empty. The last partial window is yielded too.
    """
    names = tuple(symbols)
    boundary: int | None = None
    batch: dict[str, list[RawMarketEvent]] = {s: [] for s in names}
    for ev in events:
        if boundary is None:
            boundary = ev.recv_ts_ms - ev.recv_ts_ms % window_ms + window_ms
        while ev.recv_ts_ms >= boundary:
            yield boundary, batch
            batch = {s: [] for s in names}
            boundary += window_ms
        bucket = batch.get(ev.symbol)
        if bucket is not None:
            bucket.append(ev)
    if boundary is not None:
        yield boundary, batch
