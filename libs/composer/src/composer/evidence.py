"""Composer-local evidence: the v2 engine opinions re-expressed as typed, directional opinions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from composer.config import DEFAULT_CONFIG, ComposerConfig
from composer.contracts.evidence import (
    EVIDENCE_OBSERVERS_V1,
    EvidenceDirection,
    EvidenceOpinion,
    EvidenceSnapshot,
    order_evidence_opinions,
)
from composer.contracts.feature_snapshot import FeatureSnapshot
from composer.observers_v2 import compute_v2_evidence_snapshot

# Engine source id prefix (observer family) -> (opinion type, composer-local source id).
_LOCAL_BY_FAMILY: Final[Mapping[str, tuple[str, str]]] = {
    d.observer_id.rsplit("_v", 1)[0]: (d.may_emit[0], d.source_id) for d in EVIDENCE_OBSERVERS_V1
}


def _direction(regime: str) -> EvidenceDirection:
    if regime.endswith("_UP"):
        return "UP"
    if regime.endswith("_DOWN"):
        return "DOWN"
    return "NEUTRAL"


def compute_evidence_snapshot(
    snapshot: FeatureSnapshot, config: ComposerConfig = DEFAULT_CONFIG
) -> EvidenceSnapshot:
    """Run the v2 observers and express each opinion as (type, direction, strength, confidence, source)."""
    engine = compute_v2_evidence_snapshot(snapshot, config)
    local: list[EvidenceOpinion] = []
    for o in engine.opinions:
        family = o.source.split(":", 1)[-1].rsplit("_v", 1)[0]
        kind, source = _LOCAL_BY_FAMILY[family]
        local.append(
            EvidenceOpinion(
                kind, _direction(o.regime.value), o.strength, o.confidence, source, o.regime.value
            )
        )
    return EvidenceSnapshot(
        "evidence_snapshot",
        "1",
        snapshot.symbol,
        snapshot.engine_timestamp_ms,
        order_evidence_opinions(local),
    )
