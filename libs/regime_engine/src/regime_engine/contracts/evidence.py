"""Evidence opinions (the belief-update input) and the embedded carrier inside the snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from regime_engine.contracts.regimes import Regime

# Reserved, frozen key under snapshot.market.structure_levels that carries composer evidence.
EMBEDDED_EVIDENCE_KEY: Final = "composer_evidence_snapshot_v1"

# Source id of the engine's own snapshot-field scorer (v2: real scores; v1 was all-zero stubs).
CLASSICAL_SOURCE_ID: Final = "classical_resolution_v2"


@dataclass(frozen=True, slots=True)
class EvidenceOpinion:
    """One observer's vote: regime, strength in [0,1], observer quality in [0,1], source id."""

    regime: Regime
    strength: float
    confidence: float
    source: str


@dataclass(frozen=True, slots=True)
class EvidenceSnapshot:
    """All opinions for one (symbol, engine timestamp); opinions in canonical order."""

    symbol: str
    engine_timestamp_ms: int
    opinions: tuple[EvidenceOpinion, ...]


def opinion_sort_key(opinion: EvidenceOpinion) -> tuple[str, str, float, float]:
    """Canonical opinion order: regime value asc, source asc, confidence desc, strength desc."""
    return (opinion.regime.value, opinion.source, -opinion.confidence, -opinion.strength)


def evidence_to_payload(evidence: EvidenceSnapshot) -> dict[str, Any]:
    """Wire form of an evidence snapshot as embedded under EMBEDDED_EVIDENCE_KEY."""
    return {
        "symbol": evidence.symbol,
        "engine_timestamp_ms": evidence.engine_timestamp_ms,
        "opinions": [
            {
                "regime": o.regime.value,
                "strength": o.strength,
                "confidence": o.confidence,
                "source": o.source,
            }
            for o in evidence.opinions
        ],
    }
