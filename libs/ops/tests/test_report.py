"""The replay report from output events: runs, regime time share and transitions, gate ratio, artifacts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from consumers.analysis_engine.testing import gate_event
from consumers.state_gate import samples
from xray_contracts.analysis_engine import AnalysisEngineEvent, ArtifactEmittedPayload, RunStatusPayload
from xray_contracts.orchestrator_event import OrchestratorEvent, OrchestratorPayload
from xray_contracts.state_gate import GATE_CLOSED, GATE_OPEN
from xray_ops.report import (
    build_results,
    comparable,
    render_compare,
    render_markdown,
    runs_from_events,
)

W = 180_000


def completed(symbol: str, ts: int, regime: str, anchor: str | None = None) -> list[OrchestratorEvent]:
    """A run's terminal event, plus its hysteresis event when an anchor is given."""
    run_id = f"{symbol}-{ts}"
    event = samples.completed(run_id, ts, symbol=symbol)
    assert event.payload is not None
    assert event.payload.regime_output is not None
    output = replace(event.payload.regime_output, regime=regime)
    events = [replace(event, payload=OrchestratorPayload(regime_output=output))]
    if anchor is not None:
        hyst = samples.hysteresis(run_id, ts, symbol=symbol)
        assert hyst.payload is not None
        assert hyst.payload.hysteresis_state is not None
        state = replace(hyst.payload.hysteresis_state, anchor_regime=anchor)
        events.insert(0, replace(hyst, payload=OrchestratorPayload(hysteresis_state=state)))
    return [samples.started(run_id, ts, symbol=symbol), *events]


def artifact(symbol: str, module: str, kind: str = "signal") -> AnalysisEngineEvent:
    """An ArtifactEmitted event of one module."""
    payload = ArtifactEmittedPayload(
        artifact_kind=kind,
        module_id=module,
        artifact_name="x",
        artifact_schema="s",
        artifact_schema_version="1",
    )
    return AnalysisEngineEvent(
        event_type="ArtifactEmitted", symbol=symbol, run_id="r", engine_timestamp_ms=1, payload=payload
    )


def run_status(symbol: str, status: str) -> AnalysisEngineEvent:
    """An AnalysisRunCompleted event with a status."""
    return AnalysisEngineEvent(
        event_type="AnalysisRunCompleted",
        symbol=symbol,
        run_id="r",
        engine_timestamp_ms=1,
        payload=RunStatusPayload(status=status),
    )


def sample_results() -> dict[str, Any]:
    events = [
        *completed("BTCUSDT", 1 * W, "CHOP_BALANCED", anchor="CHOP_BALANCED"),
        *completed("BTCUSDT", 2 * W, "SQUEEZE_UP", anchor="CHOP_BALANCED"),
        *completed("BTCUSDT", 3 * W, "SQUEEZE_UP", anchor="SQUEEZE_UP"),
        *completed("BTCUSDT", 5 * W, "SQUEEZE_UP", anchor="SQUEEZE_UP"),  # one boundary without a run
        samples.failed("BTCUSDT-6", 6 * W, symbol="BTCUSDT"),
        *completed("ETHUSDT", 1 * W, "TREND_BUILD_UP"),  # truth mode: the truth regime is the regime
    ]
    gates = [
        gate_event("a", symbol="BTCUSDT", gate_status=GATE_OPEN),
        gate_event("b", symbol="BTCUSDT", gate_status=GATE_CLOSED),
        gate_event("c", symbol="BTCUSDT", gate_status=GATE_OPEN),
        gate_event("d", symbol="BTCUSDT", gate_status=GATE_OPEN),
        gate_event("e", symbol="BTCUSDT", event_type="StateReset"),
        gate_event("f", symbol="ETHUSDT", gate_status=GATE_CLOSED),
    ]
    analysis = [
        artifact("BTCUSDT", "signal.regime"),
        artifact("BTCUSDT", "signal.regime"),
        artifact("ETHUSDT", "detector.crowding", "detection"),
        run_status("BTCUSDT", "SUCCESS"),
        run_status("ETHUSDT", "PARTIAL"),
    ]
    return build_results(
        raw_by_symbol={"BTCUSDT": 10, "ETHUSDT": 5},
        raw_by_type={"TradeTick": 15},
        orchestrator=events,
        gate=gates,
        analysis=analysis,
        alerts=2,
        digests={"orchestrator_event": {"records": 3, "sha256": "ab" * 32}},
    )


def test_runs_take_the_hysteresis_anchor_as_effective_regime() -> None:
    runs = runs_from_events(completed("BTCUSDT", W, "SQUEEZE_UP", anchor="CHOP_BALANCED"))
    assert [(r.truth_regime, r.effective_regime, r.status) for r in runs] == [
        ("SQUEEZE_UP", "CHOP_BALANCED", "completed")
    ]


def test_results_per_symbol() -> None:
    results = sample_results()
    btc = results["symbols"]["BTCUSDT"]
    assert (btc["runs"], btc["runs_completed"], btc["runs_failed"]) == (5, 4, 1)
    # Effective regimes CHOP (w=180k), CHOP (180k), SQUEEZE (360k: the gap), SQUEEZE (median 180k).
    assert btc["regimes"]["time_share"] == {"CHOP_BALANCED": 0.4, "SQUEEZE_UP": 0.6}
    assert btc["regimes"]["transitions"] == 1
    assert btc["regimes"]["transition_counts"] == {"CHOP_BALANCED->SQUEEZE_UP": 1}
    assert btc["truth_regimes"]["transitions"] == 1
    assert btc["truth_regimes"]["time_share"] == {"CHOP_BALANCED": 0.2, "SQUEEZE_UP": 0.8}
    assert btc["gate"] == {"evaluated": 4, "open": 3, "resets": 1, "halts": 0, "open_ratio": 0.75}
    eth = results["symbols"]["ETHUSDT"]
    assert eth["regimes"]["time_share"] == {"TREND_BUILD_UP": 1.0}
    assert eth["gate"]["open_ratio"] == 0.0
    assert results["gate_open_ratio"] == 0.6
    assert results["runs"] == 6
    assert results["raw_events"] == 15
    assert results["analysis"]["artifacts_per_module"] == {"detector.crowding": 1, "signal.regime": 2}
    assert results["analysis"]["runs_by_status"] == {"PARTIAL": 1, "SUCCESS": 1}
    assert results["analysis"]["alerts"] == 2


def test_markdown_and_compare_name_the_numbers() -> None:
    results = sample_results()
    report = {
        "id": "a",
        "namespace": "bt-a",
        "source": {"kind": "recording", "files": [{"name": "x.gz"}]},
        "config": {"fingerprint": "defaults"},
        "results": results,
        "timing": {"ingest_s": 1.0, "pipeline_s": 2.0, "total_s": 3.0, "raw_events_per_s": 7.5},
    }
    text = render_markdown(report)
    assert "| BTCUSDT | 10 | 5 | 1 | SQUEEZE_UP 60.0%, CHOP_BALANCED 40.0% | 1 | 75.0% | 1/0 |" in text
    assert "| signal.regime | 2 |" in text
    assert "throughput 8 raw events/s" in text
    other = {**report, "id": "b", "results": {**results, "runs": 7}}
    compared = render_compare(report, other)
    assert "engine runs 6 vs 7" in compared
    assert "output topics identical (masked digests): yes" in compared
    assert comparable(report) == comparable({**report, "id": "zzz", "namespace": "bt-zzz", "timing": {}})
