"""End to end on the simulator: warm-up coverage, determinism, and every observer's votes."""

from __future__ import annotations

from collections import Counter

import pytest
from composer.config import DEFAULT_CONFIG
from composer.contracts.feature_snapshot import FEATURE_KEYS_V1
from composer.history import rebuild
from composer.observers_v2 import OBSERVERS_V2
from regime_engine.contracts.missing import missing_paths
from regime_engine.contracts.regimes import Regime

# Documented warm-up (Planning/composer/spec.md): atr_z_50 needs 63 bars; everything else <= 21.
WARMUP_BARS = 64
W = 180_000


def after_warmup(sim_run, bars: int = WARMUP_BARS):  # type: ignore[no-untyped-def]
    start = sim_run.config.start_ms + bars * W
    return [r for r in sim_run.runs if r[1] > start]


def test_every_feature_non_null_after_warmup(sim_run) -> None:  # type: ignore[no-untyped-def]
    runs = after_warmup(sim_run)
    assert len(runs) >= 5 * 50
    nulls = Counter(k for _, _, _, out in runs for k, v in out.features.features.items() if v is None)
    assert not nulls, nulls
    for _, _, _, out in runs:
        assert set(out.features.features) == set(FEATURE_KEYS_V1)


def test_short_warmup_features_non_null_after_an_hour(sim_run) -> None:  # type: ignore[no-untyped-def]
    runs = after_warmup(sim_run, 22)
    nulls = Counter(k for _, _, _, out in runs for k, v in out.features.features.items() if v is None)
    assert set(nulls) <= {"atr_z_50"}, nulls


def test_engine_snapshot_has_no_missing_after_warmup(sim_run) -> None:  # type: ignore[no-untyped-def]
    for _, ts, _, out in after_warmup(sim_run):
        assert missing_paths(out.snapshot) == frozenset()
        assert out.snapshot.timestamp == ts
        payload = out.snapshot.market.structure_levels["composer_evidence_snapshot_v1"]
        assert payload["engine_timestamp_ms"] == ts
        assert payload["opinions"]


def test_rebuild_from_raw_events_equals_cut_by_cut(sim_run) -> None:  # type: ignore[no-untyped-def]
    for symbol, history in sim_run.histories.items():
        events = [e for e in sim_run.events if e.symbol == symbol]
        assert rebuild(symbol, events, sim_run.last_ts) == history


def test_bars_bounded_by_lookback(sim_run) -> None:  # type: ignore[no-untyped-def]
    for history in sim_run.histories.values():
        assert len(history.bars) <= DEFAULT_CONFIG.lookback_ms // W + 1


def _votes(sim_run, observer_id: str, min_strength: float) -> Counter[tuple[str, str]]:  # type: ignore[no-untyped-def]
    observer = next(o for o in OBSERVERS_V2 if o.observer_id == observer_id)
    votes: Counter[tuple[str, str]] = Counter()
    for _, _, label, out in after_warmup(sim_run, 25):
        for o in observer.emit(out.features, DEFAULT_CONFIG):
            assert o.regime in observer.allowed
            assert 0.0 < o.strength <= 1.0
            assert 0.0 <= o.confidence <= 1.0
            if o.strength >= min_strength:
                votes[(o.regime.value, label)] += 1
    return votes


@pytest.mark.parametrize(
    ("observer_id", "min_strength", "min_precision", "min_votes", "regimes"),
    [
        ("classical_regime_v2", 0.5, 0.85, 150, {r.value for r in Regime}),
        (
            "flow_pressure_v2",
            0.5,
            0.85,
            40,
            {"TREND_BUILD_UP", "TREND_BUILD_DOWN", "SQUEEZE_UP", "SQUEEZE_DOWN"},
        ),
        ("derivatives_positioning_v2", 0.5, 0.85, 20, {"TREND_BUILD_UP", "TREND_BUILD_DOWN", "SQUEEZE_UP"}),
        ("liquidations_v2", 0.5, 0.95, 40, {"LIQUIDATION_UP", "LIQUIDATION_DOWN"}),
        ("structure_v2", 0.5, 0.75, 20, {"CHOP_STOPHUNT", "TREND_EXHAUSTION"}),
        ("volatility_context_v2", 0.2, 0.5, 5, set()),
    ],
)
def test_observer_votes_match_labels_when_strong(  # type: ignore[no-untyped-def]
    sim_run, observer_id: str, min_strength: float, min_precision: float, min_votes: int, regimes: set[str]
) -> None:
    votes = _votes(sim_run, observer_id, min_strength)
    total = sum(votes.values())
    right = sum(v for (voted, label), v in votes.items() if voted == label)
    assert total >= min_votes, votes
    assert right / total >= min_precision, votes
    correct_regimes = {voted for (voted, label) in votes if voted == label}
    assert regimes <= correct_regimes, votes


def test_winner_take_all_recovers_labels(sim_run) -> None:  # type: ignore[no-untyped-def]
    from composer.observers_v2 import winner

    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    for _, _, label, out in after_warmup(sim_run, 25):
        w = winner(out.evidence.opinions)
        totals[label] += 1
        hits[label] += w is not None and w.value == label
    recall = {label: hits[label] / totals[label] for label in totals}
    assert set(recall) == {r.value for r in Regime}
    assert sum(recall.values()) / len(recall) >= 0.75, recall


@pytest.mark.parametrize(
    ("observer_id", "min_precision"),
    [
        ("classical_regime_v2", 0.8),
        ("flow_pressure_v2", 0.9),
        ("derivatives_positioning_v2", 0.8),
        ("liquidations_v2", 0.95),
        ("structure_v2", 0.65),
        ("volatility_context_v2", 0.7),
    ],
)
def test_observer_on_windows_chosen_by_label(sim_run, observer_id: str, min_precision: float) -> None:  # type: ignore[no-untyped-def]
    """In windows labelled with a regime the observer can vote for, its votes name that regime."""
    observer = next(o for o in OBSERVERS_V2 if o.observer_id == observer_id)
    allowed = {r.value for r in observer.allowed}
    voted = right = 0
    for _, _, label, out in after_warmup(sim_run, 25):
        if label not in allowed:
            continue
        opinions = observer.emit(out.features, DEFAULT_CONFIG)
        if opinions:
            voted += 1
            right += opinions[0].regime.value == label
    assert voted >= 10
    assert right / voted >= min_precision, (right, voted)
