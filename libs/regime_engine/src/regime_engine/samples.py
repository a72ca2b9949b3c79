"""Ready-made snapshots (the fact sheet's neutral fixture, an all-missing one) for tests and demos."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from regime_engine.contracts.evidence import EMBEDDED_EVIDENCE_KEY
from regime_engine.contracts.missing import MISSING
from regime_engine.contracts.snapshots import (
    ContextSnapshot,
    DerivativesSnapshot,
    FlowSnapshot,
    MarketSnapshot,
    RegimeInputSnapshot,
)


def neutral_snapshot(symbol: str = "TEST", timestamp: int = 180_000) -> RegimeInputSnapshot:
    """The original tests' neutral snapshot (price = vwap = atr = 1, OI 1, everything else 0)."""
    return RegimeInputSnapshot(
        symbol=symbol,
        timestamp=timestamp,
        market=MarketSnapshot(1.0, 1.0, 1.0, 0.0, 0.0, {}, 0.0, 0.0),
        derivatives=DerivativesSnapshot(1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, None),
        flow=FlowSnapshot(0.0, 0.0, 0.0, 0.0),
        context=ContextSnapshot(0.0, 0.0, 0.0, None, None),
    )


def missing_snapshot(symbol: str = "TEST", timestamp: int = 180_000) -> RegimeInputSnapshot:
    """Every field MISSING except structure_levels ({}), symbol and timestamp."""
    return RegimeInputSnapshot(
        symbol=symbol,
        timestamp=timestamp,
        market=MarketSnapshot(MISSING, MISSING, MISSING, MISSING, MISSING, {}, MISSING, MISSING),
        derivatives=DerivativesSnapshot(
            MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING, MISSING
        ),
        flow=FlowSnapshot(MISSING, MISSING, MISSING, MISSING),
        context=ContextSnapshot(MISSING, MISSING, MISSING, MISSING, MISSING),
    )


def with_fields(snapshot: RegimeInputSnapshot, **paths: Any) -> RegimeInputSnapshot:
    """Copy with fields replaced, addressed as sub__field (e.g. market__price=2.0)."""
    groups: dict[str, dict[str, Any]] = {}
    for key, value in paths.items():
        sub, _, name = key.partition("__")
        groups.setdefault(sub, {})[name] = value
    changes = {sub: dataclasses.replace(getattr(snapshot, sub), **vals) for sub, vals in groups.items()}
    return dataclasses.replace(snapshot, **changes)


def with_evidence(snapshot: RegimeInputSnapshot, payload: Mapping[str, Any]) -> RegimeInputSnapshot:
    """Copy with `payload` embedded under the carrier key."""
    levels = snapshot.market.structure_levels
    base = dict(levels) if isinstance(levels, Mapping) else {}
    base[EMBEDDED_EVIDENCE_KEY] = payload
    return with_fields(snapshot, market__structure_levels=base)
