"""v2 engine-addressed observers: stateless votes from the history features (3-minute signals).

Each observer reads a few features, votes for at most one regime, and sets strength from how far
its signal is past its threshold; confidence is the share of its inputs that were present.
Thresholds live in ComposerConfig.observers_v2 (documented in Planning/composer/spec.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from regime_engine.contracts.evidence import EvidenceOpinion, EvidenceSnapshot
from regime_engine.contracts.regimes import Regime

from composer.config import ComposerConfig, ObserverV2Config
from composer.contracts.feature_snapshot import FeatureSnapshot
from composer.engine_evidence import EngineEvidenceObserver, availability_confidence, engine_evidence_snapshot
from composer.numeric import clamp01, num

_UP_DOWN: Final = {
    "LIQUIDATION": (Regime.LIQUIDATION_UP, Regime.LIQUIDATION_DOWN),
    "SQUEEZE": (Regime.SQUEEZE_UP, Regime.SQUEEZE_DOWN),
    "TREND_BUILD": (Regime.TREND_BUILD_UP, Regime.TREND_BUILD_DOWN),
}


def _directed(family: str, direction: int) -> Regime:
    up, down = _UP_DOWN[family]
    return up if direction > 0 else down


def _get(f: Mapping[str, float | None], key: str) -> float | None:
    """Feature value as a finite float or None (fast path: snapshots already hold clean floats)."""
    value = f.get(key)
    if value is None or (type(value) is float and value - value == 0.0):
        return value
    return num(value)


def _sign(x: float | None) -> int:
    if x is None:
        return 0
    return (x > 0.0) - (x < 0.0)


@dataclass(frozen=True, slots=True)
class Signals:
    """Normalised 0..1 signal terms shared by the v2 observers (internal helper, pure)."""

    move: float  # |return_3m_atr| / trend_move_atr, capped
    move_dir: int
    trend_dir: int  # sign of return_15m_atr
    flow: float  # |aggressive ratio - 0.5| / flow_imbalance, capped
    flow_dir: int
    build: float  # OI rising
    unwind: float  # OI falling
    oi_flat: float
    liq: float  # liquidation intensity past its threshold
    liq_dir: int
    sweep: float

    @staticmethod
    def read(f: Mapping[str, float | None], c: ObserverV2Config) -> Signals:
        """Derive the terms from a feature mapping; a missing input gives a neutral term."""
        r3 = _get(f, "return_3m_atr")
        r15 = _get(f, "return_15m_atr")
        avr = _get(f, "aggressive_volume_ratio_3m")
        oi = _get(f, "oi_change_3m")
        liq = _get(f, "liquidation_intensity_3m")
        liq_imb = _get(f, "liquidation_imbalance_3m")
        sweep = _get(f, "sweep_score_3m")
        imbalance = 0.0 if avr is None else avr - 0.5
        liq_term = (
            0.0
            if liq is None
            else clamp01(
                (liq - c.liquidation_min_intensity)
                / (c.liquidation_full_intensity - c.liquidation_min_intensity)
            )
        )
        liq_dir = (
            _sign(liq_imb)
            if liq_imb is not None and abs(liq_imb) >= c.liquidation_side_imbalance
            else _sign(r3)
        )
        return Signals(
            move=0.0 if r3 is None else clamp01(abs(r3) / c.trend_move_atr),
            move_dir=_sign(r3),
            trend_dir=_sign(r15),
            flow=clamp01(abs(imbalance) / c.flow_imbalance),
            flow_dir=_sign(imbalance) if avr is not None else 0,
            build=0.0 if oi is None else clamp01(oi / c.oi_build),
            unwind=0.0 if oi is None else clamp01(-oi / c.oi_unwind),
            oi_flat=0.0 if oi is None else clamp01(1.0 - abs(oi) / c.oi_build),
            liq=liq_term,
            liq_dir=liq_dir,
            sweep=0.0 if sweep is None else clamp01((sweep - c.sweep_min) / c.sweep_span),
        )


def _opinion(regime: Regime, strength: float, confidence: float, source: str) -> tuple[EvidenceOpinion, ...]:
    s = clamp01(strength)
    if s <= 0.0:
        return ()
    return (EvidenceOpinion(regime, s, clamp01(confidence), source),)


_CLASSICAL_KEYS: Final = (
    "return_3m_atr",
    "return_15m_atr",
    "aggressive_volume_ratio_3m",
    "oi_change_3m",
    "liquidation_intensity_3m",
    "sweep_score_3m",
)


@dataclass(frozen=True, slots=True)
class ClassicalRegimeV2:
    """Scores all nine regimes from move, flow, OI, liquidations and sweep; votes the argmax."""

    observer_id: str = "classical_regime_v2"
    source_id: str = "composer:classical_regime_v2"
    allowed: tuple[Regime, ...] = tuple(Regime)

    def scores(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[tuple[Regime, float], ...]:
        """Every regime's score in enum order (exposed for tests and the spec's table)."""
        s = Signals.read(snapshot.features, config.observers_v2) if signals is None else signals
        no_liq = 1.0 - s.liq
        diverging = 1.0 if s.trend_dir and s.flow_dir and s.trend_dir != s.flow_dir else 0.0
        out: dict[Regime, float] = {
            Regime.CHOP_BALANCED: s.oi_flat * (1.0 - s.flow) * (1.0 - s.sweep) * no_liq * (1.0 - s.move),
            Regime.CHOP_STOPHUNT: s.oi_flat * s.sweep * no_liq,
            Regime.TREND_EXHAUSTION: diverging * s.flow * (1.0 - s.build) * no_liq,
        }
        for d in (1, -1):
            out[_directed("LIQUIDATION", d)] = s.liq * (1.0 if s.liq_dir == d else 0.0)
            aligned = s.flow * (1.0 if s.flow_dir == d else 0.0)
            out[_directed("SQUEEZE", d)] = s.unwind * aligned * no_liq
            out[_directed("TREND_BUILD", d)] = s.build * aligned * no_liq
        return tuple((r, clamp01(out[r])) for r in Regime)

    def emit(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[EvidenceOpinion, ...]:
        """The best-scoring regime (earliest in enum order on ties); nothing without inputs."""
        confidence = availability_confidence(snapshot.features, _CLASSICAL_KEYS)
        if confidence <= 0.0:
            return ()
        best, best_score = Regime.CHOP_BALANCED, -1.0
        for regime, score in self.scores(snapshot, config, signals):
            if score > best_score:
                best, best_score = regime, score
        return _opinion(best, best_score, confidence, self.source_id)


@dataclass(frozen=True, slots=True)
class FlowPressureV2:
    """One-sided aggressor flow: with OI building -> TREND_BUILD, with OI unwinding -> SQUEEZE."""

    observer_id: str = "flow_pressure_v2"
    source_id: str = "composer:flow_pressure_v2"
    allowed: tuple[Regime, ...] = (
        Regime.TREND_BUILD_UP,
        Regime.TREND_BUILD_DOWN,
        Regime.SQUEEZE_UP,
        Regime.SQUEEZE_DOWN,
    )

    def emit(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion; strength = flow term x OI term, scaled below the classical vote."""
        c = config.observers_v2
        f = snapshot.features
        avr = _get(f, "aggressive_volume_ratio_3m")
        if avr is None or abs(avr - 0.5) < c.flow_min_imbalance:
            return ()
        s = Signals.read(f, c) if signals is None else signals
        conf = availability_confidence(f, ("aggressive_volume_ratio_3m", "oi_change_3m"))
        if s.build > s.unwind:
            return _opinion(
                _directed("TREND_BUILD", s.flow_dir), c.flow_weight * s.flow * s.build, conf, self.source_id
            )
        if s.unwind > 0.0 and s.liq <= 0.0:
            return _opinion(
                _directed("SQUEEZE", s.flow_dir), c.flow_weight * s.flow * s.unwind, conf, self.source_id
            )
        return ()


@dataclass(frozen=True, slots=True)
class VolatilityContextV2:
    """Range expansion: a wide directional bar -> LIQUIDATION; a quiet, flat bar -> CHOP_BALANCED."""

    observer_id: str = "volatility_context_v2"
    source_id: str = "composer:volatility_context_v2"
    allowed: tuple[Regime, ...] = (Regime.CHOP_BALANCED, Regime.LIQUIDATION_UP, Regime.LIQUIDATION_DOWN)

    def emit(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion (reads its own features; `signals` is accepted for a uniform call)."""
        c = config.observers_v2
        f = snapshot.features
        rx = _get(f, "range_expansion_3m")
        r3 = _get(f, "return_3m_atr")
        if rx is None or r3 is None:
            return ()
        conf = availability_confidence(f, ("range_expansion_3m", "return_3m_atr", "atr_z_50"))
        if rx >= c.range_expansion_high and abs(r3) >= c.trend_move_atr:
            strength = c.volatility_weight * clamp01(
                (rx - c.range_expansion_high) / c.range_expansion_high + 0.5
            )
            return _opinion(_directed("LIQUIDATION", _sign(r3)), strength, conf, self.source_id)
        r15 = _get(f, "return_15m_atr")
        atr_z = _get(f, "atr_z_50")
        compressed = atr_z is None or atr_z <= c.chop_atr_z_max
        if r15 is None:
            return ()
        quiet = (
            rx <= c.chop_range_expansion_max
            and abs(r3) <= c.chop_bar_move_atr
            and abs(r15) <= c.chop_move_atr
        )
        if quiet and compressed:
            return _opinion(
                Regime.CHOP_BALANCED, c.chop_weight * (1.0 - abs(r15) / c.chop_move_atr), conf, self.source_id
            )
        return ()


@dataclass(frozen=True, slots=True)
class DerivativesPositioningV2:
    """OI and funding against price: OI up with the move -> TREND_BUILD; OI down as funding
    moves with price -> SQUEEZE (shorts/longs closing into the move)."""

    observer_id: str = "derivatives_positioning_v2"
    source_id: str = "composer:derivatives_positioning_v2"
    allowed: tuple[Regime, ...] = (
        Regime.TREND_BUILD_UP,
        Regime.TREND_BUILD_DOWN,
        Regime.SQUEEZE_UP,
        Regime.SQUEEZE_DOWN,
    )

    def emit(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion."""
        c = config.observers_v2
        f = snapshot.features
        s = Signals.read(f, c) if signals is None else signals
        if not s.move_dir or s.move < c.derivatives_min_move:
            return ()
        conf = availability_confidence(f, ("oi_change_3m", "funding_slope_15m", "return_3m_atr"))
        if s.build >= c.derivatives_min_build:
            return _opinion(
                _directed("TREND_BUILD", s.move_dir),
                c.derivatives_weight * s.build * s.move,
                conf,
                self.source_id,
            )
        fslope = _get(f, "funding_slope_15m")
        funding_with_move = fslope is not None and _sign(fslope) == s.move_dir
        if s.unwind >= c.derivatives_min_unwind and s.liq <= 0.0 and funding_with_move:
            assert fslope is not None
            funding = clamp01(abs(fslope) / c.funding_slope_scale)
            return _opinion(
                _directed("SQUEEZE", s.move_dir),
                c.derivatives_weight * s.unwind * funding,
                conf,
                self.source_id,
            )
        return ()


@dataclass(frozen=True, slots=True)
class LiquidationsV2:
    """Forced-order notional vs traded notional: a cascade on the liquidated side."""

    observer_id: str = "liquidations_v2"
    source_id: str = "composer:liquidations_v2"
    allowed: tuple[Regime, ...] = (Regime.LIQUIDATION_UP, Regime.LIQUIDATION_DOWN)

    def emit(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion."""
        f = snapshot.features
        s = Signals.read(f, config.observers_v2) if signals is None else signals
        if s.liq <= 0.0 or not s.liq_dir:
            return ()
        conf = availability_confidence(f, ("liquidation_intensity_3m", "liquidation_imbalance_3m"))
        return _opinion(_directed("LIQUIDATION", s.liq_dir), s.liq, conf, self.source_id)


@dataclass(frozen=True, slots=True)
class StructureV2:
    """Price structure: a rejected probe with flat OI -> CHOP_STOPHUNT; a 15-minute move that the
    aggressor flow no longer supports -> TREND_EXHAUSTION."""

    observer_id: str = "structure_v2"
    source_id: str = "composer:structure_v2"
    allowed: tuple[Regime, ...] = (Regime.CHOP_STOPHUNT, Regime.TREND_EXHAUSTION)

    def emit(
        self, snapshot: FeatureSnapshot, config: ComposerConfig, signals: Signals | None = None
    ) -> tuple[EvidenceOpinion, ...]:
        """Zero or one opinion."""
        c = config.observers_v2
        f = snapshot.features
        s = Signals.read(f, c) if signals is None else signals
        conf = availability_confidence(f, ("sweep_score_3m", "return_15m_atr", "aggressive_volume_ratio_3m"))
        if s.sweep > 0.0 and s.liq <= 0.0 and s.move < c.stophunt_max_move:
            return _opinion(
                Regime.CHOP_STOPHUNT, c.structure_weight * s.sweep * s.oi_flat, conf, self.source_id
            )
        avr = _get(f, "aggressive_volume_ratio_3m")
        diverging = s.trend_dir and s.flow_dir and s.trend_dir != s.flow_dir
        slow = s.move < c.exhaustion_max_move and s.unwind < c.derivatives_min_unwind and s.liq <= 0.0
        if (
            diverging
            and slow
            and avr is not None
            and abs(avr - 0.5) >= c.exhaustion_divergence
            and s.build <= 0.0
        ):
            return _opinion(Regime.TREND_EXHAUSTION, c.exhaustion_weight * s.flow, conf, self.source_id)
        return ()


# The concrete v2 set (typed, so compute_v2_evidence_snapshot can hand each the shared Signals).
_V2: Final = (
    ClassicalRegimeV2(),
    FlowPressureV2(),
    VolatilityContextV2(),
    DerivativesPositioningV2(),
    LiquidationsV2(),
    StructureV2(),
)
OBSERVERS_V2: Final[tuple[EngineEvidenceObserver, ...]] = _V2


def compute_v2_evidence_snapshot(snapshot: FeatureSnapshot, config: ComposerConfig) -> EvidenceSnapshot:
    """compute_engine_evidence_snapshot(snapshot, OBSERVERS_V2, config), reading Signals once."""
    signals = Signals.read(snapshot.features, config.observers_v2)
    opinions: list[EvidenceOpinion] = []
    for observer in _V2:
        opinions.extend(observer.emit(snapshot, config, signals))
    return engine_evidence_snapshot(snapshot, opinions)


def winner(opinions: Sequence[EvidenceOpinion]) -> Regime | None:
    """Winner-take-all as the engine applies it: strength, then confidence, then enum order."""
    order = {r: i for i, r in enumerate(Regime)}
    best: EvidenceOpinion | None = None
    for o in opinions:
        if best is None or (o.strength, o.confidence, -order[o.regime]) > (
            best.strength,
            best.confidence,
            -order[best.regime],
        ):
            best = o
    return None if best is None else best.regime
