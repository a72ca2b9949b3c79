"""Symbol-runs per second per core: composer + engine together (target >= 1,000), and the parts.

What one symbol-run costs the orchestrator, per symbol per 180 s cut:
    history.update(events, E)                    fold the cut's raw events into the bar history
    build_market_context(histories, E)           once per tick, shared by the tick's symbols
    compose_engine_input(history, E, context)    features + v2 evidence + RegimeInputSnapshot
    run_with_hysteresis(snapshot, store, config) engine output + hysteresis state

The default simulator (5 symbols, default cadences and activity: ~1,700 raw events per symbol per
cut, two thirds of them trades, funding, OI and forced orders) streams its events in receive order;
generation is not timed. After `--warmup` cuts (histories then hold 3.5 h) every cut is timed on
one core with CPU time (time.process_time; the machine is shared). Two ways to pay for the fold:
  at boundary: the whole cut is folded when the boundary passes (events were created up to 180 s
               earlier, among other allocations: cold in cache);
  on arrival:  events are folded in batches of `--batch` as they arrive, under the boundary their
               cut will be composed at (update(a, E).update(b, E) == update(a + b, E), tested in
               libs/composer/tests/test_fold_reference.py), so they are still hot; compose and
               engine run at the boundary.
Ceiling (same run, same events, same moments): composer.ceilings.read_fold_inputs, a loop reading
what the fold needs from each event and nothing else; no symbol-run can be cheaper than reading its
events. Half the batches / cuts read the ceiling first, half fold first.
Modules: the compiled twins (mypyc, `make native`; regime_engine.native) when current, else the pure
sources. Unless --no-pure, the same measurement is repeated in a child process with XRAY_NATIVE=0 and
its totals printed too, so one run shows both (the outputs are bit-identical: test_native.py).
Never asserts a timing.
Run: .venv/bin/python bench/bench_engine.py [--windows 30] [--warmup 71] [--symbols 5] [--batch 256]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain

from composer.ceilings import read_fold_inputs
from composer.composer import compose_engine_input
from composer.context import build_market_context
from composer.history import SymbolHistory
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.engine import run, run_with_hysteresis
from regime_engine.hysteresis import HysteresisConfig, HysteresisStore
from regime_engine.native import ENV_SWITCH, compiled_modules
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator import SimulatorConfig, default_symbols, iter_events

TARGET = 1_000.0
W = 180_000
CLOCK = time.process_time


@dataclass
class Totals:
    """CPU seconds and counts of the timed part of one mode."""

    fold: float = 0.0
    context: float = 0.0
    compose: float = 0.0
    engine: float = 0.0
    ceiling: float = 0.0
    runs: int = 0
    events: int = 0
    folded: int = 0


def _timed(fn: Callable[[], object]) -> float:
    start = CLOCK()
    fn()
    return CLOCK() - start


def _batches(
    config: SimulatorConfig, batch: int
) -> Iterator[tuple[int, dict[str, list[RawMarketEvent]], bool]]:
    """(boundary, events per symbol, closes_cut): batches of <= `batch` events in receive order;
    closes_cut is True on the last batch of the cut [boundary - 180 s, boundary)."""
    events = iter_events(config)
    first = next(events)
    boundary = first.recv_ts_ms - first.recv_ts_ms % W + W
    pending: dict[str, list[RawMarketEvent]] = {s: [] for s in config.symbols}
    count = 0
    for e in chain((first,), events):
        while e.recv_ts_ms >= boundary:
            yield boundary, pending, True
            pending, count, boundary = {s: [] for s in config.symbols}, 0, boundary + W
        bucket = pending.get(e.symbol)
        if bucket is not None:
            bucket.append(e)
            count += 1
            if count >= batch:
                yield boundary, pending, False
                pending, count = {s: [] for s in config.symbols}, 0


def measure(
    config: SimulatorConfig, warmup: int, batch: int | None
) -> tuple[Totals, list[RegimeInputSnapshot]]:
    """Stream the simulation; batch None = fold at the boundary, else fold on arrival."""
    symbols = config.symbols
    histories = {s: SymbolHistory.empty(s) for s in symbols}
    store = HysteresisStore()
    hysteresis = HysteresisConfig()
    totals = Totals()
    snapshots: list[RegimeInputSnapshot] = []
    cut: dict[str, list[RawMarketEvent]] = {s: [] for s in symbols}
    index = 0
    flip = False
    for boundary, pending, closes in _batches(config, batch or 10**9):
        if boundary > config.end_ms:
            break
        timed = index >= warmup
        if batch is None:
            for s in symbols:
                cut[s].extend(pending[s])
            to_fold = cut if closes else None
        else:
            to_fold = pending
        if to_fold is not None:
            flip = not flip

            def fold(f: dict[str, list[RawMarketEvent]] = to_fold, e: int = boundary) -> None:
                for s in symbols:
                    histories[s] = histories[s].update(f[s], e)

            def ceiling(f: dict[str, list[RawMarketEvent]] = to_fold) -> int:
                return sum(read_fold_inputs(f[s]) for s in symbols)

            if flip:
                c = _timed(ceiling)
                f = _timed(fold)
            else:
                f = _timed(fold)
                c = _timed(ceiling)
            if timed:
                totals.fold += f
                totals.ceiling += c
                totals.events += sum(len(to_fold[s]) for s in symbols)
                totals.folded += ceiling()
        if not closes:
            continue
        start = CLOCK()
        context = build_market_context(histories.values(), boundary)
        t_context = CLOCK()
        composed = [
            compose_engine_input(histories[s], engine_timestamp_ms=boundary, context=context) for s in symbols
        ]
        t_compose = CLOCK()
        for c_in in composed:
            run_with_hysteresis(c_in.snapshot, store, hysteresis)
        t_engine = CLOCK()
        if timed:
            totals.context += t_context - start
            totals.compose += t_compose - t_context
            totals.engine += t_engine - t_compose
            totals.runs += len(symbols)
            snapshots.extend(c_in.snapshot for c_in in composed)
        cut = {s: [] for s in symbols}
        index += 1
    return totals, snapshots


def report(name: str, t: Totals) -> None:
    """Print one mode's figures."""
    per = 1e6 / t.runs
    total = t.fold + t.context + t.compose + t.engine
    rate = t.runs / total
    ceiling = t.runs / t.ceiling
    print(
        f"[{name}] per symbol-run (CPU, 1 core): fold {t.fold * per:,.0f} us "
        f"({t.fold / t.events * 1e9:,.0f} ns per raw event), context {t.context * per:,.0f} us, "
        f"compose {t.compose * per:,.0f} us, engine {t.engine * per:,.0f} us"
    )
    print(
        f"[{name}] ceiling (read the events, nothing else): {ceiling:,.0f} symbol-runs/s "
        f"({t.ceiling / t.events * 1e9:,.0f} ns per raw event)"
    )
    print(
        f"[{name}] composer + engine: {rate:,.0f} symbol-runs/s per core = {rate / TARGET:.2f}x the "
        f"{TARGET:,.0f}/s target, {rate / ceiling:.2f} of the ceiling"
    )


def main() -> None:
    """Both modes on the same simulated series, then the engine alone."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=30, help="timed cuts")
    parser.add_argument("--warmup", type=int, default=71, help="untimed cuts first (71 = 3.5 h of history)")
    parser.add_argument("--symbols", type=int, default=5)
    parser.add_argument("--seed", type=int, default=99)
    parser.add_argument("--batch", type=int, default=256, help="events per fold when folding on arrival")
    parser.add_argument("--no-pure", action="store_true", help="skip the pure-Python comparison run")
    args = parser.parse_args()
    compiled = compiled_modules()
    print(
        f"modules: compiled with mypyc ({len(compiled)} modules)"
        if compiled
        else "modules: pure Python (no current native tree, or XRAY_NATIVE=0)"
    )
    config = SimulatorConfig(
        seed=args.seed, windows=args.warmup + args.windows, symbols=default_symbols(args.symbols)
    )
    boundary_totals, snapshots = measure(config, args.warmup, None)
    arrival_totals, _ = measure(config, args.warmup, args.batch)
    t = boundary_totals
    print(
        f"{t.runs} symbol-runs ({args.windows} cuts after {args.warmup} warm-up x {args.symbols} symbols); "
        f"{t.events / t.runs:,.0f} raw events per symbol-run, {t.folded / t.runs:,.0f} of a folded type"
    )
    report("at boundary", boundary_totals)
    report(f"on arrival, batches of {args.batch}", arrival_totals)
    truth_s = _timed(lambda: [run(s) for s in snapshots])
    print(
        f"engine alone: run_with_hysteresis {t.runs / t.engine:,.0f} symbol-runs/s (in the stream), "
        f"truth mode run() {len(snapshots) / truth_s:,.0f}/s (back to back)"
    )
    if compiled and not args.no_pure:
        child = [sys.executable, __file__, "--no-pure", *sys.argv[1:]]
        out = subprocess.run(
            child, env={**os.environ, ENV_SWITCH: "0"}, capture_output=True, text=True, check=True
        ).stdout
        for line in out.splitlines():
            if "composer + engine:" in line:
                print(f"pure Python, same run: {line}")


if __name__ == "__main__":
    main()
