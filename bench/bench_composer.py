"""Composer cost per symbol-run with a full 3.5 h history (target: >= 2,000 symbol-runs/s per core).

Builds 3.5 h of simulated history (default simulator: 5 symbols, default cadences and activity),
then times on one core with CPU time (best of 5 rounds; the machine is shared):
  compose       compose_engine_input on an up-to-date history (features + v2 evidence + snapshot)
  fold          history.update(cut, E) of the last simulated 180 s cut (the orchestrator's per-cut fold)
  fold real     the same on a real 180 s cut: BTCUSDT 2024-08-08 (hftbacktest, ~270 frames/s), when
                XRAY_SAMPLE_DATA points at the recordings
Each is printed with its ratio to a ceiling timed in the same run:
  compose ceiling: one pass reading every field of every bar of the history (any compose has to
                   look at its inputs at least once);
  fold ceiling:    one pass reading what the fold needs from each event of the cut (event_type,
                   symbol, exchange_ts_ms, normalized values of the four folded types).
Run: .venv/bin/python bench/bench_composer.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from composer.ceilings import read_bars, read_fold_inputs
from composer.composer import compose_engine_input
from composer.context import build_market_context
from composer.history import SymbolHistory
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator import SimulatorConfig, default_symbols, iter_cuts, iter_events

TARGET_RUNS_PER_S = 2_000
HISTORY_WINDOWS = 71  # 70 bars of lookback + the cut being timed
REAL_FILE = "binance_usdm_hftbacktest/2024-08-08_btc_eth/btcusdt_20240808.gz"
W = 180_000


def _best_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    """CPU seconds of the fastest of `repeats` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _line(name: str, runs: int, seconds: float, ceiling_seconds: float, extra: str = "") -> None:
    rate = runs / seconds
    print(
        f"{name}: {seconds / runs * 1e6:,.1f} us per symbol-run = {rate:,.0f}/s; "
        f"ceiling {runs / ceiling_seconds:,.0f}/s; ratio to ceiling {ceiling_seconds / seconds:.2f}{extra}"
    )


def _real_cut() -> tuple[list[RawMarketEvent], int] | None:
    """The first complete 180 s receive-time cut of the densest real recording, or None."""
    root = os.environ.get("XRAY_SAMPLE_DATA")
    path = Path(root) / REAL_FILE if root else None
    if path is None or not path.exists():
        return None
    from xray_evaluation.recording import recording_events

    events = [e for e in recording_events([path]) if e.symbol == "BTCUSDT"]
    first = events[0].recv_ts_ms - events[0].recv_ts_ms % W + W
    cut = [e for e in events if first <= e.recv_ts_ms < first + W]
    return cut, first + W


def main() -> None:
    """Build histories, then time compose, fold and the ceilings."""
    config = SimulatorConfig(seed=21, symbols=default_symbols(5), windows=HISTORY_WINDOWS)
    symbols = config.symbols
    histories = {s: SymbolHistory.empty(s) for s in symbols}
    cuts = [c for c in iter_cuts(iter_events(config), symbols) if c[0] <= config.end_ms]
    *warm, (last_ts, last_cut) = cuts
    for engine_ts, cut in warm:
        for s in symbols:
            histories[s] = histories[s].update(cut[s], engine_ts)
    previous = dict(histories)
    for s in symbols:
        histories[s] = histories[s].update(last_cut[s], last_ts)
    context = build_market_context(histories.values(), last_ts)
    bars = min(len(h.bars) for h in histories.values())
    events = sum(len(last_cut[s]) for s in symbols)
    reps = 40
    runs = reps * len(symbols)

    def compose_all() -> None:
        for _ in range(reps):
            for s in symbols:
                compose_engine_input(histories[s], engine_timestamp_ms=last_ts, context=context)

    def read_all_bars() -> None:
        for _ in range(reps):
            for s in symbols:
                read_bars(histories[s].bars)

    def fold_all() -> None:
        for _ in range(reps):
            for s in symbols:
                previous[s].update(last_cut[s], last_ts)

    def read_all_events() -> None:
        for _ in range(reps):
            for s in symbols:
                read_fold_inputs(last_cut[s])

    print(
        f"history: {bars} bars per symbol (3.5 h of 180 s bars), {len(symbols)} symbols; "
        f"simulated cut: {events / len(symbols):,.0f} raw events per symbol per 180 s (default cadences)"
    )
    compose_s = _best_seconds(compose_all)
    _line(
        "compose_engine_input",
        runs,
        compose_s,
        _best_seconds(read_all_bars),
        f"; {runs / compose_s / TARGET_RUNS_PER_S:.2f}x the {TARGET_RUNS_PER_S:,}/s target",
    )
    fold_s = _best_seconds(fold_all)
    _line(
        "fold (update with the simulated cut)",
        runs,
        fold_s,
        _best_seconds(read_all_events),
        f"; {fold_s / (reps * events) * 1e9:,.0f} ns per raw event",
    )
    print(f"update(cut) + compose_engine_input: {runs / (fold_s + compose_s):,.0f} symbol-runs/s")

    real = _real_cut()
    if real is None:
        print("fold real: XRAY_SAMPLE_DATA not set or recording missing, skipped")
        return
    real_cut, engine_ts = real
    empty = SymbolHistory.empty("BTCUSDT")
    folded = empty.update(real_cut, engine_ts)
    real_reps = 3
    real_fold_s = _best_seconds(lambda: [empty.update(real_cut, engine_ts) for _ in range(real_reps)])
    real_ceiling_s = _best_seconds(lambda: [read_fold_inputs(real_cut) for _ in range(real_reps)])
    trades = sum(e.event_type == "TradeTick" for e in real_cut)
    _line(
        f"fold real (BTCUSDT 2024-08-08, {len(real_cut):,} events in 180 s, {trades:,} trades)",
        real_reps,
        real_fold_s,
        real_ceiling_s,
        f"; {real_fold_s / (real_reps * len(real_cut)) * 1e9:,.0f} ns per raw event",
    )
    real_compose_s = _best_seconds(
        lambda: [compose_engine_input(folded, engine_timestamp_ms=engine_ts) for _ in range(real_reps)]
    )
    rate = real_reps / (real_fold_s + real_compose_s)
    print(f"update(real cut) + compose_engine_input: {rate:,.0f} symbol-runs/s")


if __name__ == "__main__":
    main()
