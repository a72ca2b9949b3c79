"""Turn raw events (simulated or recorded) into per-window engine snapshots, with labels when known."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from composer.composer import compose_engine_input
from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.context import build_market_context
from composer.history import SymbolHistory
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from xray_contracts.raw_market_event import RawMarketEvent

WINDOW_MS = 180_000
# Events received up to this long after a boundary still belong to that boundary's cut.
DEFAULT_GRACE_MS = 2_000


@dataclass(frozen=True, slots=True)
class Step:
    """One symbol-run: the engine snapshot at `timestamp` and its true regime (None if unlabelled)."""

    symbol: str
    timestamp: int
    snapshot: RegimeInputSnapshot
    label: str | None


def cuts(
    events: Iterable[RawMarketEvent], grace_ms: int = DEFAULT_GRACE_MS
) -> Iterator[tuple[int, list[RawMarketEvent]]]:
    """(boundary, events) in receive order: a boundary's cut holds events received before boundary + grace."""
    current: int | None = None
    batch: list[RawMarketEvent] = []
    for ev in events:
        boundary = (ev.recv_ts_ms - grace_ms) // WINDOW_MS * WINDOW_MS + WINDOW_MS
        if current is None:
            current = boundary
        while boundary > current:
            yield current, batch
            batch = []
            current += WINDOW_MS
        batch.append(ev)
    if current is not None and batch:
        yield current, batch


def steps_from_events(
    events: Iterable[RawMarketEvent],
    symbols: tuple[str, ...],
    labels: Mapping[tuple[str, int], str] | None = None,
    config: ComposerConfig = DEFAULT_CONFIG,
    grace_ms: int = DEFAULT_GRACE_MS,
) -> Iterator[list[Step]]:
    """Per boundary, one Step per symbol (symbol order), built with the composer's history path."""
    histories = {s: SymbolHistory.empty(s, config) for s in symbols}
    for boundary, cut in cuts(events, grace_ms):
        per_symbol: dict[str, list[RawMarketEvent]] = {s: [] for s in symbols}
        for ev in cut:
            bucket = per_symbol.get(ev.symbol)
            if bucket is not None:
                bucket.append(ev)
        for s in symbols:
            histories[s] = histories[s].update(per_symbol[s], boundary)
        context = build_market_context(histories.values(), boundary, config=config)
        out: list[Step] = []
        for s in symbols:
            composed = compose_engine_input(
                histories[s], engine_timestamp_ms=boundary, context=context, config=config
            )
            label = None if labels is None else labels.get((s, boundary))
            out.append(Step(s, boundary, composed.snapshot, label))
        yield out
