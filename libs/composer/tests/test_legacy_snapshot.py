"""Legacy RegimeInputSnapshot: Option A pass-through, Option B mapping, evidence embedding (items 35-42)."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any

from composer.contracts.feature_snapshot import FeatureSnapshot
from composer.engine_evidence import EMBEDDED_EVIDENCE_KEY, compute_engine_evidence_snapshot
from composer.legacy_snapshot import build_legacy_snapshot, embed_engine_evidence
from regime_engine.contracts.evidence import EvidenceOpinion, EvidenceSnapshot
from regime_engine.contracts.missing import MISSING
from regime_engine.contracts.regimes import Regime
from xray_contracts.raw_market_event import RawMarketEvent

ONE = EvidenceSnapshot("TEST", 180000, (EvidenceOpinion(Regime.CHOP_BALANCED, 0.0, 0.0, "composer:x"),))
NONE = EvidenceSnapshot("TEST", 180000, ())


def fsnap(**features: float | None) -> FeatureSnapshot:
    return FeatureSnapshot("feature_snapshot", "1", "TEST", 180000, MappingProxyType(features))


def inputs(ts: int = 180000, symbol: str = "TEST", **parts: Any) -> RawMarketEvent:
    return RawMarketEvent(
        "raw_market_event", "1", "SnapshotInputs", "src", symbol, None, 0, b"", {"timestamp_ms": ts, **parts}
    )


def build(events: list[RawMarketEvent], features: FeatureSnapshot, evidence: EvidenceSnapshot) -> Any:
    return build_legacy_snapshot(
        events,
        symbol="TEST",
        engine_timestamp_ms=180000,
        feature_snapshot=features,
        evidence_snapshot=evidence,
    )


def test_option_a_passthrough_wins() -> None:
    ev = inputs(
        market={"price": 2.0},
        derivatives={"open_interest": 5.0},
        flow={"cvd": 3.0},
        context={"rs_vs_btc": 1.0},
    )
    s = build([ev], fsnap(price_last=1.0), ONE)
    assert s.market.price == 2.0
    assert s.derivatives.open_interest == 5.0
    assert s.flow.cvd == 3.0
    assert s.context.rs_vs_btc == 1.0
    assert s.market.vwap is MISSING
    assert s.derivatives.funding_rate is MISSING
    assert EMBEDDED_EVIDENCE_KEY in s.market.structure_levels


def test_option_a_selection_rules() -> None:
    first = inputs(market={"price": 1.0})
    last = inputs(market={"price": 9.0})
    assert build([first, last], fsnap(), ONE).market.price == 9.0
    other = build(
        [inputs(ts=1, market={"price": 1.0}), inputs(symbol="X", market={"price": 1.0})],
        fsnap(price_last=4.0),
        ONE,
    )
    assert other.market.price == 4.0  # Option B
    assert build([inputs(market={"price": 1.0})], fsnap(), ONE).context.btc_regime is MISSING


def test_option_b_mapping_and_missing() -> None:
    f = fsnap(
        price_last=1.2,
        vwap_3m=1.0,
        atr_14=0.5,
        atr_z_50=0.2,
        cvd_3m=10.0,
        open_interest_latest=20.0,
        aggressive_volume_ratio_3m=0.6,
    )
    s = build([], f, NONE)
    assert (s.market.price, s.market.vwap, s.market.atr, s.market.atr_z) == (1.2, 1.0, 0.5, 0.2)
    assert (s.flow.cvd, s.derivatives.open_interest, s.flow.aggressive_volume_ratio) == (10.0, 20.0, 0.6)
    assert s.market.range_expansion is MISSING
    assert s.flow.cvd_slope is MISSING
    assert s.derivatives.liquidation_intensity is MISSING
    assert s.context.btc_regime is None
    assert s.context.eth_regime is None
    assert EMBEDDED_EVIDENCE_KEY not in s.market.structure_levels


def test_option_b_alias_keys() -> None:
    f = FeatureSnapshot(
        "feature_snapshot",
        "1",
        "TEST",
        180000,
        MappingProxyType(
            {"price": 1.1, "vwap": 1.0, "atr": 0.5, "atr_z": 0.2, "cvd": 5.0, "open_interest": 10.0}
        ),
    )
    s = build([], f, NONE)
    assert (
        s.market.price,
        s.market.vwap,
        s.market.atr,
        s.market.atr_z,
        s.flow.cvd,
        s.derivatives.open_interest,
    ) == (
        1.1,
        1.0,
        0.5,
        0.2,
        5.0,
        10.0,
    )


def test_embedding_rules() -> None:
    s = build([], fsnap(), ONE)
    payload = s.market.structure_levels[EMBEDDED_EVIDENCE_KEY]
    assert payload == {
        "symbol": "TEST",
        "engine_timestamp_ms": 180000,
        "opinions": [{"regime": "CHOP_BALANCED", "strength": 0.0, "confidence": 0.0, "source": "composer:x"}],
    }
    plain = build([], fsnap(), NONE)
    existing = dataclasses.replace(
        plain, market=dataclasses.replace(plain.market, structure_levels={"existing": 1})
    )
    embedded = embed_engine_evidence(existing, ONE)
    levels = embedded.market.structure_levels
    assert isinstance(levels, dict)
    assert levels["existing"] == 1
    assert existing.market.structure_levels == {"existing": 1}  # input not mutated
    removed = embed_engine_evidence(embedded, NONE).market.structure_levels
    assert isinstance(removed, dict)
    assert EMBEDDED_EVIDENCE_KEY not in removed
    assert embed_engine_evidence(plain, NONE) is plain


def test_option_a_without_structure_levels() -> None:
    assert build([inputs(market={"price": 1.0})], fsnap(), NONE).market.structure_levels is MISSING
    with_ev = build([inputs(market={"price": 1.0})], fsnap(), ONE)
    assert list(with_ev.market.structure_levels) == [EMBEDDED_EVIDENCE_KEY]


def test_empty_features_still_carry_classical_v1() -> None:
    f = fsnap()
    s = build([], f, compute_engine_evidence_snapshot(f))
    assert EMBEDDED_EVIDENCE_KEY in s.market.structure_levels
