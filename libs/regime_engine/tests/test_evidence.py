"""Embedded composer evidence: validation codes, canonical order, mismatches (fact sheet §4.8, §9 32-37)."""

from __future__ import annotations

from regime_engine.contracts.evidence import EvidenceOpinion, EvidenceSnapshot, evidence_to_payload
from regime_engine.contracts.regimes import Regime
from regime_engine.engine import run
from regime_engine.evidence_extract import (
    DRIVER_NO_CANONICAL_EVIDENCE,
    INVALID_EVIDENCE_BOUNDS,
    INVALID_EVIDENCE_FIELDS,
    INVALID_EVIDENCE_REGIME,
    INVALID_EVIDENCE_SYMBOL_MISMATCH,
    INVALID_EVIDENCE_TIMESTAMP_MISMATCH,
    read_embedded_evidence,
)
from regime_engine.samples import missing_snapshot, neutral_snapshot, with_evidence


def _payload(*opinions: dict[str, object], symbol: str = "TEST", ts: int = 180_000) -> dict[str, object]:
    return {"symbol": symbol, "engine_timestamp_ms": ts, "opinions": list(opinions)}


def _op(regime: str, strength: object, confidence: object, source: object = "s") -> dict[str, object]:
    return {"regime": regime, "strength": strength, "confidence": confidence, "source": source}


def test_invalid_opinions_are_dropped_with_codes() -> None:
    snap = with_evidence(
        neutral_snapshot(), _payload(_op("UNKNOWN_REGIME", 0.5, 0.5), _op("CHOP_BALANCED", 2.0, 0.5))
    )
    ev = read_embedded_evidence(snap)
    assert ev.opinions == ()
    assert ev.codes == (INVALID_EVIDENCE_REGIME, INVALID_EVIDENCE_BOUNDS)
    out = run(snap)
    assert INVALID_EVIDENCE_REGIME in out.invalidations
    assert INVALID_EVIDENCE_BOUNDS in out.invalidations
    assert DRIVER_NO_CANONICAL_EVIDENCE in out.drivers


def test_field_errors_and_bools() -> None:
    snap = with_evidence(
        neutral_snapshot(),
        _payload("not-a-mapping", _op("CHOP_BALANCED", True, 0.5), _op("CHOP_BALANCED", 0.5, 0.5, source=3)),  # type: ignore[arg-type]
    )
    ev = read_embedded_evidence(snap)
    assert ev.opinions == ()
    assert ev.codes == (INVALID_EVIDENCE_FIELDS, INVALID_EVIDENCE_BOUNDS)


def test_canonical_order() -> None:
    snap = with_evidence(
        neutral_snapshot(),
        _payload(
            _op("TREND_BUILD_UP", 0.1, 0.2, "b"),
            _op("CHOP_BALANCED", 0.9, 0.3, "a"),
            _op("CHOP_BALANCED", 0.4, 0.5, "a"),
        ),
    )
    ops = read_embedded_evidence(snap).opinions
    assert [(o.regime, o.confidence) for o in ops] == [
        (Regime.CHOP_BALANCED, 0.5),
        (Regime.CHOP_BALANCED, 0.3),
        (Regime.TREND_BUILD_UP, 0.2),
    ]


def test_symbol_and_timestamp_mismatch() -> None:
    snap = with_evidence(neutral_snapshot(), _payload(_op("TREND_BUILD_UP", 1.0, 1.0), symbol="OTHER", ts=42))
    out = run(snap)
    assert out.regime is Regime.CHOP_BALANCED
    assert DRIVER_NO_CANONICAL_EVIDENCE in out.drivers
    assert out.invalidations[:2] == (INVALID_EVIDENCE_SYMBOL_MISMATCH, INVALID_EVIDENCE_TIMESTAMP_MISMATCH)


def test_non_list_opinions_is_flagged() -> None:
    # Deviation (fact sheet REC 17): the original dropped these silently.
    snap = with_evidence(
        neutral_snapshot(), {"symbol": "TEST", "engine_timestamp_ms": 180_000, "opinions": "x"}
    )
    out = run(snap)
    assert INVALID_EVIDENCE_FIELDS in out.invalidations
    assert DRIVER_NO_CANONICAL_EVIDENCE in out.drivers


def test_non_mapping_payload_is_ignored() -> None:
    snap = with_evidence(neutral_snapshot(), "garbage")  # type: ignore[arg-type]
    assert run(snap) == run(neutral_snapshot())


def test_evidence_alone_decides_without_snapshot_data() -> None:
    snap = with_evidence(missing_snapshot(), _payload(_op("TREND_BUILD_UP", 0.8, 0.9, "composer:x")))
    out = run(snap)
    assert out.regime is Regime.TREND_BUILD_UP
    assert out.drivers[0] == "composer:x"
    assert out.permissions[0] == "TREND_BUILD_UP"


def test_strongest_opinion_wins_and_ties_go_to_lower_enum_index() -> None:
    snap = with_evidence(
        missing_snapshot(), _payload(_op("TREND_BUILD_UP", 0.4, 1.0, "b"), _op("SQUEEZE_UP", 0.8, 1.0, "a"))
    )
    out = run(snap)
    assert out.regime is Regime.SQUEEZE_UP
    assert out.drivers[0] == "a"
    tie = with_evidence(
        missing_snapshot(), _payload(_op("TREND_BUILD_UP", 0.5, 1.0, "b"), _op("SQUEEZE_UP", 0.5, 1.0, "a"))
    )
    assert run(tie).regime is Regime.SQUEEZE_UP


def test_graded_belief_not_one_hot() -> None:
    snap = with_evidence(missing_snapshot(), _payload(_op("TREND_BUILD_UP", 1.0, 0.5, "x")))
    belief = run(snap).belief_by_regime
    assert belief is not None
    assert abs(sum(belief.values()) - 1.0) < 1e-9
    assert all(0.0 <= v <= 1.0 for v in belief.values())
    assert max(belief, key=lambda k: belief[k]) == "TREND_BUILD_UP"
    assert 0.0 < belief["TREND_BUILD_UP"] < 1.0


def test_payload_helper_round_trips() -> None:
    ev = EvidenceSnapshot("TEST", 180_000, (EvidenceOpinion(Regime.SQUEEZE_DOWN, 0.5, 0.25, "src"),))
    parsed = read_embedded_evidence(with_evidence(neutral_snapshot(), evidence_to_payload(ev)))
    assert parsed.opinions == ev.opinions
    assert parsed.codes == ()
