"""Build the engine's RegimeInputSnapshot from features (or a SnapshotInputs pass-through) and
embed the engine-addressed evidence under the reserved carrier key."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from regime_engine.contracts.evidence import EvidenceSnapshot
from regime_engine.contracts.missing import MISSING, Missing
from regime_engine.contracts.snapshots import (
    ContextSnapshot,
    DerivativesSnapshot,
    FlowSnapshot,
    MarketSnapshot,
    RegimeInputSnapshot,
)
from xray_contracts.raw_market_event import RawMarketEvent

from composer.contracts.feature_snapshot import FeatureSnapshot, feature_value
from composer.engine_evidence import EMBEDDED_EVIDENCE_KEY

_log = logging.getLogger("composer.legacy_snapshot")

# Snapshot field -> feature key (Option B). Fields not listed come from elsewhere (see spec).
MARKET_FIELDS: Mapping[str, str] = {
    "price": "price_last",
    "vwap": "vwap_3m",
    "atr": "atr_14",
    "atr_z": "atr_z_50",
    "range_expansion": "range_expansion_3m",
    "acceptance_score": "acceptance_score_15m",
    "sweep_score": "sweep_score_3m",
}
DERIVATIVES_FIELDS: Mapping[str, str] = {
    "open_interest": "open_interest_latest",
    "oi_slope_short": "oi_slope_15m",
    "oi_slope_med": "oi_slope_1h",
    "oi_accel": "oi_accel_15m",
    "funding_rate": "funding_rate_latest",
    "funding_slope": "funding_slope_15m",
    "funding_z": "funding_z_lookback",
    "liquidation_intensity": "liquidation_intensity_3m",
}
FLOW_FIELDS: Mapping[str, str] = {
    "cvd": "cvd_3m",
    "cvd_slope": "cvd_slope_15m",
    "cvd_efficiency": "cvd_efficiency_3m",
    "aggressive_volume_ratio": "aggressive_volume_ratio_3m",
}
CONTEXT_FIELDS: Mapping[str, str] = {
    "rs_vs_btc": "rs_vs_btc_1h",
    "beta_to_btc": "beta_to_btc_50",
    "alt_breadth": "alt_breadth_1h",
}


def _feature(features: Mapping[str, float | None], key: str) -> float | Missing:
    value = feature_value(features, key)
    return MISSING if value is None else value


def select_snapshot_inputs(
    events: Sequence[RawMarketEvent], symbol: str, engine_timestamp_ms: int
) -> RawMarketEvent | None:
    """The last SnapshotInputs event of the cut for this symbol and engine timestamp."""
    candidates = [ev for ev in events if ev.event_type == "SnapshotInputs"]
    chosen: RawMarketEvent | None = None
    for ev in candidates:
        if ev.symbol == symbol and ev.normalized.get("timestamp_ms") == engine_timestamp_ms:
            chosen = ev
    return chosen


def _passthrough(cls: type[Any], payload: object) -> Any:
    """Option A: each declared field as-is when present in the payload, else MISSING."""
    names = [f.name for f in dataclasses.fields(cls)]
    if not isinstance(payload, Mapping):
        return cls(*([MISSING] * len(names)))
    return cls(*(payload.get(n, MISSING) for n in names))


def _option_a(n: Mapping[str, Any], symbol: str, engine_timestamp_ms: int) -> RegimeInputSnapshot:
    return RegimeInputSnapshot(
        symbol,
        engine_timestamp_ms,
        _passthrough(MarketSnapshot, n.get("market")),
        _passthrough(DerivativesSnapshot, n.get("derivatives")),
        _passthrough(FlowSnapshot, n.get("flow")),
        _passthrough(ContextSnapshot, n.get("context")),
    )


def _option_b(
    *,
    features: Mapping[str, float | None],
    symbol: str,
    engine_timestamp_ms: int,
    structure_levels: Mapping[str, Any] | None,
    btc_regime: str | None,
    eth_regime: str | None,
) -> RegimeInputSnapshot:
    m = {k: _feature(features, v) for k, v in MARKET_FIELDS.items()}
    d = {k: _feature(features, v) for k, v in DERIVATIVES_FIELDS.items()}
    fl = {k: _feature(features, v) for k, v in FLOW_FIELDS.items()}
    c = {k: _feature(features, v) for k, v in CONTEXT_FIELDS.items()}
    market = MarketSnapshot(
        price=m["price"],
        vwap=m["vwap"],
        atr=m["atr"],
        atr_z=m["atr_z"],
        range_expansion=m["range_expansion"],
        structure_levels=dict(structure_levels or {}),
        acceptance_score=m["acceptance_score"],
        sweep_score=m["sweep_score"],
    )
    derivatives = DerivativesSnapshot(**d)
    flow = FlowSnapshot(**fl)
    context = ContextSnapshot(**c, btc_regime=btc_regime, eth_regime=eth_regime)
    return RegimeInputSnapshot(symbol, engine_timestamp_ms, market, derivatives, flow, context)


def evidence_payload(evidence: EvidenceSnapshot) -> dict[str, Any]:
    """The embedded wire form: symbol, engine_timestamp_ms and the opinions in their order."""
    return {
        "symbol": evidence.symbol,
        "engine_timestamp_ms": evidence.engine_timestamp_ms,
        "opinions": [
            {"regime": o.regime.value, "strength": o.strength, "confidence": o.confidence, "source": o.source}
            for o in evidence.opinions
        ],
    }


def embed_engine_evidence(snapshot: RegimeInputSnapshot, evidence: EvidenceSnapshot) -> RegimeInputSnapshot:
    """Write (or, with zero opinions, remove) the carrier key; never mutates the input."""
    levels = snapshot.market.structure_levels
    if evidence.opinions:
        new_levels = dict(levels) if isinstance(levels, Mapping) else {}
        new_levels[EMBEDDED_EVIDENCE_KEY] = evidence_payload(evidence)
        market = dataclasses.replace(snapshot.market, structure_levels=new_levels)
        return dataclasses.replace(snapshot, market=market)
    if isinstance(levels, Mapping) and EMBEDDED_EVIDENCE_KEY in levels:
        kept = {k: v for k, v in levels.items() if k != EMBEDDED_EVIDENCE_KEY}
        return dataclasses.replace(
            snapshot, market=dataclasses.replace(snapshot.market, structure_levels=kept)
        )
    return snapshot


def build_legacy_snapshot(
    raw_events: Sequence[RawMarketEvent],
    *,
    symbol: str,
    engine_timestamp_ms: int,
    feature_snapshot: FeatureSnapshot,
    evidence_snapshot: EvidenceSnapshot,
    structure_levels: Mapping[str, Any] | None = None,
    btc_regime: str | None = None,
    eth_regime: str | None = None,
) -> RegimeInputSnapshot:
    """Option A (a matching SnapshotInputs event wins whole) or Option B (from features), then embed."""
    chosen = select_snapshot_inputs(tuple(raw_events), symbol, engine_timestamp_ms)
    return build_engine_snapshot(
        symbol=symbol,
        engine_timestamp_ms=engine_timestamp_ms,
        feature_snapshot=feature_snapshot,
        evidence_snapshot=evidence_snapshot,
        snapshot_inputs=None if chosen is None else chosen.normalized,
        structure_levels=structure_levels,
        btc_regime=btc_regime,
        eth_regime=eth_regime,
    )


def build_engine_snapshot(
    *,
    symbol: str,
    engine_timestamp_ms: int,
    feature_snapshot: FeatureSnapshot,
    evidence_snapshot: EvidenceSnapshot,
    snapshot_inputs: Mapping[str, Any] | None = None,
    structure_levels: Mapping[str, Any] | None = None,
    btc_regime: str | None = None,
    eth_regime: str | None = None,
) -> RegimeInputSnapshot:
    """Option A from a SnapshotInputs payload when given, else Option B from features; then embed."""
    if snapshot_inputs is not None:
        snapshot = _option_a(snapshot_inputs, symbol, engine_timestamp_ms)
    else:
        snapshot = _option_b(
            features=feature_snapshot.features,
            symbol=symbol,
            engine_timestamp_ms=engine_timestamp_ms,
            structure_levels=structure_levels,
            btc_regime=btc_regime,
            eth_regime=eth_regime,
        )
    return embed_engine_evidence(snapshot, evidence_snapshot)
