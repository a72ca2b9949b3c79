"""Per-symbol regime schedules: segments of whole 180 s windows, every regime once per cycle."""

from __future__ import annotations

import random
from dataclasses import dataclass

from xray_simulator.config import WINDOW_MS, SimulatorConfig
from xray_simulator.regimes import FIXED_DIRECTION, REGIMES


@dataclass(frozen=True, slots=True)
class WindowLabel:
    """The true regime of one symbol in the window [window_start_ms, window_end_ms)."""

    symbol: str
    window_start_ms: int
    window_end_ms: int
    regime: str
    direction: int  # +1 up, -1 down, 0 for the chop regimes


def symbol_rng(config: SimulatorConfig, symbol: str, purpose: str) -> random.Random:
    """A generator seeded only by (seed, symbol, purpose), so symbols do not disturb each other."""
    return random.Random(f"{config.seed}:{symbol}:{purpose}")


def _segments(config: SimulatorConfig, symbol: str) -> list[tuple[str, int, int]]:
    """(regime, direction, windows) segments that fill the run: shuffled cycles of all 9 regimes."""
    rng = symbol_rng(config, symbol, "schedule")
    out: list[tuple[str, int, int]] = []
    filled = 0
    previous_direction = 1
    while filled < config.windows:
        cycle = list(REGIMES)
        rng.shuffle(cycle)
        for regime in cycle:
            if regime in FIXED_DIRECTION:
                direction = FIXED_DIRECTION[regime]
            elif regime == "TREND_EXHAUSTION":
                direction = previous_direction  # exhaustion of the last directional move
            else:
                direction = 0
            length = rng.randint(config.min_segment_windows, config.max_segment_windows)
            out.append((regime, direction, length))
            filled += length
            if direction:
                previous_direction = direction
            if filled >= config.windows:
                break
    return out


def regime_schedule(config: SimulatorConfig, symbol: str) -> tuple[WindowLabel, ...]:
    """One label per window for `symbol`, in time order."""
    labels: list[WindowLabel] = []
    window = 0
    for regime, direction, length in _segments(config, symbol):
        for _ in range(length):
            if window >= config.windows:
                break
            start = config.start_ms + window * WINDOW_MS
            labels.append(WindowLabel(symbol, start, start + WINDOW_MS, regime, direction))
            window += 1
    return tuple(labels)


def all_labels(config: SimulatorConfig) -> tuple[WindowLabel, ...]:
    """Labels of every symbol, ordered by (window start, symbol order in the config)."""
    per_symbol = [regime_schedule(config, s) for s in config.symbols]
    return tuple(label for i in range(config.windows) for label in (ps[i] for ps in per_symbol))
