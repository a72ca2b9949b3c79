"""Engine-addressed evidence: observers that vote for regime_engine Regimes, and the ordering rule.

The v1 observers reproduce the original exactly (fact sheet section 4). The v2 observers
(module observers_v2) read the history features and are the default set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from regime_engine.contracts.evidence import EvidenceOpinion, EvidenceSnapshot
from regime_engine.contracts.regimes import Regime

from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.contracts.feature_snapshot import FeatureSnapshot, feature_value
from composer.numeric import clamp01, num

EMBEDDED_EVIDENCE_KEY: Final = "composer_evidence_snapshot_v1"
_log = logging.getLogger("composer.evidence")

__all__ = [
    "EMBEDDED_EVIDENCE_KEY",
    "OBSERVERS_V1",
    "ClassicalRegimeV1",
    "EngineEvidenceObserver",
    "FlowPressureV1",
    "VolatilityContextV1",
    "availability_confidence",
    "clamp01",
    "compute_engine_evidence_snapshot",
    "engine_evidence_snapshot",
    "flow_ratio",
    "order_engine_evidence_opinions",
    "trend_sign",
]


class EngineEvidenceObserver(Protocol):
    """A stateless observer: id, source id, allowed regimes and an emit function."""

    @property
    def observer_id(self) -> str:
        """Stable observer id (e.g. classical_regime_v1)."""
        ...

    @property
    def source_id(self) -> str:
        """Source id written on every opinion (e.g. composer:classical_regime_v1)."""
        ...

    @property
    def allowed(self) -> tuple[Regime, ...]:
        """Regimes this observer may vote for."""
        ...

    def emit(self, snapshot: FeatureSnapshot, config: ComposerConfig) -> tuple[EvidenceOpinion, ...]:
        """Opinions for this snapshot (empty when the observer's signal is absent)."""
        ...


def _value(features: Mapping[str, float | None], key: str) -> float | None:
    return num(feature_value(features, key))


def availability_confidence(features: Mapping[str, float | None], keys: Sequence[str]) -> float:
    """Share of `keys` whose (alias-aware) value is present and finite; 0.0 for no keys."""
    if not keys:
        return 0.0
    return sum(_value(features, k) is not None for k in keys) / len(keys)


def flow_ratio(features: Mapping[str, float | None]) -> float | None:
    """cvd / open_interest when both exist and OI > 0."""
    cvd = _value(features, "cvd")
    oi = _value(features, "open_interest")
    if cvd is None or oi is None or oi <= 0.0:
        return None
    return cvd / oi


def trend_sign(features: Mapping[str, float | None]) -> int | None:
    """+1 if price > vwap, -1 if below, 0 if equal, None if either is missing."""
    price = _value(features, "price")
    vwap = _value(features, "vwap")
    if price is None or vwap is None:
        return None
    return (price > vwap) - (price < vwap)


def order_engine_evidence_opinions(opinions: Iterable[EvidenceOpinion]) -> tuple[EvidenceOpinion, ...]:
    """Stable sort by (regime value, source, -confidence, -strength)."""
    return tuple(sorted(opinions, key=lambda o: (o.regime.value, o.source, -o.confidence, -o.strength)))


@dataclass(frozen=True, slots=True)
class ClassicalRegimeV1:
    """Scores all nine regimes from vol, flow ratio and trend sign; emits the argmax (always one)."""

    observer_id: str = "classical_regime_v1"
    source_id: str = "composer:classical_regime_v1"
    allowed: tuple[Regime, ...] = tuple(Regime)

    def emit(self, snapshot: FeatureSnapshot, config: ComposerConfig) -> tuple[EvidenceOpinion, ...]:
        """Exactly one opinion: the best-scoring regime (earliest in enum order on ties)."""
        c = config.classical_v1
        f = snapshot.features
        vol = _value(f, "atr_z")
        fr = flow_ratio(f)
        ts = trend_sign(f)
        abs_fr = abs(fr) if fr is not None else 0.0
        vol_level = clamp01((vol + c.vol_level_offset) / c.vol_level_scale) if vol is not None else 0.0
        high_vol = clamp01((vol + c.high_vol_offset) / c.high_vol_scale) if vol is not None else 0.0
        low_flow = clamp01(1.0 - abs_fr / c.low_flow_scale)
        med_flow = clamp01(abs_fr / c.med_flow_scale)
        high_flow = clamp01(abs_fr / c.high_flow_scale)
        fr_up = 1.0 if fr is not None and fr > 0 else 0.0
        fr_down = 1.0 if fr is not None and fr < 0 else 0.0
        ts_up = 1.0 if ts is not None and ts > 0 else 0.0
        ts_down = 1.0 if ts is not None and ts < 0 else 0.0
        scores = (
            (Regime.CHOP_BALANCED, (1.0 - vol_level) * low_flow),
            (Regime.CHOP_STOPHUNT, vol_level * low_flow),
            (Regime.LIQUIDATION_UP, high_vol * high_flow * fr_up),
            (Regime.LIQUIDATION_DOWN, high_vol * high_flow * fr_down),
            (Regime.SQUEEZE_UP, high_vol * med_flow * ts_up),
            (Regime.SQUEEZE_DOWN, high_vol * med_flow * ts_down),
            (Regime.TREND_BUILD_UP, vol_level * med_flow * ts_up),
            (Regime.TREND_BUILD_DOWN, vol_level * med_flow * ts_down),
            (Regime.TREND_EXHAUSTION, high_vol * low_flow),
        )
        best = Regime.CHOP_BALANCED
        best_score = -1.0
        for regime, score in scores:
            s = clamp01(score)
            if s > best_score:
                best, best_score = regime, s
        conf = clamp01(availability_confidence(f, ("price", "vwap", "atr_z", "cvd", "open_interest")))
        return (EvidenceOpinion(best, clamp01(best_score), conf, self.source_id),)


@dataclass(frozen=True, slots=True)
class FlowPressureV1:
    """Votes a directional regime from cvd / OI, escalated by atr_z."""

    observer_id: str = "flow_pressure_v1"
    source_id: str = "composer:flow_pressure_v1"
    allowed: tuple[Regime, ...] = (
        Regime.TREND_BUILD_UP,
        Regime.TREND_BUILD_DOWN,
        Regime.LIQUIDATION_UP,
        Regime.LIQUIDATION_DOWN,
        Regime.SQUEEZE_UP,
        Regime.SQUEEZE_DOWN,
    )

    def emit(self, snapshot: FeatureSnapshot, config: ComposerConfig) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion."""
        c = config.flow_v1
        f = snapshot.features
        fr = flow_ratio(f)
        if fr is None or abs(fr) < c.min_abs_ratio:
            return ()
        up = fr > 0
        atr_z = _value(f, "atr_z")
        if atr_z is not None and atr_z >= c.liq_atr_z and abs(fr) >= c.liq_abs_ratio:
            regime = Regime.LIQUIDATION_UP if up else Regime.LIQUIDATION_DOWN
        elif atr_z is not None and atr_z >= c.squeeze_atr_z:
            regime = Regime.SQUEEZE_UP if up else Regime.SQUEEZE_DOWN
        else:
            regime = Regime.TREND_BUILD_UP if up else Regime.TREND_BUILD_DOWN
        conf = availability_confidence(f, ("cvd", "open_interest"))
        return (EvidenceOpinion(regime, clamp01(abs(fr) / c.strength_scale), conf, self.source_id),)


@dataclass(frozen=True, slots=True)
class VolatilityContextV1:
    """Votes chop / stop-hunt / exhaustion / squeeze from atr_z bands."""

    observer_id: str = "volatility_context_v1"
    source_id: str = "composer:volatility_context_v1"
    allowed: tuple[Regime, ...] = (
        Regime.CHOP_BALANCED,
        Regime.CHOP_STOPHUNT,
        Regime.TREND_EXHAUSTION,
        Regime.SQUEEZE_UP,
        Regime.SQUEEZE_DOWN,
    )

    def emit(self, snapshot: FeatureSnapshot, config: ComposerConfig) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion."""
        c = config.volatility_v1
        f = snapshot.features
        atr_z = _value(f, "atr_z")
        if atr_z is None:
            return ()
        if atr_z <= c.chop_balanced_max:
            regime = Regime.CHOP_BALANCED
        elif atr_z <= c.chop_stophunt_max:
            regime = Regime.CHOP_STOPHUNT
        elif atr_z >= c.exhaustion_min:
            regime = Regime.TREND_EXHAUSTION
        else:
            ts = trend_sign(f)
            if ts is None or ts == 0:
                return ()
            regime = Regime.SQUEEZE_UP if ts > 0 else Regime.SQUEEZE_DOWN
        strength = clamp01((atr_z - c.strength_offset) / c.strength_scale)
        conf = availability_confidence(f, ("atr_z",))
        return (EvidenceOpinion(regime, strength, conf, self.source_id),)


OBSERVERS_V1: Final[tuple[EngineEvidenceObserver, ...]] = (
    ClassicalRegimeV1(),
    FlowPressureV1(),
    VolatilityContextV1(),
)


def compute_engine_evidence_snapshot(
    snapshot: FeatureSnapshot,
    observers: Sequence[EngineEvidenceObserver] | None = None,
    config: ComposerConfig = DEFAULT_CONFIG,
) -> EvidenceSnapshot:
    """Run the observers (default: the v1 set, as the original) and order their opinions."""
    chosen = OBSERVERS_V1 if observers is None else observers
    opinions: list[EvidenceOpinion] = []
    for observer in chosen:
        opinions.extend(observer.emit(snapshot, config))
    return engine_evidence_snapshot(snapshot, opinions)


def engine_evidence_snapshot(
    snapshot: FeatureSnapshot, opinions: Iterable[EvidenceOpinion]
) -> EvidenceSnapshot:
    """The EvidenceSnapshot of `opinions` for this feature snapshot, in the canonical order."""
    ordered = order_engine_evidence_opinions(opinions)
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug(
            "composer.evidence.emitted symbol=%s ts=%d opinions=%d",
            snapshot.symbol,
            snapshot.engine_timestamp_ms,
            len(ordered),
        )
    return EvidenceSnapshot(snapshot.symbol, snapshot.engine_timestamp_ms, ordered)
