"""Child process of test_native.py: a digest of everything the composer and the engine compute.

Prints one JSON line: the compiled modules in use (none under XRAY_NATIVE=0) and a sha256 over the
repr of every bar history, snapshot, regime output and hysteresis decision of a simulated market
(default cadences, a seed nobody tuned on) plus seeded random snapshots with missing, non-finite and
wrongly typed fields. repr shows every float exactly and tells 1 from 1.0, so equal digests mean
bit-identical outputs.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import sys
from typing import Any

from composer.composer import compose_engine_input
from composer.context import build_market_context
from composer.history import SymbolHistory, history_to_dict
from regime_engine.contracts.evidence import EMBEDDED_EVIDENCE_KEY
from regime_engine.contracts.missing import MISSING
from regime_engine.contracts.regimes import Regime
from regime_engine.contracts.snapshots import (
    ContextSnapshot,
    DerivativesSnapshot,
    FlowSnapshot,
    MarketSnapshot,
    RegimeInputSnapshot,
)
from regime_engine.engine import run, run_with_hysteresis
from regime_engine.hysteresis import HysteresisConfig, HysteresisStore
from regime_engine.native import compiled_modules
from xray_simulator import SimulatorConfig, default_symbols, iter_events

WINDOW_MS = 180_000


def simulated(digest: Any, windows: int) -> int:
    """Fold, compose and run every cut of a simulated market; returns the number of symbol-runs."""
    config = SimulatorConfig(seed=4242, windows=windows, symbols=default_symbols(4))
    histories = {s: SymbolHistory.empty(s) for s in config.symbols}
    cuts: dict[str, list[Any]] = {s: [] for s in config.symbols}
    store, hysteresis = HysteresisStore(), HysteresisConfig()
    boundary: int | None = None
    runs = 0

    def close(at: int) -> int:
        for s in config.symbols:
            # two folds per cut: update(a, E).update(b, E) is part of the contract too
            half = len(cuts[s]) // 2
            histories[s] = histories[s].update(cuts[s][:half], at).update(cuts[s][half:], at)
            digest.update(repr(history_to_dict(histories[s])).encode())
            cuts[s] = []
        context = build_market_context(histories.values(), at)
        for s in config.symbols:
            composed = compose_engine_input(histories[s], engine_timestamp_ms=at, context=context)
            digest.update(repr(composed).encode())
            digest.update(repr(run_with_hysteresis(composed.snapshot, store, hysteresis)).encode())
            digest.update(repr(run(composed.snapshot)).encode())
        return len(config.symbols)

    for event in iter_events(config):
        if boundary is None:
            boundary = event.recv_ts_ms - event.recv_ts_ms % WINDOW_MS + WINDOW_MS
        while event.recv_ts_ms >= boundary:
            runs += close(boundary)
            boundary += WINDOW_MS
        cuts[event.symbol].append(event)
    return runs


VALUES: tuple[Any, ...] = (MISSING, None, math.nan, math.inf, -math.inf, 0.0, -0.0, 1, 0, True, "x", "")


def value(rng: random.Random) -> Any:
    """A field value: mostly a plausible float, sometimes anything a bad producer could send."""
    if rng.random() < 0.6:
        return rng.uniform(-5.0, 5.0) if rng.random() < 0.7 else rng.uniform(-1e6, 1e6)
    return rng.choice(VALUES)


def levels(rng: random.Random, timestamp: int) -> Any:
    """structure_levels: missing, empty, or carrying embedded evidence opinions (some malformed)."""
    roll = rng.random()
    if roll < 0.2:
        return rng.choice((MISSING, None, {}))
    opinions: list[Any] = []
    for _ in range(rng.randrange(5)):
        if rng.random() < 0.15:
            opinions.append(value(rng))
            continue
        opinions.append(
            {
                "regime": rng.choice([r.value for r in Regime] + ["NOPE"]),
                "strength": value(rng),
                "confidence": value(rng),
                "source": rng.choice(("obs", None, "")),
            }
        )
    ts = timestamp if rng.random() < 0.8 else 0
    return {EMBEDDED_EVIDENCE_KEY: {"symbol": "TEST", "engine_timestamp_ms": ts, "opinions": opinions}}


def random_snapshots(digest: Any, count: int) -> int:
    """Seeded random snapshots through run() and run_with_hysteresis(); returns how many."""
    rng = random.Random(20261206)
    store, hysteresis = HysteresisStore(), HysteresisConfig()
    for i in range(count):
        ts = 180_000 * (1 + i // 3)  # equal timestamps too: a redelivered run must be a no-op

        def v() -> Any:
            return value(rng)

        snap = RegimeInputSnapshot(
            symbol="TEST",
            timestamp=ts,
            market=MarketSnapshot(v(), v(), v(), v(), v(), levels(rng, ts), v(), v()),
            derivatives=DerivativesSnapshot(v(), v(), v(), v(), v(), v(), v(), v()),
            flow=FlowSnapshot(v(), v(), v(), v()),
            context=ContextSnapshot(v(), v(), v(), v(), v()),
        )
        digest.update(repr(run(snap)).encode())
        digest.update(repr(run_with_hysteresis(snap, store, hysteresis)).encode())
    return count


def main() -> None:
    """Print {"compiled": [...], "digest": ..., "runs": ...}."""
    windows, randoms = int(sys.argv[1]), int(sys.argv[2])
    digest = hashlib.sha256()
    runs = simulated(digest, windows) + random_snapshots(digest, randoms)
    print(json.dumps({"compiled": compiled_modules(), "digest": digest.hexdigest(), "runs": runs}))


if __name__ == "__main__":
    main()
