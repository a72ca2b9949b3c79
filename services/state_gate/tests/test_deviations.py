"""Deliberate deviations from the original (fact sheet section 8): each one pinned by a test."""

from __future__ import annotations

from dataclasses import replace

from consumers.state_gate import OperationLimits, StateGateProcessor, StateGateStateStore
from consumers.state_gate import contracts as c
from consumers.state_gate.samples import (
    completed,
    failed,
    hysteresis,
    hysteresis_state,
    orchestrator_event,
    regime_output,
    sample_config,
)
from xray_contracts.orchestrator_event import OrchestratorPayload


def _halt_kind(events: list[c.StateGateEvent]) -> str:
    (event,) = events
    assert event.event_type == "StateGateHalted"
    assert (event.gate_status, event.state_status, event.reasons) == (
        "CLOSED",
        "HALTED",
        ("internal_failure",),
    )
    assert isinstance(event.payload, c.StateGateHaltedPayload)
    return event.payload.error_kind


def test_hysteresis_first_waits_for_the_regime_output_so_the_denylist_fires() -> None:
    # G7: the original decided on HysteresisStatePublished alone, so the denylist never fired live.
    processor = StateGateProcessor(sample_config(denylist=("late",)))
    assert processor.consume(hysteresis("run-1", 100, progress=0)) == []
    (event,) = processor.consume(completed("run-1", 100, engine_mode="hysteresis", invalidations=("late",)))
    assert (event.gate_status, event.state_status, event.reasons) == (
        "CLOSED",
        "HOLD",
        ("denylisted_invalidation:late",),
    )
    assert event.input_event_type == "HysteresisStatePublished"  # hysteresis wins
    # G8: a denylist-closed evaluation keeps the hysteresis_state in its payload.
    assert isinstance(event.payload, c.GateEvaluatedPayload)
    assert event.payload.hysteresis_state is not None
    assert event.payload.regime_output is not None
    assert processor.consume(completed("run-1", 100, engine_mode="hysteresis")) == []


def test_hysteresis_event_carrying_both_payloads_gates_at_once() -> None:
    processor = StateGateProcessor(sample_config())
    (event,) = processor.consume(hysteresis("run-1", 100, invalidations=()))
    assert (event.gate_status, event.input_event_type) == ("OPEN", "HysteresisStatePublished")
    assert processor.consume(completed("run-1", 100, engine_mode="hysteresis")) == []


def test_malformed_inputs_halt_instead_of_raising() -> None:
    # G4: the original raised out of the processor and stayed "ready".
    bad_inputs = [
        orchestrator_event("EngineRunCompleted", "r", 100),
        orchestrator_event("HysteresisStatePublished", "r", 100, engine_mode="hysteresis"),
        orchestrator_event("EngineRunFailed", "r", 100, payload=OrchestratorPayload(error_kind="x")),
        orchestrator_event(
            "EngineRunCompleted", "r", 100, engine_mode="warp", payload=completed("r", 100).payload
        ),
        replace(completed("r", 100), schema="something_else"),
        replace(completed("r", 100), engine_timestamp_ms=-1),
        replace(completed("r", 100), run_id=""),
        replace(completed("r", 100), payload={"regime_output": {}}),  # type: ignore[arg-type]
        replace(
            completed("r", 100),
            payload=OrchestratorPayload(
                regime_output=replace(regime_output("TEST", 100), invalidations="late")  # type: ignore[arg-type]
            ),
        ),
        replace(
            hysteresis("r", 100),
            payload=OrchestratorPayload(
                hysteresis_state=replace(hysteresis_state("TEST", 100), progress_current=-1)
            ),
        ),
    ]
    for bad in bad_inputs:
        processor = StateGateProcessor(sample_config())
        assert _halt_kind(processor.consume(bad)) == "malformed_input", bad
        assert processor.health().input_healthy is False
        assert processor.consume(completed("later", 500)) == []


def test_inconsistent_inputs_halt() -> None:
    cases = [
        [
            completed("r", 100, engine_mode="hysteresis"),
            replace(hysteresis("r", 100), engine_timestamp_ms=101),
        ],
        [
            replace(
                completed("r", 100), payload=OrchestratorPayload(regime_output=regime_output("OTHER", 100))
            )
        ],
        [replace(completed("r", 100), payload=OrchestratorPayload(regime_output=regime_output("TEST", 99)))],
        [replace(failed("r", 100), payload=OrchestratorPayload(regime_output=regime_output("TEST", 100)))],
        [completed("r", 100), replace(completed("r", 100), engine_timestamp_ms=50)],
    ]
    for case in cases:
        processor = StateGateProcessor(sample_config())
        outputs = [processor.consume(event) for event in case]
        kind = _halt_kind(outputs[-1])
        assert kind == "inconsistent_input", case


def test_inconsistent_mode_for_pending_run() -> None:
    processor = StateGateProcessor(sample_config())
    assert processor.consume(hysteresis("r", 100)) == []
    truth_completed = completed("r", 100, engine_mode="truth")
    assert _halt_kind(processor.consume(truth_completed)) == "inconsistent_input"


def test_not_an_orchestrator_event_halts_closed() -> None:
    processor = StateGateProcessor(sample_config())
    assert processor.consume(object()) == []  # type: ignore[arg-type]  # no event_type: ignored
    event = replace(completed("r", 100), payload=42)  # type: ignore[arg-type]
    assert _halt_kind(processor.consume(event)) == "malformed_input"


def test_halt_survives_restart_until_resume() -> None:
    # G3: the original's halt lived in memory only; a restart silently resumed.
    first = StateGateProcessor(sample_config())
    first.consume(completed("run-1", 100))
    first.consume(orchestrator_event("EngineRunCompleted", "run-2", 200))
    for store in (
        StateGateStateStore(records=first.store.records),
        StateGateStateStore(snapshots=first.store.snapshots.values()),
    ):
        restarted = StateGateProcessor(sample_config(), store=store)
        assert restarted.health().halted
        assert restarted.consume(completed("run-3", 300)) == []
        restarted.resume("TEST")
        assert restarted.health().ready
        snap = restarted.store.snapshot("TEST")
        assert (snap.state_status, snap.gate_status, snap.halted) == ("BOOTSTRAP", "CLOSED", False)
        (event,) = restarted.consume(completed("run-4", 400))
        assert (event.gate_status, event.state_status) == ("OPEN", "READY")


def test_halt_is_per_symbol() -> None:
    processor = StateGateProcessor(sample_config())
    processor.consume(orchestrator_event("EngineRunCompleted", "bad", 100, symbol="AAA"))
    (event,) = processor.consume(completed("run-1", 100, symbol="BBB"))
    assert event.gate_status == "OPEN"
    assert processor.consume(completed("run-2", 200, symbol="AAA")) == []


def test_engine_gap_reset() -> None:
    processor = StateGateProcessor(sample_config(max_gap_ms=1000))
    first = processor.consume(hysteresis("run-1", 100, invalidations=(), reason_codes=("RESET_TIME_GAP",)))
    assert [e.event_type for e in first] == ["GateEvaluated"]  # never on a symbol's first run
    reset, gate = processor.consume(
        hysteresis("run-2", 200, invalidations=(), reason_codes=(c.ENGINE_GAP_RESET_CODE,))
    )
    assert reset.payload == c.StateResetPayload(reset_reason="reset_engine_gap")
    assert reset.reasons == ("reset_engine_gap",)
    assert gate.event_type == "GateEvaluated"


def test_input_limit_on_pending_runs() -> None:
    config = sample_config().model_copy(update={"input_limits": OperationLimits(max_pending=2)})
    processor = StateGateProcessor(config)
    assert processor.consume(hysteresis("r1", 100)) == []
    assert processor.consume(hysteresis("r2", 101)) == []
    assert _halt_kind(processor.consume(hysteresis("r3", 102))) == "input_limit_exceeded"


def test_pending_runs_are_pruned_when_a_newer_run_decides() -> None:
    processor = StateGateProcessor(sample_config())
    processor.consume(hysteresis("r1", 100))
    processor.consume(hysteresis("r2", 200, invalidations=()))
    assert processor.store.snapshot("TEST").pending == ()
    assert processor.consume(completed("r1", 100, engine_mode="hysteresis")) == []


def test_pending_runs_survive_a_restart_via_snapshots() -> None:
    first = StateGateProcessor(sample_config())
    assert first.consume(completed("r1", 100, engine_mode="hysteresis")) == []
    restarted = StateGateProcessor(
        sample_config(), store=StateGateStateStore(snapshots=first.store.snapshots.values())
    )
    (event,) = restarted.consume(hysteresis("r1", 100))
    assert event.gate_status == "OPEN"


class _FlakyStore(StateGateStateStore):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def append(self, record: c.StateGateStateRecord) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("transient")
        super().append(record)


def test_persistence_max_failures_retries_before_halting() -> None:
    limits = OperationLimits(max_pending=10, max_failures=3)
    config = sample_config().model_copy(update={"persistence_limits": limits})
    (event,) = StateGateProcessor(config, store=_FlakyStore(2)).consume(completed("r1", 100))
    assert event.gate_status == "OPEN"
    (halt,) = StateGateProcessor(config, store=_FlakyStore(3)).consume(completed("r1", 100))
    assert halt.event_type == "StateGateHalted"


def test_persistence_max_pending_limits_records_per_input() -> None:
    config = sample_config(max_gap_ms=1).model_copy(
        update={"persistence_limits": OperationLimits(max_pending=1)}
    )
    processor = StateGateProcessor(config)
    processor.consume(completed("r1", 100))
    assert _halt_kind(processor.consume(completed("r2", 200))) == "persistence_failure"


def test_resume_then_gap_reset_against_the_halt() -> None:
    processor = StateGateProcessor(sample_config(max_gap_ms=50))
    processor.consume(completed("r1", 100))
    processor.consume(orchestrator_event("EngineRunCompleted", "bad", 120))
    assert processor.consume(completed("r2", 130)) == []  # halted: ignored
    processor.resume("TEST")
    events = processor.consume(completed("r3", 300))
    assert [e.event_type for e in events] == ["StateReset", "GateEvaluated"]
    assert processor.consume(completed("r2", 130)) == []  # older than the last decided run


def test_failed_run_in_hysteresis_mode_decides_at_once() -> None:
    processor = StateGateProcessor(sample_config())
    (event,) = processor.consume(failed("r1", 100, engine_mode="hysteresis"))
    assert event.reasons == ("run_failed",)
    assert processor.consume(hysteresis("r1", 100, invalidations=())) == []
