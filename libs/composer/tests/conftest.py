"""Shared simulator run for the end-to-end composer tests (computed once per session)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from composer.composer import ComposedInput, compose_engine_input
from composer.context import build_market_context
from composer.history import SymbolHistory
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator import SimulatorConfig, all_labels, default_symbols, iter_cuts, iter_events


@dataclass(frozen=True)
class SimRun:
    """Every symbol-run of a 6 h, 5-symbol simulation fed as 180 s cuts."""

    config: SimulatorConfig
    events: tuple[RawMarketEvent, ...]
    runs: tuple[tuple[str, int, str, ComposedInput], ...]  # (symbol, engine ts, true regime, output)
    histories: dict[str, SymbolHistory]
    last_ts: int


@pytest.fixture(scope="session")
def sim_run() -> SimRun:
    # Lighter than the defaults (fewer trades, sparser mark/book frames) to keep the suite quick;
    # short regime segments (4-8 windows) so 6 h hold every regime several times per symbol.
    config = SimulatorConfig(
        seed=11,
        symbols=default_symbols(5),
        windows=120,
        activity=0.3,
        mark_interval_s=5,
        book_interval_s=60,
        min_segment_windows=4,
        max_segment_windows=8,
    )
    labels = {(lb.symbol, lb.window_end_ms): lb.regime for lb in all_labels(config)}
    events = tuple(iter_events(config))
    histories = {s: SymbolHistory.empty(s) for s in config.symbols}
    runs: list[tuple[str, int, str, ComposedInput]] = []
    last_ts = 0
    for engine_ts, cut in iter_cuts(events, config.symbols):
        for s in config.symbols:
            histories[s] = histories[s].update(cut[s], engine_ts)
        context = build_market_context(histories.values(), engine_ts)
        for s in config.symbols:
            label = labels.get((s, engine_ts))
            if label is not None:
                out = compose_engine_input(histories[s], engine_timestamp_ms=engine_ts, context=context)
                runs.append((s, engine_ts, label, out))
        last_ts = engine_ts
    return SimRun(config, events, tuple(runs), histories, last_ts)
