"""Composer-local evidence (the output of compose()): typed, directional, stateless opinions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

EvidenceDirection = Literal["UP", "DOWN", "NEUTRAL"]

REGIME_OPINION: Final = "REGIME_OPINION"
FLOW_PRESSURE_OPINION: Final = "FLOW_PRESSURE_OPINION"
VOLATILITY_REGIME_OPINION: Final = "VOLATILITY_REGIME_OPINION"
DERIVATIVES_POSITIONING_OPINION: Final = "DERIVATIVES_POSITIONING_OPINION"
LIQUIDATION_OPINION: Final = "LIQUIDATION_OPINION"
STRUCTURE_OPINION: Final = "STRUCTURE_OPINION"


@dataclass(frozen=True, slots=True)
class EvidenceOpinion:
    """One composer-local opinion; `regime` (additive in v1) names the regime it votes for."""

    type: str
    direction: EvidenceDirection
    strength: float
    confidence: float
    source: str
    regime: str | None = None


@dataclass(frozen=True, slots=True)
class EvidenceSnapshot:
    """Composer-local opinions for one (symbol, engine ts), in canonical order."""

    schema: str
    schema_version: str
    symbol: str
    engine_timestamp_ms: int
    opinions: Sequence[EvidenceOpinion]


@dataclass(frozen=True, slots=True)
class EvidenceObserverDefinition:
    """Registry entry: observer id, its composer-local source id and the opinion type it emits."""

    observer_id: str
    source_id: str
    may_emit: tuple[str, ...]


EVIDENCE_OBSERVERS_V1: Final[tuple[EvidenceObserverDefinition, ...]] = (
    EvidenceObserverDefinition("classical_regime_v1", "composer.classical", (REGIME_OPINION,)),
    EvidenceObserverDefinition("flow_pressure_v1", "composer.flow", (FLOW_PRESSURE_OPINION,)),
    EvidenceObserverDefinition("volatility_context_v1", "composer.volatility", (VOLATILITY_REGIME_OPINION,)),
    EvidenceObserverDefinition(
        "derivatives_positioning_v1", "composer.derivatives", (DERIVATIVES_POSITIONING_OPINION,)
    ),
    EvidenceObserverDefinition("liquidations_v1", "composer.liquidations", (LIQUIDATION_OPINION,)),
    EvidenceObserverDefinition("structure_v1", "composer.structure", (STRUCTURE_OPINION,)),
)


def evidence_opinion_sort_key(opinion: EvidenceOpinion) -> tuple[str, str, str, float, float]:
    """Canonical order: type, source, direction ascending; strength, confidence descending."""
    return (opinion.type, opinion.source, opinion.direction, -opinion.strength, -opinion.confidence)


def order_evidence_opinions(opinions: Iterable[EvidenceOpinion]) -> tuple[EvidenceOpinion, ...]:
    """Stable sort by the canonical key."""
    return tuple(sorted(opinions, key=evidence_opinion_sort_key))


def evidence_opinion_to_dict(opinion: EvidenceOpinion) -> dict[str, Any]:
    """JSON-ready opinion (key order type, direction, strength, confidence, source[, regime])."""
    out: dict[str, Any] = {
        "type": opinion.type,
        "direction": opinion.direction,
        "strength": opinion.strength,
        "confidence": opinion.confidence,
        "source": opinion.source,
    }
    if opinion.regime is not None:
        out["regime"] = opinion.regime
    return out


def evidence_snapshot_to_dict(snapshot: EvidenceSnapshot) -> dict[str, Any]:
    """JSON-ready snapshot; opinions re-sorted canonically."""
    return {
        "schema": snapshot.schema,
        "schema_version": snapshot.schema_version,
        "symbol": snapshot.symbol,
        "engine_timestamp_ms": snapshot.engine_timestamp_ms,
        "opinions": [evidence_opinion_to_dict(o) for o in order_evidence_opinions(snapshot.opinions)],
    }
