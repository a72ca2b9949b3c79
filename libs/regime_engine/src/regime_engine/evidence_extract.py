"""Validate the composer evidence embedded in the snapshot; keep good opinions, report bad ones."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from regime_engine.contracts.evidence import EMBEDDED_EVIDENCE_KEY, EvidenceOpinion, opinion_sort_key
from regime_engine.contracts.regimes import regime_from_value
from regime_engine.contracts.snapshots import RegimeInputSnapshot

INVALID_EVIDENCE_FIELDS: Final = "INVALID_EVIDENCE_FIELDS"
INVALID_EVIDENCE_BOUNDS: Final = "INVALID_EVIDENCE_BOUNDS"
INVALID_EVIDENCE_REGIME: Final = "INVALID_EVIDENCE_REGIME"
INVALID_EVIDENCE_SYMBOL_MISMATCH: Final = "INVALID_EVIDENCE_SYMBOL_MISMATCH"
INVALID_EVIDENCE_TIMESTAMP_MISMATCH: Final = "INVALID_EVIDENCE_TIMESTAMP_MISMATCH"
DRIVER_NO_CANONICAL_EVIDENCE: Final = "DRIVER_NO_CANONICAL_EVIDENCE"


@dataclass(frozen=True, slots=True)
class EmbeddedEvidence:
    """Result of reading the carrier key: present?, kept opinions (canonical order), error codes."""

    present: bool
    opinions: tuple[EvidenceOpinion, ...]
    codes: tuple[str, ...]


ABSENT: Final = EmbeddedEvidence(present=False, opinions=(), codes=())


def _unit(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    f = float(value)
    return f if math.isfinite(f) and 0.0 <= f <= 1.0 else None


def read_embedded_evidence(snapshot: RegimeInputSnapshot) -> EmbeddedEvidence:
    """Parse structure_levels[EMBEDDED_EVIDENCE_KEY]; never raises."""
    levels = getattr(getattr(snapshot, "market", None), "structure_levels", None)
    if not isinstance(levels, Mapping):
        return ABSENT
    payload = levels.get(EMBEDDED_EVIDENCE_KEY)
    if not isinstance(payload, Mapping):
        return ABSENT
    codes: list[str] = []
    if payload.get("symbol") != snapshot.symbol:
        codes.append(INVALID_EVIDENCE_SYMBOL_MISMATCH)
    ts = payload.get("engine_timestamp_ms")
    if isinstance(ts, bool) or ts != snapshot.timestamp:
        codes.append(INVALID_EVIDENCE_TIMESTAMP_MISMATCH)
    if codes:
        return EmbeddedEvidence(present=True, opinions=(), codes=tuple(codes))
    raw = payload.get("opinions")
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes | bytearray):
        # Deviation (REC 17): the original dropped these silently.
        return EmbeddedEvidence(present=True, opinions=(), codes=(INVALID_EVIDENCE_FIELDS,))
    kept: list[EvidenceOpinion] = []
    for item in raw:
        code = None
        opinion = None
        if not isinstance(item, Mapping):
            code = INVALID_EVIDENCE_FIELDS
        else:
            regime_value, source = item.get("regime"), item.get("source")
            if not isinstance(regime_value, str) or not isinstance(source, str):
                code = INVALID_EVIDENCE_FIELDS
            else:
                regime = regime_from_value(regime_value)
                strength, confidence = _unit(item.get("strength")), _unit(item.get("confidence"))
                if regime is None:
                    code = INVALID_EVIDENCE_REGIME
                elif strength is None or confidence is None:
                    code = INVALID_EVIDENCE_BOUNDS
                else:
                    opinion = EvidenceOpinion(regime, strength, confidence, source)
        if opinion is not None:
            kept.append(opinion)
        elif code is not None and code not in codes:
            codes.append(code)
    kept.sort(key=opinion_sort_key)
    return EmbeddedEvidence(present=True, opinions=tuple(kept), codes=tuple(codes))
