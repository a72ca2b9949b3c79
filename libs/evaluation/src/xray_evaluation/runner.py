"""Run the engine over steps in truth and hysteresis modes and collect the labels per symbol."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from regime_engine.engine import run, step
from regime_engine.hysteresis import HysteresisConfig, HysteresisState

from xray_evaluation.series import Step


@dataclass(slots=True)
class Labelled:
    """Per symbol, in time order: timestamps, truth labels, truth-mode and hysteresis-mode labels, prices."""

    timestamps: dict[str, list[int]] = field(default_factory=dict)
    truth: dict[str, list[str | None]] = field(default_factory=dict)
    truth_mode: dict[str, list[str]] = field(default_factory=dict)
    hysteresis_mode: dict[str, list[str]] = field(default_factory=dict)
    prices: dict[str, list[float | None]] = field(default_factory=dict)


def _price(s: Step) -> float | None:
    price = s.snapshot.market.price
    return float(price) if isinstance(price, int | float) and not isinstance(price, bool) else None


def run_modes(steps: Iterable[Step], config: HysteresisConfig | None = None) -> Labelled:
    """Truth mode = run(snapshot); hysteresis mode = the anchor of step(snapshot, previous state)."""
    cfg = config or HysteresisConfig()
    out = Labelled()
    states: dict[str, HysteresisState | None] = {}
    for s in steps:
        truth_label = run(s.snapshot).regime.value
        decision = step(s.snapshot, states.get(s.symbol), cfg)
        states[s.symbol] = decision.state
        out.timestamps.setdefault(s.symbol, []).append(s.timestamp)
        out.truth.setdefault(s.symbol, []).append(s.label)
        out.truth_mode.setdefault(s.symbol, []).append(truth_label)
        out.hysteresis_mode.setdefault(s.symbol, []).append(decision.state.anchor_regime.value)
        out.prices.setdefault(s.symbol, []).append(_price(s))
    return out
