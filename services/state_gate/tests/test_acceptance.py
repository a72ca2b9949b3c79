"""Fact-sheet acceptance behaviours (section 7) that still apply, numbered as there."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from consumers.state_gate import (
    ConfigError,
    OperationLimits,
    StateGateConfig,
    StateGateProcessor,
    StateGateStateStore,
    validate_config,
)
from consumers.state_gate import contracts as c
from consumers.state_gate.observability import GATE_DECISIONS, PROCESSING_LAG_MS, RESETS, RecordingMetrics
from consumers.state_gate.samples import completed, failed, hysteresis, sample_config, started
from pydantic import ValidationError


def _summary(events: list[c.StateGateEvent]) -> list[tuple[str, str, str, str, tuple[str, ...]]]:
    return [(e.run_id, e.event_type, e.gate_status, e.state_status, e.reasons) for e in events]


def test_01_constants() -> None:
    assert (c.SCHEMA, c.SCHEMA_VERSION) == ("state_gate_event", "1")
    assert c.GATE_STATUSES == ("OPEN", "CLOSED")
    assert c.EVENT_TYPES == ("GateEvaluated", "StateReset", "StateGateHalted")
    assert c.INPUT_EVENT_TYPES == ("EngineRunCompleted", "EngineRunFailed", "HysteresisStatePublished")
    for code in (
        "run_failed",
        "denylisted_invalidation:",
        "transition_active",
        "internal_failure",
        "reset_timestamp_gap",
        "reset_engine_gap",
    ):
        assert code in c.REASON_CODES


def test_02_idempotency_keys() -> None:
    assert c.INPUT_IDEMPOTENCY_FIELDS == ("run_id", "input_event_type")
    assert c.OUTPUT_IDEMPOTENCY_FIELDS == ("run_id", "event_type")
    assert c.input_idempotency_key("run-1", "EngineRunFailed") == "run-1:EngineRunFailed"
    assert c.output_idempotency_key("run-1", "GateEvaluated") == "run-1:GateEvaluated"


def test_03_value_objects_are_immutable() -> None:
    processor = StateGateProcessor(sample_config())
    (event,) = processor.consume(completed("run-1", 100))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.gate_status = "OPEN"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.payload.regime_output = None  # type: ignore[misc,union-attr]
    with pytest.raises(dataclasses.FrozenInstanceError):
        processor.store.records[0].state_status = "HOLD"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        processor.store.snapshot("TEST").halted = True  # type: ignore[misc]


def test_04_config_validation() -> None:
    validate_config(sample_config())
    ok = OperationLimits(max_pending=1, max_block_ms=None, max_failures=None)
    validate_config(sample_config().model_copy(update={"input_limits": ok}))
    with pytest.raises(ConfigError, match=r"^max_gap_ms must be > 0$"):
        validate_config(sample_config(max_gap_ms=0))
    for name in ("input_limits", "persistence_limits", "publish_limits"):
        for bad in (
            OperationLimits(max_pending=0),
            OperationLimits(max_pending=1, max_block_ms=0),
            OperationLimits(max_pending=1, max_failures=0),
        ):
            with pytest.raises(ConfigError, match=name):
                validate_config(sample_config().model_copy(update={name: bad}))
    with pytest.raises(ConfigError, match=r"input_limits\.max_pending must be > 0"):
        StateGateProcessor(
            sample_config().model_copy(update={"input_limits": OperationLimits(max_pending=0)})
        )


def test_04b_config_types_are_strict() -> None:
    with pytest.raises(ValidationError):
        OperationLimits(max_pending=True)
    with pytest.raises(ValidationError):
        OperationLimits(max_pending=1, surprise=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        StateGateConfig.model_validate({**sample_config().model_dump(), "block_during_transition": 1})
    with pytest.raises(ConfigError, match=r"denylisted_invalidations\[0\]"):
        validate_config(sample_config(denylist=("",)))


def test_05_single_completed_run_opens_once() -> None:
    processor = StateGateProcessor(sample_config())
    (event,) = processor.consume(completed("run-1", 100))
    assert event.event_type == "GateEvaluated"
    assert (event.state_status, event.gate_status, event.reasons) == ("READY", "OPEN", ())
    assert event.input_event_type == "EngineRunCompleted"
    assert event.engine_mode == "truth"
    assert isinstance(event.payload, c.GateEvaluatedPayload)
    assert event.payload.regime_output is not None
    assert event.payload.regime_output.timestamp == 100
    assert processor.consume(completed("run-1", 100)) == []


def test_06_hysteresis_completed_then_state() -> None:
    processor = StateGateProcessor(sample_config())
    assert processor.consume(completed("run-2", 200, engine_mode="hysteresis")) == []
    (event,) = processor.consume(hysteresis("run-2", 200))
    assert event.input_event_type == "HysteresisStatePublished"
    assert isinstance(event.payload, c.GateEvaluatedPayload)
    assert event.payload.regime_output is not None
    assert event.payload.hysteresis_state is not None
    assert processor.consume(hysteresis("run-2", 200)) == []


def test_08_failed_run_closes_degraded() -> None:
    for with_payload in (True, False):
        processor = StateGateProcessor(sample_config())
        (event,) = processor.consume(failed("run-3", 300, with_payload=with_payload))
        assert (event.gate_status, event.state_status, event.reasons) == (
            "CLOSED",
            "DEGRADED",
            ("run_failed",),
        )
        assert event.payload is None
        assert event.input_event_type == "EngineRunFailed"


def test_08b_failed_from_envelope_alone_in_hysteresis_mode() -> None:
    processor = StateGateProcessor(sample_config())
    event = failed("run-3", 300, engine_mode="hysteresis", with_payload=False)
    assert _summary(processor.consume(event)) == [
        ("run-3", "GateEvaluated", "CLOSED", "DEGRADED", ("run_failed",))
    ]


def test_09_ordering_guard() -> None:
    processor = StateGateProcessor(sample_config())
    assert len(processor.consume(completed("run-4", 400))) == 1
    assert processor.consume(completed("run-5", 399)) == []
    assert "run-5:EngineRunCompleted" in processor.store.snapshot("TEST").processed_keys
    assert processor.consume(completed("run-6", 400)) == []
    assert processor.consume(failed("run-5", 399)) == []


def test_10_denylist() -> None:
    processor = StateGateProcessor(sample_config(denylist=("gap", "late")))
    (event,) = processor.consume(completed("run-1", 100, invalidations=("late", "gap")))
    assert (event.gate_status, event.state_status) == ("CLOSED", "HOLD")
    assert event.reasons == ("denylisted_invalidation:gap", "denylisted_invalidation:late")
    (other,) = processor.consume(completed("run-2", 200, invalidations=("harmless",)))
    assert (other.gate_status, other.state_status, other.reasons) == ("OPEN", "READY", ())


def test_11_transition_hold() -> None:
    blocking = StateGateProcessor(sample_config(block_during_transition=True))
    (held,) = blocking.consume(hysteresis("run-1", 100, progress=1, invalidations=()))
    assert (held.gate_status, held.state_status, held.reasons) == ("CLOSED", "HOLD", ("transition_active",))
    assert isinstance(held.payload, c.GateEvaluatedPayload)
    assert held.payload.hysteresis_state is not None
    (idle,) = blocking.consume(hysteresis("run-2", 200, progress=0, invalidations=()))
    assert (idle.gate_status, idle.state_status, idle.reasons) == ("OPEN", "READY", ())
    relaxed = StateGateProcessor(sample_config(block_during_transition=False))
    (opened,) = relaxed.consume(hysteresis("run-1", 100, progress=1, invalidations=()))
    assert (opened.gate_status, opened.state_status) == ("OPEN", "READY")


def test_12_precedence() -> None:
    processor = StateGateProcessor(sample_config(denylist=("late",), block_during_transition=True))
    (event,) = processor.consume(hysteresis("run-1", 100, progress=2, invalidations=("late",)))
    assert event.reasons == ("denylisted_invalidation:late",)
    (fail,) = processor.consume(failed("run-2", 200, engine_mode="hysteresis"))
    assert fail.reasons == ("run_failed",)


def test_13_state_machine() -> None:
    processor = StateGateProcessor(sample_config(denylist=("late",)))
    processor.consume(completed("run-1", 100))
    snap = processor.store.snapshot("TEST")
    assert (snap.state_status, snap.gate_status) == ("READY", "OPEN")
    processor.consume(completed("run-2", 200, invalidations=("late",)))
    snap = processor.store.snapshot("TEST")
    assert (snap.state_status, snap.gate_status) == ("HOLD", "CLOSED")
    processor.consume(failed("run-3", 300))
    snap = processor.store.snapshot("TEST")
    assert (snap.state_status, snap.gate_status) == ("DEGRADED", "CLOSED")
    processor.consume(completed("run-4", 400))
    assert processor.store.snapshot("TEST").state_status == "READY"


def test_14_reset_on_gap() -> None:
    processor = StateGateProcessor(sample_config(max_gap_ms=1))
    processor.consume(completed("run-4", 100))
    reset, gate = processor.consume(completed("run-5", 105))
    assert (reset.event_type, gate.event_type) == ("StateReset", "GateEvaluated")
    assert reset.payload == c.StateResetPayload(reset_reason="reset_timestamp_gap")
    assert (reset.state_status, reset.gate_status, reset.reasons) == (
        "BOOTSTRAP",
        "CLOSED",
        ("reset_timestamp_gap",),
    )
    assert reset.run_id == gate.run_id == "run-5"
    assert gate.state_status == "READY"
    snap = processor.store.snapshot("TEST")
    assert (snap.last_run_id, snap.state_status) == ("run-5", "READY")


def test_15_no_reset_at_exact_gap_or_first_run() -> None:
    processor = StateGateProcessor(sample_config(max_gap_ms=5))
    processor.consume(completed("run-1", 100))
    assert [e.event_type for e in processor.consume(completed("run-2", 105))] == ["GateEvaluated"]
    first = StateGateProcessor(sample_config(max_gap_ms=10))
    out = first.consume(hysteresis("run-1", 100, progress=0, invalidations=()))
    assert [e.event_type for e in out] == ["GateEvaluated"]


def _determinism_inputs() -> list[object]:
    return [
        completed("run-1", 100),
        completed("run-1", 100),
        completed("run-2", 105),
        completed("run-2", 105),
        failed("run-3", 106),
    ]


def test_16_determinism_scenario() -> None:
    def run() -> list[tuple[str, str, str, str, tuple[str, ...]]]:
        processor = StateGateProcessor(sample_config(max_gap_ms=1))
        out: list[c.StateGateEvent] = []
        for event in _determinism_inputs():
            out.extend(processor.consume(event))  # type: ignore[arg-type]
        return _summary(out)

    first = run()
    assert first == [
        ("run-1", "GateEvaluated", "OPEN", "READY", ()),
        ("run-2", "StateReset", "CLOSED", "BOOTSTRAP", ("reset_timestamp_gap",)),
        ("run-2", "GateEvaluated", "OPEN", "READY", ()),
        ("run-3", "GateEvaluated", "CLOSED", "DEGRADED", ("run_failed",)),
    ]
    assert run() == first


def test_17_persistence() -> None:
    processor = StateGateProcessor(sample_config())
    processor.consume(completed("run-1", 100))
    (record,) = processor.store.records
    assert (record.state_status, record.gate_status, record.event_type) == ("READY", "OPEN", "GateEvaluated")
    assert record.source_event_type == "EngineRunCompleted"
    assert record.regime_output is not None
    assert processor.store.snapshot("TEST").state_status == "READY"


def test_18_restart_from_records() -> None:
    first = StateGateProcessor(sample_config())
    first.consume(completed("run-1", 100))
    restarted = StateGateProcessor(sample_config(), store=StateGateStateStore(records=first.store.records))
    assert restarted.consume(completed("run-1", 100)) == []
    snap = restarted.store.snapshot("TEST")
    assert (snap.state_status, snap.last_run_id) == ("READY", "run-1")


class _BrokenStore(StateGateStateStore):
    def append(self, record: c.StateGateStateRecord) -> None:
        raise RuntimeError("persistence_down")


def test_19_persistence_failure_halts_closed() -> None:
    processor = StateGateProcessor(sample_config(), store=_BrokenStore())
    (event,) = processor.consume(completed("run-1", 100))
    assert event.event_type == "StateGateHalted"
    assert (event.gate_status, event.state_status, event.reasons) == (
        "CLOSED",
        "HALTED",
        ("internal_failure",),
    )
    assert event.payload == c.StateGateHaltedPayload(
        error_kind="persistence_failure", error_detail="persistence_down"
    )
    health = processor.health()
    assert (health.ready, health.halted, health.persistence_healthy) == (False, True, False)
    assert processor.consume(completed("run-2", 200)) == []


def test_20_publish_limit_halts() -> None:
    processor = StateGateProcessor(
        sample_config(max_gap_ms=1).model_copy(update={"publish_limits": OperationLimits(max_pending=1)})
    )
    assert len(processor.consume(completed("run-2", 100))) == 1
    (halt,) = processor.consume(completed("run-3", 105))
    assert halt.event_type == "StateGateHalted"
    assert halt.payload == c.StateGateHaltedPayload(
        error_kind="publish_blocked", error_detail="output publish backpressure exceeded"
    )
    records = processor.store.records
    assert len(records) == 2
    assert (records[-1].state_status, records[-1].gate_status) == ("HALTED", "CLOSED")
    assert processor.consume(completed("run-4", 200)) == []
    health = processor.health()
    assert (health.ready, health.publish_healthy) == (False, False)


def test_21_metrics() -> None:
    metrics = RecordingMetrics()
    processor = StateGateProcessor(sample_config(max_gap_ms=1), metrics=metrics)
    processor.consume(completed("run-2", 100))
    processor.consume(completed("run-3", 105))
    assert len(metrics.named(GATE_DECISIONS)) >= 2
    (reset,) = metrics.named(RESETS)
    assert reset.tags == {"reset_reason": "reset_timestamp_gap"}
    (lag,) = metrics.named(PROCESSING_LAG_MS)
    assert lag.value == 5.0


def test_22_decision_log(caplog: pytest.LogCaptureFixture) -> None:
    processor = StateGateProcessor(sample_config())
    with caplog.at_level(logging.INFO):
        processor.consume(completed("run-1", 100))
    (record,) = [r for r in caplog.records if r.getMessage() == "state_gate.GateEvaluated"]
    fields = record.__dict__["xray_fields"]
    assert fields["symbol"] == "TEST"
    assert fields["run_id"] == "run-1"
    assert fields["input_event_type"] == "EngineRunCompleted"
    assert (fields["state_status"], fields["gate_status"], fields["reasons"]) == ("READY", "OPEN", [])


def test_23_fresh_health() -> None:
    health = StateGateProcessor(sample_config()).health()
    assert (health.ready, health.halted) == (True, False)


def test_24_run_started_is_ignored() -> None:
    processor = StateGateProcessor(sample_config())
    assert processor.consume(started("run-1", 100)) == []
    assert processor.store.records == ()
    assert processor.store.snapshots == {}


SEED_SNIPPET = """
from consumers.state_gate import StateGateConfig, OperationLimits, StateGateProcessor
from orchestrator.contracts import OrchestratorEvent


config = StateGateConfig(
    max_gap_ms=1000,
    denylisted_invalidations=["late_data"],
    block_during_transition=True,
    input_limits=OperationLimits(max_pending=10, max_block_ms=100, max_failures=3),
    persistence_limits=OperationLimits(max_pending=10, max_block_ms=100, max_failures=3),
    publish_limits=OperationLimits(max_pending=10, max_block_ms=100, max_failures=3),
)

processor = StateGateProcessor(config=config)

# given an orchestrator OrchestratorEvent named event
outputs = processor.consume(event)  # list of StateGateEvent (GateEvaluated/StateReset/StateGateHalted)
"""


def test_seed_snippet_runs_unchanged_with_a_failed_run_from_the_envelope_alone() -> None:
    from orchestrator.contracts import OrchestratorEvent

    event = OrchestratorEvent(
        schema="orchestrator_event",
        schema_version="1",
        event_type="EngineRunFailed",
        run_id="run-1",
        symbol="TEST",
        engine_timestamp_ms=100,
        cut_start_ingest_seq=1,
        cut_end_ingest_seq=5,
        cut_kind="timer",
    )
    namespace: dict[str, object] = {"event": event}
    exec(SEED_SNIPPET, namespace)
    outputs = namespace["outputs"]
    assert isinstance(outputs, list)
    (gate,) = outputs
    assert (gate.event_type, gate.gate_status, gate.state_status) == ("GateEvaluated", "CLOSED", "DEGRADED")
    assert gate.payload is None
