"""analysis_engine runs per second on one core: the built-in plan, next to the empty plan (the ceiling).

    .venv/bin/python bench/bench_analysis_engine.py [--runs 2000]

Both engines consume the same OPEN gate events (4 symbols, labelled regimes cycling). `empty` = no modules
(Started + Completed only: the engine's own overhead); `builtins` = the six default built-in modules;
`+codec` = builtins plus Avro encoding of every output event (what the service adds per record).
Prints rates and ratios to the empty-plan rate measured in this run; nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, ModuleRegistry
from consumers.analysis_engine.contracts import AnalysisEngineEvent
from consumers.analysis_engine.harness import labelled_gate_series
from consumers.analysis_engine.modules.builtin import builtin_modules
from xray_contracts.codec import codec_for
from xray_contracts.state_gate import StateGateEvent


def timed(
    label: str, events: list[StateGateEvent], make: Callable[[], AnalysisEngine], encode: bool
) -> float:
    """Runs/s of a fresh engine over `events` (run ids are unique, so every OPEN event runs)."""
    engine = make()
    codec = codec_for(AnalysisEngineEvent)
    start = time.perf_counter()
    for event in events:
        for out in engine.consume(event):
            if encode:
                codec.encode(out)
    elapsed = time.perf_counter() - start
    rate = len(events) / elapsed
    print(f"{label:>10}: {rate:10.0f} inputs/s")
    return rate


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000, help="gate events per measurement")
    args = parser.parse_args()
    series = labelled_gate_series(["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"], args.runs // 4, seed=1)
    config = AnalysisEngineConfig(enabled_modules=[], module_configs=[])
    empty = timed(
        "empty", series, lambda: AnalysisEngine(registry=ModuleRegistry(modules=[]), config=config), False
    )
    builtins = timed(
        "builtins",
        series,
        lambda: AnalysisEngine(registry=ModuleRegistry(modules=builtin_modules()), config=config),
        False,
    )
    with_codec = timed(
        "+codec",
        series,
        lambda: AnalysisEngine(registry=ModuleRegistry(modules=builtin_modules()), config=config),
        True,
    )
    print(f"builtins / empty = {builtins / empty:.3f}; +codec / empty = {with_codec / empty:.3f}")


if __name__ == "__main__":
    main()
