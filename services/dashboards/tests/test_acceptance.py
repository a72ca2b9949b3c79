"""The fact sheet's acceptance behaviours (§5) that still apply, numbered as there."""

from __future__ import annotations

import dataclasses
import io
from types import SimpleNamespace

import pytest
from consumers.dashboards import (
    DVM_SCHEMA,
    DVM_SCHEMA_VERSION,
    DVM_VERSIONING_POLICY,
    FLAT,
    DashboardBuilder,
    DashboardViewModel,
    LineRenderer,
    Observability,
    RecordingMetrics,
    TuiRenderer,
    validate_renderer_input,
)
from consumers.dashboards import contracts as c
from consumers.dashboards.line_mode import frame_text
from consumers.dashboards.testing import analysis, artifact, completed, gate, hysteresis, orchestrator, regime
from xray_contracts.state_gate import EVENT_STATE_GATE_HALTED, EVENT_STATE_RESET, GateEvaluatedPayload


class Log:
    """Records log calls."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, object]]] = []

    def info(self, event: str, **fields: object) -> None:
        self.lines.append(("INFO", event, fields))

    def error(self, event: str, exc_info: bool = False, **fields: object) -> None:
        self.lines.append(("ERROR", event, fields))

    def events(self, name: str) -> list[dict[str, object]]:
        return [f for _, e, f in self.lines if e == name]


def observed() -> tuple[DashboardBuilder, Log, RecordingMetrics]:
    log, metrics = Log(), RecordingMetrics()
    return DashboardBuilder(observability=Observability(log, metrics)), log, metrics


def empty_dvm(**kw: object) -> DashboardViewModel:
    fields: dict[str, object] = {
        "dvm_schema": DVM_SCHEMA,
        "dvm_schema_version": DVM_SCHEMA_VERSION,
        "as_of_ts_ms": 1,
        "source_run_id": None,
        "source_engine_timestamp_ms": None,
        "system": c.SystemSection(c.STATUS_UNKNOWN),
        "symbols": (),
        "telemetry": c.TelemetrySection(),
    }
    fields.update(kw)
    return DashboardViewModel(**fields)  # type: ignore[arg-type]


# 1, 2, 3, 4 ---------------------------------------------------------------------------------------


def test_1_wrong_schema_or_version_is_rejected() -> None:
    with pytest.raises(ValueError, match="dvm_schema"):
        empty_dvm(dvm_schema="other")
    with pytest.raises(ValueError, match="dvm_schema_version"):
        empty_dvm(dvm_schema_version="2")


def test_2_snapshots_are_immutable() -> None:
    dvm = DashboardBuilder().build_snapshot(as_of_ts_ms=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        dvm.as_of_ts_ms = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        dvm.system.status = "OK"  # type: ignore[misc]


def test_3_arrays_are_put_in_contract_order() -> None:
    system = c.SystemSection(
        c.STATUS_OK,
        (c.SystemComponentStatus("state_gate", "OK"), c.SystemComponentStatus("analysis_engine", "OK")),
    )
    dvm = empty_dvm(system=system, symbols=(c.SymbolSnapshot("BTC"), c.SymbolSnapshot("ADA")))
    assert [x.component_id for x in dvm.system.components] == ["analysis_engine", "state_gate"]
    assert [s.symbol for s in dvm.symbols] == ["ADA", "BTC"]
    a_b = c.AnalysisArtifactSummary("output", "module-b", "artifact-b", "s", "1", "x")
    a_a = c.AnalysisArtifactSummary("output", "module-a", "artifact-a", "s", "1", "x")
    section = c.AnalysisSection(c.ANALYSIS_PRESENT, ("beta", "alpha"), (a_b, a_a))
    assert section.highlights == ("alpha", "beta")
    assert [a.module_id for a in section.artifacts] == ["module-a", "module-b"]
    summary = c.HysteresisSummary(
        c.RESET, None, None, c.HysteresisProgress(0, 3), c.FLAT, ("reset_due_to_gap", "flipped")
    )
    assert summary.notes == ("flipped", "reset_due_to_gap")
    assert c.TelemetryStaleness(True, ("engine_gap", "builder_halt")).stale_reasons == (
        "builder_halt",
        "engine_gap",
    )
    belief = c.BeliefSnapshot(
        "A",
        (
            c.BeliefDistributionEntry("B", 0.2),
            c.BeliefDistributionEntry("C", 0.4),
            c.BeliefDistributionEntry("A", 0.4),
        ),
    )
    assert [(e.regime_name, e.mass) for e in belief.distribution] == [("A", 0.4), ("C", 0.4), ("B", 0.2)]


def test_4_constants() -> None:
    assert DVM_SCHEMA == "dashboard_view_model"
    assert DVM_SCHEMA_VERSION == "1"
    assert "additive-only" in DVM_VERSIONING_POLICY
    assert "version" in DVM_VERSIONING_POLICY
    assert FLAT == "FLAT"


# 5 (the dashboards component keeps its DEGRADED/details; components are per stream, see deviations)


def test_5_fresh_builder_is_stale_and_unknown() -> None:
    dvm = DashboardBuilder().build_snapshot(as_of_ts_ms=1)
    staleness = dvm.telemetry.staleness
    assert staleness.is_stale
    assert staleness.stale_reasons == (
        "missing_analysis_engine_events",
        "missing_orchestrator_events",
        "missing_state_gate_events",
        "no_symbols_observed",
    )
    assert dvm.system.status == "UNKNOWN"
    comps = {x.component_id: x for x in dvm.system.components}
    for name in ("analysis_engine", "orchestrator", "state_gate"):
        assert comps[name].status == "UNKNOWN"
        assert comps[name].details == ("no events ingested",)
    assert comps["dashboards"].status == "DEGRADED"
    assert comps["dashboards"].details == staleness.stale_reasons
    assert dvm.source_run_id is None


# 6 -------------------------------------------------------------------------------------------------


def full_flow(builder: DashboardBuilder) -> None:
    flip = hysteresis(
        "CHOP_BALANCED", "SQUEEZE_UP", 2, 2, ("COMMIT_SWITCH:CHOP_BALANCED->SQUEEZE_UP", "PROGRESS_INC")
    )
    builder.ingest_orchestrator_event(orchestrator("EngineRunCompleted", "run-1", 100, output=regime()))
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "run-2", 150, state=flip))
    builder.ingest_state_gate_event(gate("run-2", 200, "OPEN", ["ok"], output=regime(), state=flip))
    builder.ingest_analysis_engine_event(artifact("run-2", 200))
    builder.ingest_analysis_engine_event(completed("run-2", 200))


def test_6_full_flow() -> None:
    builder = DashboardBuilder()
    full_flow(builder)
    dvm = builder.build_snapshot(as_of_ts_ms=250)
    assert not dvm.telemetry.staleness.is_stale
    assert dvm.system.status == "OK"
    assert (dvm.source_run_id, dvm.source_engine_timestamp_ms) == ("run-2", 200)
    assert len(dvm.symbols) == 1
    s = dvm.symbols[0]
    assert s.gate == c.GateSnapshot("OPEN", ("ok",))
    assert s.regime_truth is not None
    assert s.regime_truth.regime_name == "CHOP_BALANCED"
    assert s.regime_effective is not None
    assert (s.regime_effective.source, s.regime_effective.confidence) == ("hysteresis", 0.8)
    h = s.hysteresis
    assert h is not None
    assert h.effective_confidence == 0.8
    t = h.transition
    assert (t.candidate_count, t.transition_active, t.flipped) == (2, True, True)
    assert h.summary is not None
    assert h.summary.phase == "FLIPPED"
    assert h.summary.progress == c.HysteresisProgress(2, 2)
    assert h.summary.notes == ("flipped",)
    assert s.analysis is not None
    assert s.analysis.status == "PRESENT"
    assert s.analysis.highlights == ("artifact:module:artifact", "run_completed:success")
    first = s.analysis.artifacts[0]
    assert (first.module_id, first.artifact_name, first.summary) == ("module", "artifact", "module:artifact")


# 7, 8 ----------------------------------------------------------------------------------------------


def test_7_out_of_order_and_duplicates() -> None:
    builder = DashboardBuilder()
    builder.ingest_state_gate_event(gate("run-new", 200, "OPEN", ["new"]))
    builder.ingest_state_gate_event(gate("run-old", 100, "CLOSED", ["old"]))
    builder.ingest_state_gate_event(gate("run-new", 200, "OPEN", ["new"]))
    dvm = builder.build_snapshot(as_of_ts_ms=300)
    assert dvm.symbols[0].gate == c.GateSnapshot("OPEN", ("new",))
    assert (dvm.source_run_id, dvm.source_engine_timestamp_ms) == ("run-new", 200)


def test_8_progress_is_carried_on_the_orchestrator_path() -> None:
    builder = DashboardBuilder()
    summaries = []
    for i, (current, run) in enumerate(((1, "r1"), (3, "r2"), (0, "r3"))):
        state = hysteresis("CHOP_BALANCED", "SQUEEZE_UP" if current else None, current, 3)
        builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", run, 100 + i, state=state))
        s = builder.build_snapshot(as_of_ts_ms=1000).symbols[0]
        assert s.hysteresis is not None
        assert s.hysteresis.summary is not None
        assert s.hysteresis.effective_confidence == 0.0
        summaries.append(s.hysteresis.summary)
    assert summaries[1].progress == c.HysteresisProgress(3, 3)
    assert summaries[1].confidence_trend == "FLAT"
    assert summaries[2].progress == c.HysteresisProgress(0, 3)
    assert summaries[2].confidence_trend == "FLAT"


# 9: first two steps here; the third (rebuild with no events) is a deviation -------------------------


def test_9_confidence_trend_via_state_gate() -> None:
    builder = DashboardBuilder()
    state = hysteresis()
    builder.ingest_state_gate_event(gate("run-1", 100, output=regime(confidence=0.5), state=state))
    trend = builder.build_snapshot(as_of_ts_ms=1).symbols[0].hysteresis.summary.confidence_trend  # type: ignore[union-attr]
    assert trend == "FLAT"
    builder.ingest_state_gate_event(gate("run-2", 200, output=regime(confidence=0.7), state=state))
    trend = builder.build_snapshot(as_of_ts_ms=1).symbols[0].hysteresis.summary.confidence_trend  # type: ignore[union-attr]
    assert trend == "RISING"
    # A later orchestrator hysteresis event of another run (no regime output) resets it to 0.0.
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "run-3", 300, state=state))
    h = builder.build_snapshot(as_of_ts_ms=1).symbols[0].hysteresis
    assert h is not None
    assert h.effective_confidence == 0.0


# 10-13 belief --------------------------------------------------------------------------------------


def belief_of(builder: DashboardBuilder) -> c.BeliefSnapshot:
    belief = builder.build_snapshot(as_of_ts_ms=1).symbols[0].belief
    assert belief is not None
    return belief


def test_10_belief_present() -> None:
    builder = DashboardBuilder()
    state = hysteresis(belief={"CHOP_BALANCED": 0.6, "SQUEEZE_UP": 0.4})
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "run-1", 100, state=state))
    belief = belief_of(builder)
    assert belief.anchor_regime == "CHOP_BALANCED"
    assert belief.distribution[0].regime_name == "CHOP_BALANCED"
    assert belief.trend == c.BeliefTrend("UNKNOWN", None)


def test_11_belief_trend() -> None:
    builder = DashboardBuilder()
    first = hysteresis(belief={"CHOP_BALANCED": 0.4, "SQUEEZE_UP": 0.6})
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "run-1", 180_000, state=first))
    belief_of(builder)
    second = hysteresis(belief={"CHOP_BALANCED": 0.7, "SQUEEZE_UP": 0.3})
    builder.ingest_orchestrator_event(
        orchestrator("HysteresisStatePublished", "run-2", 180_000, state=second)
    )
    belief = belief_of(builder)
    assert belief.anchor_regime == "CHOP_BALANCED"
    assert belief.trend.status == "RISING"
    assert belief.trend.anchor_mass_delta == pytest.approx(0.3)


def test_12_belief_tie_unknown_keys_and_zero_masses() -> None:
    builder = DashboardBuilder()
    state = hysteresis(belief={"SQUEEZE_UP": 0.5, "CHOP_STOPHUNT": 0.5, "MOON": 0.9, "TREND_EXHAUSTION": 0.0})
    builder.ingest_orchestrator_event(orchestrator("HysteresisStatePublished", "run-1", 100, state=state))
    belief = belief_of(builder)
    assert belief.anchor_regime == "CHOP_STOPHUNT"
    names = {e.regime_name for e in belief.distribution}
    assert names == {"SQUEEZE_UP", "CHOP_STOPHUNT", "TREND_EXHAUSTION"}


def test_13_no_belief_map_means_no_belief_section() -> None:
    builder = DashboardBuilder()
    builder.ingest_orchestrator_event(
        orchestrator("HysteresisStatePublished", "run-1", 100, state=hysteresis())
    )
    s = builder.build_snapshot(as_of_ts_ms=1).symbols[0]
    assert s.belief is None
    assert s.hysteresis is not None


# 14 determinism ------------------------------------------------------------------------------------


def test_14_same_events_in_any_order_give_equal_snapshots() -> None:
    events: list[tuple[str, object]] = [
        ("o", orchestrator("EngineRunCompleted", "run-1", 10, output=regime())),
        (
            "g",
            gate(
                "run-1",
                11,
                "OPEN",
                ["go"],
                output=regime(),
                state=hysteresis(current=1, candidate="SQUEEZE_UP"),
            ),
        ),
        ("a", completed("run-1", 11)),
    ]
    snapshots = []
    for order in (events, list(reversed(events))):
        builder = DashboardBuilder()
        for kind, event in order:
            getattr(
                builder,
                {
                    "o": "ingest_orchestrator_event",
                    "g": "ingest_state_gate_event",
                    "a": "ingest_analysis_engine_event",
                }[kind],
            )(event)
        snapshots.append(builder.build_snapshot(as_of_ts_ms=600))
    assert snapshots[0] == snapshots[1]


# 15, 16 failures -----------------------------------------------------------------------------------


def test_15_bad_schema_is_an_ingest_failure() -> None:
    builder, log, metrics = observed()
    builder.ingest_orchestrator_event(
        orchestrator("EngineRunCompleted", "run-1", 10, output=regime(), schema="bad", schema_version="0")
    )
    dvm = builder.build_snapshot(as_of_ts_ms=20)
    assert "ingest_failure" in dvm.telemetry.staleness.stale_reasons
    assert log.events("dashboards.ingest_failure")[0]["error_kind"] == "invalid_schema"
    failure = metrics.named("dashboards.failures")[0]
    assert failure.tags == {"component": "builder", "error_kind": "invalid_schema"}
    assert dvm.symbols == ()
    assert dvm.telemetry.ingest.last_orchestrator_event_ts_ms is None


def test_16_unknown_analysis_event_type() -> None:
    builder, log, _ = observed()
    full_flow(builder)
    bogus = SimpleNamespace(
        schema="analysis_engine_event",
        schema_version="1",
        event_type="Bogus",
        symbol="S",
        run_id="r",
        engine_timestamp_ms=300,
    )
    builder.ingest_analysis_engine_event(bogus)  # type: ignore[arg-type]
    dvm = builder.build_snapshot(as_of_ts_ms=400)
    assert log.events("dashboards.ingest_failure")[0]["error_kind"] == "invalid_event_type"
    assert dvm.system.status == "DEGRADED"
    comps = {x.component_id: x for x in dvm.system.components}
    assert comps["dashboards"].details == ("ingest_failure",)
    assert comps["analysis_engine"].status == "DEGRADED"


# 17-20 ---------------------------------------------------------------------------------------------


def test_17_analysis_run_window() -> None:
    builder = DashboardBuilder()
    module_failed = analysis(
        "ModuleFailed",
        "r3",
        500,
        __import__("xray_contracts.analysis_engine", fromlist=["x"]).ModuleFailedPayload(
            module_id="m0", module_kind="signal", error_kind="exception", error_detail="boom"
        ),
    )
    for event in (
        analysis("AnalysisRunStarted", "r3", 500),
        module_failed,
        completed("r3", 500, "PARTIAL", ["m0"]),
    ):
        builder.ingest_analysis_engine_event(event)
    section = builder.build_snapshot(as_of_ts_ms=1).symbols[0].analysis
    assert section is not None
    assert section.status == "PARTIAL"
    assert section.highlights == (
        "module_failed:m0",
        "module_failure:m0",
        "run_completed:partial",
        "run_started",
    )
    builder.ingest_analysis_engine_event(analysis("AnalysisRunSkipped", "r2", 500))  # lower run_id, same ts
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].analysis.highlights == section.highlights  # type: ignore[union-attr]
    builder.ingest_analysis_engine_event(analysis("AnalysisRunSkipped", "r4", 500))  # higher run_id replaces
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].analysis.highlights == ("run_skipped",)  # type: ignore[union-attr]
    builder.ingest_analysis_engine_event(analysis("AnalysisRunStarted", "r9", 400))  # older: ignored
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].analysis.highlights == ("run_skipped",)  # type: ignore[union-attr]


def test_18_gate_follows_reset_and_halt_and_keeps_reason_order() -> None:
    builder = DashboardBuilder()
    builder.ingest_state_gate_event(gate("r1", 100, "OPEN", ["z", "a"]))
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].gate.reasons == ("z", "a")
    builder.ingest_state_gate_event(
        gate("r2", 300, "CLOSED", ["reset_timestamp_gap"], event_type=EVENT_STATE_RESET)
    )
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].gate == c.GateSnapshot(
        "CLOSED", ("reset_timestamp_gap",)
    )
    builder.ingest_state_gate_event(
        gate("r3", 400, "CLOSED", ["internal_failure"], event_type=EVENT_STATE_GATE_HALTED)
    )
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].gate.reasons == ("internal_failure",)


def test_19_engine_mode_decides_regime_effective() -> None:
    builder = DashboardBuilder()
    builder.ingest_state_gate_event(gate("r1", 100, mode=None, payload=GateEvaluatedPayload(regime(), None)))
    assert builder.build_snapshot(as_of_ts_ms=1).symbols[0].regime_effective is None
    builder.ingest_state_gate_event(
        gate("r2", 200, mode="truth", payload=GateEvaluatedPayload(regime(), None))
    )
    effective = builder.build_snapshot(as_of_ts_ms=1).symbols[0].regime_effective
    assert effective is not None
    assert effective.source == "truth"


def test_20_only_a_started_run() -> None:
    builder = DashboardBuilder()
    builder.ingest_orchestrator_event(orchestrator("EngineRunStarted", "run-1", 100))
    dvm = builder.build_snapshot(as_of_ts_ms=1)
    assert dvm.symbols[0].gate.status == "UNKNOWN"
    assert dvm.symbols[0].last_run_id == "run-1"
    assert dvm.source_run_id is None


# 21-25 renderer ------------------------------------------------------------------------------------


def test_21_renderer_accepts_only_dvms() -> None:
    with pytest.raises(TypeError):
        validate_renderer_input({"dvm_schema": "dashboard_view_model"})
    log, metrics = Log(), RecordingMetrics()
    TuiRenderer(writer=io.StringIO(), observability=Observability(log, metrics)).render("not a dvm")
    assert log.events("dashboards.renderer_failure")[0]["error_kind"] == "invalid_snapshot"


class Broken(io.StringIO):
    def write(self, s: str) -> int:
        raise OSError("sink gone")


def test_22_failing_sink_is_logged_not_raised() -> None:
    builder = DashboardBuilder()
    full_flow(builder)
    log, metrics = Log(), RecordingMetrics()
    for renderer in (
        TuiRenderer(writer=Broken(), observability=Observability(log, metrics)),
        LineRenderer(writer=Broken(), observability=Observability(log, metrics)),
    ):
        renderer.render(builder.build_snapshot(as_of_ts_ms=300))
    assert [f["error_kind"] for f in log.events("dashboards.renderer_failure")] == ["render_failure"] * 2
    assert metrics.named("dashboards.failures")[0].tags["component"] == "renderer"
    assert builder.build_snapshot(as_of_ts_ms=301).symbols  # builder unaffected


@dataclasses.dataclass(frozen=True, slots=True)
class ForeignSymbol(c.SymbolSnapshot):
    foreign: str = "x"


@dataclasses.dataclass(frozen=True, slots=True)
class ForeignDvm(DashboardViewModel):
    foreign_section: str = "x"


def minimal_dvm() -> DashboardViewModel:
    comps = tuple(
        c.SystemComponentStatus(n, "UNKNOWN")
        for n in ("analysis_engine", "dashboards", "orchestrator", "state_gate")
    )
    return ForeignDvm(
        DVM_SCHEMA,
        DVM_SCHEMA_VERSION,
        1,
        None,
        None,
        c.SystemSection("UNKNOWN", comps),
        (ForeignSymbol("S"),),
        c.TelemetrySection(staleness=c.TelemetryStaleness(True, ("stale",))),
    )


def test_23_minimal_dvm_with_unknown_fields_renders() -> None:
    text = frame_text(minimal_dvm())
    assert "stale=True" in text
    assert "gate=UNKNOWN" in text
    assert "system_status=UNKNOWN" in text
    out = io.StringIO()
    metrics = RecordingMetrics()
    TuiRenderer(writer=out, observability=Observability(Log(), metrics)).render(minimal_dvm())
    assert "UNKNOWN" in out.getvalue()
    assert "STALE" in out.getvalue()
    assert metrics.named("dashboards.renderer.frames")


def test_24_populated_dvm_renders_every_section() -> None:
    builder = DashboardBuilder()
    belief = {"CHOP_BALANCED": 0.7, "SQUEEZE_UP": 0.3}
    state = hysteresis(
        "CHOP_BALANCED", "SQUEEZE_UP", 2, 2, ("COMMIT_SWITCH:CHOP_BALANCED->SQUEEZE_UP",), belief=belief
    )
    builder.ingest_orchestrator_event(orchestrator("EngineRunCompleted", "run-1", 100, output=regime()))
    builder.ingest_state_gate_event(gate("run-2", 200, "OPEN", ["ok"], output=regime(), state=state))
    builder.ingest_analysis_engine_event(artifact("run-2", 200, "m1", "a1"))
    text = frame_text(builder.build_snapshot(as_of_ts_ms=300))
    for token in (
        "regime_effective=CHOP_BALANCED (hysteresis)",
        "regime_truth=CHOP_BALANCED",
        "hysteresis_confidence=0.8",
        "belief_anchor=CHOP_BALANCED",
        "belief_distribution=CHOP_BALANCED=0.7000; SQUEEZE_UP=0.3000",
        "analysis_status=PRESENT",
        "artifact=m1:a1",
    ):
        assert token in text, token


def test_25_readme_usage(capsys: pytest.CaptureFixture[str]) -> None:
    builder = DashboardBuilder()
    renderer = TuiRenderer()
    renderer.start()
    snapshot = builder.build_snapshot()
    renderer.render(snapshot)
    assert isinstance(snapshot, DashboardViewModel)
    assert "xray-vision" in capsys.readouterr().out


def test_26_every_build_is_counted_and_the_log_line_follows_the_source() -> None:
    builder, log, metrics = observed()
    builder.build_snapshot(as_of_ts_ms=1)
    builder.build_snapshot(as_of_ts_ms=2)
    assert len(metrics.named("dashboards.snapshots.produced")) == 2
    assert len(metrics.named("dashboards.snapshot_latency_ms")) == 2
    assert len(log.events("dashboards.snapshot_produced")) == 1
    full_flow(builder)
    builder.build_snapshot(as_of_ts_ms=300)
    builder.build_snapshot(as_of_ts_ms=301)
    produced = log.events("dashboards.snapshot_produced")
    assert len(produced) == 2
    assert produced[1]["source_run_id"] == "run-2"
    assert metrics.named("dashboards.builder.lag_ms")[-1].value == 101.0
