"""Each deviation from the original listed in Planning/consumers/dashboards/spec.md §6, numbered as there."""

from __future__ import annotations

import orjson
from consumers.dashboards import BuilderConfig, DashboardBuilder
from consumers.dashboards import contracts as c
from consumers.dashboards.testing import analysis, artifact, completed, gate, hysteresis, orchestrator, regime
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.state_gate import EVENT_STATE_RESET


def only(builder: DashboardBuilder, as_of: int = 1) -> c.SymbolSnapshot:
    symbols = builder.build_snapshot(as_of_ts_ms=as_of).symbols
    assert len(symbols) == 1
    return symbols[0]


def trend_of(builder: DashboardBuilder) -> str:
    h = only(builder).hysteresis
    assert h is not None
    assert h.summary is not None
    return h.summary.confidence_trend


def test_1_timestamps_never_move_backwards() -> None:
    builder = DashboardBuilder()
    builder.ingest_analysis_engine_event(completed("r2", 500))
    builder.ingest_analysis_engine_event(analysis("AnalysisRunStarted", "r1", 400))
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "r1", 400))
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "r0", 300))
    dvm = builder.build_snapshot(as_of_ts_ms=1000)
    assert dvm.telemetry.ingest.last_analysis_engine_event_ts_ms == 500
    assert dvm.telemetry.ingest.last_orchestrator_event_ts_ms == 400
    s = dvm.symbols[0]
    assert (s.last_run_id, s.last_engine_timestamp_ms) == ("r2", 500)
    assert s.last_update_ts_ms == 500


def test_2_equal_timestamps_are_decided_by_run_id_not_arrival() -> None:
    results = []
    events = [gate("run-b", 100, "OPEN", ["b"]), gate("run-a", 100, "CLOSED", ["a"])]
    for order in (events, events[::-1]):
        builder = DashboardBuilder()
        for event in order:
            builder.ingest_state_gate_event(event)
        results.append(only(builder).gate)
    assert results == [c.GateSnapshot("OPEN", ("b",))] * 2


def test_3_confidence_trend_holds_until_the_next_update() -> None:
    builder = DashboardBuilder()
    state = hysteresis()
    builder.ingest_state_gate_event(gate("run-1", 100, output=regime(confidence=0.5), state=state))
    assert trend_of(builder) == "FLAT"
    builder.ingest_state_gate_event(gate("run-2", 200, output=regime(confidence=0.7), state=state))
    assert trend_of(builder) == "RISING"
    assert trend_of(builder) == "RISING"  # the original showed FLAT on this rebuild
    builder.ingest_state_gate_event(gate("run-2", 200, output=regime(confidence=0.7), state=state))
    assert trend_of(builder) == "RISING"  # a duplicate is not an update
    builder.ingest_state_gate_event(gate("run-3", 300, output=regime(confidence=0.6), state=state))
    assert trend_of(builder) == "FALLING"


def test_4_belief_trend_survives_duplicates() -> None:
    builder = DashboardBuilder()
    first = hysteresis(belief={"CHOP_BALANCED": 0.4, "SQUEEZE_UP": 0.6})
    second = hysteresis(belief={"CHOP_BALANCED": 0.7, "SQUEEZE_UP": 0.3})
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "run-1", 180_000, state=first))
    only(builder)
    builder.ingest_orchestrator_event(
        orchestrator("HysteresisStatePublished", "run-2", 180_000, state=second)
    )
    only(builder)
    builder.ingest_orchestrator_event(
        orchestrator("HysteresisStatePublished", "run-2", 180_000, state=second)
    )
    belief = only(builder).belief
    assert belief is not None
    assert belief.trend.status == "RISING"  # the original flipped to FLAT on re-delivery


def test_5_reset_phase_after_a_state_reset_and_on_the_engine_gap_code() -> None:
    builder = DashboardBuilder()
    builder.ingest_state_gate_event(
        gate("r1", 100, "CLOSED", ["reset_timestamp_gap"], event_type=EVENT_STATE_RESET)
    )
    builder.ingest_state_gate_event(gate("r1", 100, "OPEN", output=regime(), state=hysteresis()))
    h = only(builder).hysteresis
    assert h is not None
    assert h.transition.reset_due_to_gap
    assert h.summary is not None
    assert (h.summary.phase, h.summary.notes) == ("RESET", ("reset_due_to_gap",))
    builder.ingest_state_gate_event(gate("r2", 200, "OPEN", output=regime(), state=hysteresis()))
    assert only(builder).hysteresis.summary.phase == "STABLE"  # type: ignore[union-attr]
    builder.ingest_orchestrator_event(
        orchestrator(
            "HysteresisStatePublished", "r3", 300, state=hysteresis(reason_codes=("RESET_TIME_GAP",))
        )
    )
    assert only(builder).hysteresis.summary.phase == "RESET"  # type: ignore[union-attr]


def test_6_analysis_is_empty_rather_than_missing() -> None:
    builder = DashboardBuilder()
    builder.ingest_state_gate_event(gate("r1", 100, "CLOSED", ["transition_active"]))
    assert only(builder).analysis == c.AnalysisSection("EMPTY")
    builder.ingest_analysis_engine_event(analysis("AnalysisRunSkipped", "r1", 100))
    section = only(builder).analysis
    assert section is not None
    assert (section.status, section.highlights) == ("EMPTY", ("run_skipped",))
    builder.ingest_analysis_engine_event(analysis("AnalysisRunFailed", "r2", 200, completed("x", 1).payload))
    assert only(builder).analysis.status == "PARTIAL"  # type: ignore[union-attr]


def market(symbol: str, recv: int, price: float, event_type: str = "TradeTick") -> RawMarketEvent:
    key = "price" if event_type == "TradeTick" else "mark_price"
    return RawMarketEvent(
        "raw_market_event", "1", event_type, "binance", symbol, recv, recv, b"{}", {key: price}
    )


def test_7_metrics_and_assessment_are_filled() -> None:
    builder = DashboardBuilder(config=BuilderConfig(price_bucket_ms=1000))
    builder.ingest_state_gate_event(gate("r1", 100, output=regime(), state=hysteresis()))
    assessment = {"summary": "CHOP_BALANCED: mean reversion allowed, both sides", "stance": "mean_reversion"}
    builder.ingest_analysis_engine_event(
        artifact(
            "r1",
            100,
            "rule.assessment",
            "assessment",
            schema="xray.evaluation.assessment",
            payload_json=orjson.dumps(assessment).decode(),
        )
    )
    builder.ingest_analysis_engine_event(
        artifact(
            "r1",
            100,
            "detector.crowding",
            "crowding",
            schema="xray.detection.crowding",
            payload_json='{"score":0.25}',
        )
    )
    for i, price in enumerate((100.0, 110.0, 99.0)):
        builder.ingest_market_event(market("S", 1000 * i, price))
    s = only(builder, 5000)
    assert s.analysis is not None
    assert s.analysis.assessment == c.AnalysisAssessment(assessment["summary"], "mean_reversion")
    assert s.metrics is not None
    assert s.metrics.crowding_score == 0.25
    assert s.metrics.price_last == 99.0
    assert round(s.metrics.price_change_pct or 0, 6) == -1.0
    assert round(s.metrics.range_session_pct or 0, 6) == round(11 / 99 * 100, 6)
    assert s.history is not None
    assert [p.price for p in s.history.prices] == [100.0, 110.0, 99.0]


def test_7b_prices_keep_the_newest_per_bucket_and_never_create_symbols() -> None:
    builder = DashboardBuilder(config=BuilderConfig(price_bucket_ms=1000, price_history=2))
    for recv, price in ((1500, 2.0), (1200, 1.0), (2100, 3.0), (3100, 4.0), (900, 0.5)):
        builder.ingest_market_event(market("S", recv, price, "MarkPrice"))
    builder.ingest_market_event(market("OTHER", 10, 1.0))
    assert builder.build_snapshot(as_of_ts_ms=1).symbols == ()
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "r", 1))
    history = only(builder).history
    assert history is not None
    assert [(p.ts_ms, p.price) for p in history.prices] == [(2100, 3.0), (3100, 4.0)]


def test_8_time_based_staleness_per_stream() -> None:
    config = BuilderConfig(
        stale_after_ms={"orchestrator_event": 1000, "state_gate_event": 1000, "analysis_engine_event": 1000}
    )
    builder = DashboardBuilder(config=config)
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "r1", 1), record_ts_ms=10_000)
    builder.ingest_state_gate_event(gate("r1", 1), record_ts_ms=10_500)
    builder.ingest_analysis_engine_event(completed("r1", 1), record_ts_ms=10_500)
    fresh = builder.build_snapshot(as_of_ts_ms=10_900)
    assert fresh.system.status == "OK"
    assert not fresh.telemetry.staleness.is_stale
    later = builder.build_snapshot(as_of_ts_ms=11_200)
    assert later.telemetry.staleness.stale_reasons == ("orchestrator_events_stale",)
    comps = {x.component_id: x for x in later.system.components}
    assert (comps["orchestrator"].status, comps["orchestrator"].details) == ("DEGRADED", ("stale",))
    assert comps["state_gate"].status == "OK"
    stream = {s.stream: s for s in later.telemetry.streams}["orchestrator_event"]
    assert (stream.age_ms, stream.is_stale, stream.last_record_ts_ms) == (1200, True, 10_000)


def test_9_ingest_failures_clear_when_the_stream_recovers() -> None:
    builder = DashboardBuilder()
    builder.record_ingest_failure("state_gate_event", "invalid_schema", "UnknownFramingError: x")
    failing = builder.build_snapshot(as_of_ts_ms=1)
    assert "ingest_failure" in failing.telemetry.staleness.stale_reasons
    gate_stream = {s.stream: s for s in failing.telemetry.streams}["state_gate_event"]
    assert (gate_stream.failing, gate_stream.failure_count, gate_stream.last_failure_kind) == (
        True,
        1,
        "invalid_schema",
    )
    builder.ingest_state_gate_event(gate("r1", 1))
    recovered = builder.build_snapshot(as_of_ts_ms=2)
    assert "ingest_failure" not in recovered.telemetry.staleness.stale_reasons
    gate_stream = {s.stream: s for s in recovered.telemetry.streams}["state_gate_event"]
    assert (gate_stream.failing, gate_stream.failure_count) == (False, 1)


def test_10_one_quiet_stream_does_not_degrade_the_others() -> None:
    builder = DashboardBuilder()
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "r1", 100))
    dvm = builder.build_snapshot(as_of_ts_ms=200)
    comps = {x.component_id: x for x in dvm.system.components}
    assert comps["orchestrator"].status == "OK"
    assert comps["state_gate"].status == "UNKNOWN"
    assert dvm.system.status == "DEGRADED"


def test_11_same_run_hysteresis_keeps_its_confidence() -> None:
    builder = DashboardBuilder()
    state = hysteresis()
    builder.ingest_orchestrator_event(
        orchestrator(
            "EngineRunCompleted", "r1", 100, output=regime(confidence=0.9), state=state, mode="hysteresis"
        )
    )
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "r1", 100, state=state))
    h = only(builder).hysteresis
    assert h is not None
    assert h.effective_confidence == 0.9  # the original reset it to 0.0


def test_12_engine_run_completed_with_hysteresis_fills_hysteresis_belief_and_history() -> None:
    builder = DashboardBuilder()
    for ts, anchor in ((180_000, "CHOP_BALANCED"), (360_000, "TREND_BUILD_UP")):
        state = hysteresis(anchor, belief={anchor: 0.8, "SQUEEZE_UP": 0.2})
        builder.ingest_orchestrator_event(
            orchestrator(
                "EngineRunCompleted", f"r{ts}", ts, output=regime(anchor), state=state, mode="hysteresis"
            )
        )
    s = only(builder)
    assert s.hysteresis is not None
    assert s.hysteresis.effective_confidence == 0.8
    assert s.belief is not None
    assert s.belief.anchor_regime == "TREND_BUILD_UP"
    assert s.history is not None
    assert [(p.engine_timestamp_ms, p.regime_name) for p in s.history.regimes] == [
        (180_000, "CHOP_BALANCED"),
        (360_000, "TREND_BUILD_UP"),
    ]


def test_13_regime_history_is_bounded_to_the_newest_runs() -> None:
    builder = DashboardBuilder(config=BuilderConfig(regime_history=3))
    for ts in (5, 1, 2, 3, 4, 0):
        builder.ingest_orchestrator_event(orchestrator("EngineRunCompleted", f"r{ts}", ts, output=regime()))
    history = only(builder).history
    assert history is not None
    assert [p.engine_timestamp_ms for p in history.regimes] == [3, 4, 5]


def test_14_a_zero_timestamp_counts_as_present() -> None:
    builder = DashboardBuilder()
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "r", 0))
    builder.ingest_state_gate_event(gate("r", 0))
    builder.ingest_analysis_engine_event(completed("r", 0))
    assert builder.build_snapshot(as_of_ts_ms=0).system.status == "OK"
