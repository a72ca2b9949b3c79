"""Symbol-runs per second per core: composer + engine together, and the engine alone.

Builds a simulated series once (untimed), then times, on one core (this process):
  * composer: SymbolHistory.update + compose_engine_input for every (window, symbol);
  * engine: step() (one pass giving output + hysteresis state: the orchestrator's call), and run().
Prints rates and the ratio to the 1,000 symbol-runs/s target; never asserts a timing.
"""

from __future__ import annotations

import argparse
import time

from composer.composer import compose_engine_input
from composer.context import build_market_context
from composer.history import SymbolHistory
from regime_engine.contracts.snapshots import RegimeInputSnapshot
from regime_engine.engine import run, step
from regime_engine.hysteresis import HysteresisConfig, HysteresisState
from xray_contracts.raw_market_event import RawMarketEvent
from xray_evaluation.series import cuts
from xray_simulator import SimulatorConfig, default_symbols, iter_events

TARGET = 1_000.0


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--windows", type=int, default=40)
    parser.add_argument("--symbols", type=int, default=3)
    parser.add_argument("--engine-repeats", type=int, default=5)
    args = parser.parse_args()
    config = SimulatorConfig(seed=99, windows=args.windows, symbols=default_symbols(args.symbols))
    per_cut: list[tuple[int, dict[str, list[RawMarketEvent]]]] = []
    for boundary, cut in cuts(iter_events(config)):
        by_symbol: dict[str, list[RawMarketEvent]] = {s: [] for s in config.symbols}
        for ev in cut:
            by_symbol[ev.symbol].append(ev)
        per_cut.append((boundary, by_symbol))

    histories = {s: SymbolHistory.empty(s) for s in config.symbols}
    snapshots: list[RegimeInputSnapshot] = []
    fold_s = 0.0
    compose_s = 0.0
    for boundary, by_symbol in per_cut:
        start = time.process_time()
        for s in config.symbols:
            histories[s] = histories[s].update(by_symbol[s], boundary)
        fold_s += time.process_time() - start
        start = time.process_time()
        context = build_market_context(histories.values(), boundary)
        for s in config.symbols:
            composed = compose_engine_input(histories[s], engine_timestamp_ms=boundary, context=context)
            snapshots.append(composed.snapshot)
        compose_s += time.process_time() - start
    composer_s = fold_s + compose_s

    cfg = HysteresisConfig()
    start = time.process_time()
    for _ in range(args.engine_repeats):
        states: dict[str, HysteresisState | None] = {}
        for snap in snapshots:
            decision = step(snap, states.get(snap.symbol), cfg)
            states[snap.symbol] = decision.state
    engine_s = (time.process_time() - start) / args.engine_repeats
    start = time.process_time()
    for _ in range(args.engine_repeats):
        for snap in snapshots:
            run(snap)
    truth_s = (time.process_time() - start) / args.engine_repeats

    n = len(snapshots)
    engine_rate = n / engine_s
    together = n / (composer_s + engine_s)
    print(f"symbol-runs: {n} ({args.windows} windows x {args.symbols} symbols), 1 core")
    print(f"engine truth mode alone (run): {n / truth_s:,.0f} symbol-runs/s per core")
    print(
        f"engine alone (hysteresis step = output + state): {engine_rate:,.0f} symbol-runs/s per core "
        f"(ratio to target {TARGET:,.0f}: {engine_rate / TARGET:.2f})"
    )
    print(
        f"composer alone: {n / composer_s:,.0f} symbol-runs/s per core "
        f"(folding the cut's events into history: {fold_s / composer_s:.0%} of it; "
        f"compose_engine_input alone: {n / compose_s:,.0f}/s)"
    )
    per_run = n / (compose_s + engine_s)
    print(f"compose_engine_input + engine (history already folded): {per_run:,.0f} symbol-runs/s per core")
    ratio = together / TARGET
    print(f"composer + engine: {together:,.0f} symbol-runs/s per core (ratio to target: {ratio:.2f})")


if __name__ == "__main__":
    main()
