"""Forward-outcome checks for unlabelled data: does each regime see the next-window moves it implies?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ForwardStats:
    """Next-window return statistics of the windows labelled `regime`."""

    regime: str
    count: int
    mean_return: float
    mean_abs_return: float


@dataclass(frozen=True, slots=True)
class ForwardCheck:
    """One expectation; passed is None when either side has too few windows."""

    description: str
    passed: bool | None


MIN_COUNT = 5


def forward_stats(
    labels_by_symbol: Mapping[str, Sequence[str]], prices_by_symbol: Mapping[str, Sequence[float | None]]
) -> list[ForwardStats]:
    """Per regime: the return from this window's price to the next window's price."""
    buckets: dict[str, list[float]] = {}
    for symbol, labels in labels_by_symbol.items():
        prices = prices_by_symbol[symbol]
        for i in range(len(labels) - 1):
            now, nxt = prices[i], prices[i + 1]
            if now is None or nxt is None or now <= 0.0:
                continue
            buckets.setdefault(labels[i], []).append(nxt / now - 1.0)
    out = []
    for regime in sorted(buckets):
        xs = buckets[regime]
        out.append(ForwardStats(regime, len(xs), sum(xs) / len(xs), sum(abs(x) for x in xs) / len(xs)))
    return out


def forward_checks(stats: Sequence[ForwardStats]) -> list[ForwardCheck]:
    """Directional regimes should move their way more than chop; violent regimes should move more."""
    by = {s.regime: s for s in stats if s.count >= MIN_COUNT}

    def cmp(desc: str, a: str, b: str, key: str, greater: bool = True) -> ForwardCheck:
        if a not in by or b not in by:
            return ForwardCheck(desc, None)
        va, vb = getattr(by[a], key), getattr(by[b], key)
        return ForwardCheck(desc, va > vb if greater else va < vb)

    return [
        cmp(
            "TREND_BUILD_UP mean next return > CHOP_BALANCED",
            "TREND_BUILD_UP",
            "CHOP_BALANCED",
            "mean_return",
        ),
        cmp(
            "TREND_BUILD_DOWN mean next return < CHOP_BALANCED",
            "TREND_BUILD_DOWN",
            "CHOP_BALANCED",
            "mean_return",
            greater=False,
        ),
        cmp(
            "LIQUIDATION_UP mean |next return| > CHOP_BALANCED",
            "LIQUIDATION_UP",
            "CHOP_BALANCED",
            "mean_abs_return",
        ),
        cmp(
            "LIQUIDATION_DOWN mean |next return| > CHOP_BALANCED",
            "LIQUIDATION_DOWN",
            "CHOP_BALANCED",
            "mean_abs_return",
        ),
        cmp("SQUEEZE_UP mean next return > CHOP_BALANCED", "SQUEEZE_UP", "CHOP_BALANCED", "mean_return"),
        cmp(
            "SQUEEZE_DOWN mean next return < CHOP_BALANCED",
            "SQUEEZE_DOWN",
            "CHOP_BALANCED",
            "mean_return",
            greater=False,
        ),
    ]
