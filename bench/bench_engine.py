"""Symbol-runs per second per core: composer + engine together (target >= 1,000), and the parts.

What one symbol-run costs the orchestrator, per symbol per 180 s cut:
    history.update(cut, E)                       fold the cut's raw events into the bar history
    build_market_context(histories, E)           once per tick, shared by the tick's symbols
    compose_engine_input(history, E, context)    features + v2 evidence + RegimeInputSnapshot
    run_with_hysteresis(snapshot, store, config) engine output + hysteresis state

The simulator (default cadences and activity) streams its events cut by cut, as the orchestrator
receives them; generation is not timed. After `--warmup` cuts (so the histories hold 3.5 h), every
further cut is timed on one core with CPU time (time.process_time: the machine is shared).

Ceiling (same run, same cuts): a bare loop over each cut's events that reads what the fold needs
(event_type, symbol, exchange_ts_ms and the normalized fields of the four event types it folds)
and does nothing else. No implementation of a symbol-run can be faster than reading its events,
so `composer + engine` / ceiling says how close to the floor the whole per-symbol path is. Half
of the cuts read the ceiling first and half fold first, so cache warmth favours neither.
Never asserts a timing.
Run: .venv/bin/python bench/bench_engine.py [--windows 30] [--warmup 71] [--symbols 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

from composer.composer import compose_engine_input
from composer.context import build_market_context
from composer.history import SymbolHistory
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.engine import run, run_with_hysteresis
from regime_engine.hysteresis import HysteresisConfig, HysteresisStore
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator import SimulatorConfig, default_symbols, iter_cuts, iter_events

TARGET = 1_000.0
_FOLDED = frozenset(("TradeTick", "LiquidationPrint", "OpenInterest", "FundingRate"))


def read_events(events: Sequence[RawMarketEvent]) -> int:
    """The ceiling's work: touch what the fold reads, nothing more (returns a count so it is used)."""
    n = 0
    folded = _FOLDED
    for ev in events:
        event_type = ev.event_type
        if event_type in folded:
            _ = ev.symbol, ev.exchange_ts_ms
            values = ev.normalized
            if event_type == "TradeTick" or event_type == "LiquidationPrint":
                _ = values.get("price"), values.get("quantity"), values.get("side")
            elif event_type == "FundingRate":
                _ = values.get("funding_rate")
            else:
                _ = values.get("open_interest")
            n += 1
    return n


def main() -> None:
    """Stream the simulation, time each cut's symbol-runs, print rates and ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=30, help="timed cuts")
    parser.add_argument(
        "--warmup", type=int, default=71, help="untimed cuts first (71 = a full 3.5 h history)"
    )
    parser.add_argument("--symbols", type=int, default=5)
    parser.add_argument("--seed", type=int, default=99)
    args = parser.parse_args()
    config = SimulatorConfig(
        seed=args.seed, windows=args.warmup + args.windows, symbols=default_symbols(args.symbols)
    )
    symbols = config.symbols
    histories = {s: SymbolHistory.empty(s) for s in symbols}
    store = HysteresisStore()
    hysteresis = HysteresisConfig()
    fold_s = context_s = compose_s = engine_s = ceiling_s = 0.0
    runs = events = folded = 0
    snapshots: list[RegimeInputSnapshot] = []
    clock = time.process_time
    for index, (boundary, cut) in enumerate(iter_cuts(iter_events(config), symbols)):
        if boundary > config.end_ms:
            break
        timed = index >= args.warmup
        ceiling_first = index % 2 == 0
        if timed and ceiling_first:
            start = clock()
            folded += sum(read_events(cut[s]) for s in symbols)
            ceiling_s += clock() - start
        start = clock()
        for s in symbols:
            histories[s] = histories[s].update(cut[s], boundary)
        t_fold = clock()
        context = build_market_context(histories.values(), boundary)
        t_context = clock()
        composed = [
            compose_engine_input(histories[s], engine_timestamp_ms=boundary, context=context) for s in symbols
        ]
        t_compose = clock()
        for c in composed:
            run_with_hysteresis(c.snapshot, store, hysteresis)
        t_engine = clock()
        if not timed:
            continue
        if not ceiling_first:
            start_ceiling = clock()
            folded += sum(read_events(cut[s]) for s in symbols)
            ceiling_s += clock() - start_ceiling
        fold_s += t_fold - start
        context_s += t_context - t_fold
        compose_s += t_compose - t_context
        engine_s += t_engine - t_compose
        runs += len(symbols)
        events += sum(len(cut[s]) for s in symbols)
        snapshots.extend(c.snapshot for c in composed)

    truth_start = clock()
    for snap in snapshots:
        run(snap)
    truth_s = clock() - truth_start

    total_s = fold_s + context_s + compose_s + engine_s
    rate = runs / total_s
    ceiling = runs / ceiling_s
    print(
        f"cuts: {args.windows} timed after {args.warmup} warm-up, {len(symbols)} symbols -> {runs} symbol-runs; "
        f"simulator default cadences: {events / runs:,.0f} raw events per symbol-run "
        f"({folded / runs:,.0f} of them folded: trades, OI, funding, forced orders)"
    )
    print(
        f"per symbol-run (CPU, 1 core): fold {fold_s / runs * 1e6:,.0f} us, context "
        f"{context_s / runs * 1e6:,.0f} us, compose {compose_s / runs * 1e6:,.0f} us, "
        f"engine {engine_s / runs * 1e6:,.0f} us; fold = {fold_s / events * 1e9:,.0f} ns per raw event"
    )
    print(
        f"engine alone (run_with_hysteresis): {runs / engine_s:,.0f} symbol-runs/s; truth mode run(): "
        f"{len(snapshots) / truth_s:,.0f}/s"
    )
    print(
        f"composer alone (fold + context + compose): {runs / (fold_s + context_s + compose_s):,.0f} symbol-runs/s"
    )
    print(
        f"ceiling (read the cut's events, nothing else): {ceiling:,.0f} symbol-runs/s "
        f"({ceiling_s / events * 1e9:,.0f} ns per raw event)"
    )
    print(
        f"composer + engine: {rate:,.0f} symbol-runs/s per core = {rate / TARGET:.2f}x the {TARGET:,.0f}/s target, "
        f"{rate / ceiling:.2f} of the ceiling"
    )


if __name__ == "__main__":
    main()
