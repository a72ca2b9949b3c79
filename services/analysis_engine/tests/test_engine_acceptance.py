"""Fact-sheet acceptance behaviours (section 7) that still apply, plus the listed deviations."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from consumers.analysis_engine import (
    AnalysisEngine,
    AnalysisEngineConfig,
    ConfigError,
    ModuleConfig,
    ModuleRegistry,
    RegistryError,
    SymbolConfig,
    build_plan,
    validate_config,
)
from consumers.analysis_engine.contracts import (
    ARTIFACT_KINDS,
    EVENT_TYPES,
    MODULE_KINDS,
    RUN_STATUSES,
    SCHEMA,
    AnalysisEngineEvent,
    AnalysisModuleStateRecord,
    ArtifactEmittedPayload,
    ArtifactSchema,
    ModuleFailedPayload,
    RunContext,
    RunStatusPayload,
    idempotency_key,
)
from consumers.analysis_engine.modules import AnalysisModule, ModuleResult, order_artifact_schemas
from consumers.analysis_engine.testing import gate_event, value_module


def engine_of(*modules: AnalysisModule, enabled: list[str] | None = None, **kw: Any) -> AnalysisEngine:
    """An engine with all given modules enabled (unless `enabled` says otherwise)."""
    registry = ModuleRegistry(modules=list(modules))
    ids = [m.definition.module_id for m in modules] if enabled is None else enabled
    return AnalysisEngine(
        registry=registry, config=AnalysisEngineConfig(enabled_modules=ids, module_configs=[]), **kw
    )


def types(events: list[AnalysisEngineEvent]) -> list[str]:
    return [e.event_type for e in events]


def status(event: AnalysisEngineEvent) -> RunStatusPayload:
    assert isinstance(event.payload, RunStatusPayload)
    return event.payload


def failed(event: AnalysisEngineEvent) -> ModuleFailedPayload:
    assert isinstance(event.payload, ModuleFailedPayload)
    return event.payload


def artifact(event: AnalysisEngineEvent) -> ArtifactEmittedPayload:
    assert isinstance(event.payload, ArtifactEmittedPayload)
    return event.payload


def raising(message: str) -> Any:
    def fn(*_: Any) -> ModuleResult:
        raise RuntimeError(message)

    return fn


# 1
def test_constants() -> None:
    assert SCHEMA == "analysis_engine_event"
    assert EVENT_TYPES == (
        "AnalysisRunStarted",
        "AnalysisRunSkipped",
        "ArtifactEmitted",
        "ModuleFailed",
        "AnalysisRunCompleted",
        "AnalysisRunFailed",
    )
    assert ARTIFACT_KINDS == ("signal", "detection", "evaluation", "output")
    assert MODULE_KINDS == ("signal", "detector", "rule", "output")
    assert RUN_STATUSES == ("SUCCESS", "PARTIAL", "FAILED")
    assert idempotency_key("run-1") == "run-1"


# 2
def test_contracts_are_immutable() -> None:
    engine = engine_of(value_module("signal.a"))
    events = engine.consume(gate_event())
    with pytest.raises(dataclasses.FrozenInstanceError):
        events[0].run_id = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        artifact(events[1]).module_id = "x"  # type: ignore[misc]
    payload = artifact(events[1]).payload
    payload["module"] = "changed"
    assert artifact(events[1]).payload == {"module": "signal.a"}
    record = AnalysisModuleStateRecord(
        symbol="T",
        module_id="m",
        run_id="r",
        engine_timestamp_ms=1,
        state_schema_id="s",
        state_schema_version="1",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.run_id = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        value_module("signal.a").definition.module_id = "x"  # type: ignore[misc]
    ctx = RunContext(
        symbol="T",
        run_id="r",
        engine_timestamp_ms=1,
        engine_mode=None,
        gate_status="OPEN",
        gate_reasons=(),
        regime_output=None,
        hysteresis_state=None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.symbol = "x"  # type: ignore[misc]


def test_unknown_event_type_and_wrong_payload_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"unknown"):
        AnalysisEngineEvent(event_type="Nope", symbol="T", run_id="r", engine_timestamp_ms=1)
    with pytest.raises(ValueError, match=r"payload"):
        AnalysisEngineEvent(event_type="ArtifactEmitted", symbol="T", run_id="r", engine_timestamp_ms=1)
    with pytest.raises(ValueError, match=r"no payload"):
        AnalysisEngineEvent(
            event_type="AnalysisRunStarted",
            symbol="T",
            run_id="r",
            engine_timestamp_ms=1,
            payload=RunStatusPayload(status="SUCCESS"),
        )


# 3
def test_config_validation() -> None:
    registry = ModuleRegistry(modules=[value_module("signal.a")])
    ok = AnalysisEngineConfig(
        enabled_modules=["signal.a"],
        module_configs=[ModuleConfig(module_id="signal.a", config={"threshold": 1})],
        symbols=[SymbolConfig(symbol="TEST", enabled_modules=["signal.a"])],
    )
    validate_config(ok, registry)
    with pytest.raises(ConfigError, match=r"unknown module_id in enabled_modules: nope"):
        validate_config(AnalysisEngineConfig(enabled_modules=["nope"], module_configs=[]), registry)
    dup = [ModuleConfig(module_id="signal.a"), ModuleConfig(module_id="signal.a")]
    with pytest.raises(ConfigError, match=r"duplicate module_config for signal.a"):
        validate_config(AnalysisEngineConfig(enabled_modules=[], module_configs=dup), registry)
    with pytest.raises(ConfigError, match=r"unknown module_id in symbol config: nope"):
        validate_config(
            AnalysisEngineConfig(
                enabled_modules=[],
                module_configs=[],
                symbols=[SymbolConfig(symbol="X", enabled_modules=["nope"])],
            ),
            registry,
        )
    with pytest.raises(ValueError, match=r"module_config for signal.a must be a mapping if provided"):
        ModuleConfig(module_id="signal.a", config=123)
    with pytest.raises(ConfigError, match=r"unknown module_id in module_configs: nope"):
        validate_config(
            AnalysisEngineConfig(enabled_modules=[], module_configs=[ModuleConfig(module_id="nope")]),
            registry,
        )
    with pytest.raises(ConfigError, match=r"duplicate symbol entry: X"):
        validate_config(
            AnalysisEngineConfig(
                enabled_modules=[],
                module_configs=[],
                symbols=[
                    SymbolConfig(symbol="X", enabled_modules=[]),
                    SymbolConfig(symbol="X", enabled_modules=[]),
                ],
            ),
            registry,
        )


def test_config_rejects_unknown_keys_and_string_lists() -> None:
    with pytest.raises(ValueError, match=r"extra"):
        AnalysisEngineConfig.model_validate({"enabled_modules": [], "module_configs": [], "bogus": 1})
    with pytest.raises(ValueError, match=r"list"):
        AnalysisEngineConfig.model_validate({"enabled_modules": "signal.a", "module_configs": []})
    with pytest.raises(ValueError, match=r"extra"):
        ModuleConfig.model_validate({"module_id": "a", "config": None, "x": 1})


# 4
def test_registry_sorting_duplicates_and_dependency_validation() -> None:
    registry = ModuleRegistry(modules=[value_module("b"), value_module("a")])
    assert [d.module_id for d in registry.definitions()] == ["a", "b"]
    with pytest.raises(RegistryError, match=r"duplicate module_id: a"):
        ModuleRegistry(modules=[value_module("a"), value_module("a")])
    dependent = ModuleRegistry(modules=[value_module("a", depends_on=[("x", "value")]), value_module("x")])
    with pytest.raises(RegistryError, match=r"missing dependency for a: x.value"):
        dependent.validate_dependencies(["a"])
    with pytest.raises(RegistryError, match=r"missing dependency for a: nope.value"):
        ModuleRegistry(modules=[value_module("a", depends_on=[("nope", "value")])]).validate_dependencies(
            ["a"]
        )
    cyclic = ModuleRegistry(
        modules=[
            value_module("a", depends_on=[("b", "value")]),
            value_module("b", depends_on=[("a", "value")]),
        ]
    )
    with pytest.raises(RegistryError, match=r"dependency cycle detected at a"):
        cyclic.validate_dependencies(["a", "b"])


# 5
def test_plan_stages_and_order() -> None:
    registry = ModuleRegistry(
        modules=[
            value_module("output.o", kind="output", depends_on=[("rule.r", "value")]),
            value_module("rule.r", kind="rule", depends_on=[("signal.b", "value")]),
            value_module("signal.b", depends_on=[("signal.a", "value")]),
            value_module("signal.a"),
        ]
    )
    plan = build_plan(registry, registry.module_ids())
    assert [s.module_id for s in plan.stage("signal")] == ["signal.a", "signal.b"]
    assert plan.stage("detector") == ()
    assert [s.module_id for s in plan.stage("rule")] == ["rule.r"]
    assert [s.module_id for s in plan.stage("output")] == ["output.o"]
    assert [kind for kind, _ in plan.stages] == ["signal", "detector", "rule", "output"]


# 6
def test_plan_rejects_later_stage_dependency() -> None:
    registry = ModuleRegistry(
        modules=[
            value_module("rule.r", kind="rule", depends_on=[("output.o", "value")]),
            value_module("output.o", kind="output"),
        ]
    )
    with pytest.raises(
        RegistryError, match=r"invalid dependency ordering: rule.r depends on later stage output.o"
    ):
        build_plan(registry, registry.module_ids())
    with pytest.raises(ConfigError, match=r"later stage"):
        AnalysisEngine(
            registry=registry,
            config=AnalysisEngineConfig(enabled_modules=["rule.r", "output.o"], module_configs=[]),
        )


# 7
def test_tie_break() -> None:
    registry = ModuleRegistry(
        modules=[value_module("z"), value_module("a", depends_on=[("z", "value")]), value_module("b")]
    )
    assert build_plan(registry, ["z", "a", "b"]).module_ids() == ("b", "z", "a")


# 8
def test_artifact_schema_ordering_helper() -> None:
    schemas = [ArtifactSchema("b", "s", "1"), ArtifactSchema("a", "s", "1")]
    assert [s.artifact_name for s in order_artifact_schemas(schemas)] == ["a", "b"]


# 9
def test_empty_registry_open_gate() -> None:
    engine = engine_of()
    events = engine.consume(gate_event())
    assert types(events) == ["AnalysisRunStarted", "AnalysisRunCompleted"]
    assert status(events[-1]).status == "SUCCESS"
    assert all(e.schema == "analysis_engine_event" and e.schema_version == "1" for e in events)
    assert events[0].engine_mode == "truth"
    assert events[0].source_gate_reasons == ("ok",)


# 10
def test_closed_gate_gives_exactly_one_skip() -> None:
    engine = engine_of(value_module("signal.a"))
    events = engine.consume(gate_event(gate_status="CLOSED", reasons=["transition_active"]))
    assert types(events) == ["AnalysisRunSkipped"]
    assert events[0].payload is None
    assert events[0].source_gate_reasons == ("transition_active",)
    assert engine.metrics.value("analysis_engine.idempotency_skips", reason="gate_closed") == 1


# 11
def test_duplicate_run_id() -> None:
    engine = engine_of()
    assert len(engine.consume(gate_event("run-dup"))) == 2
    assert engine.consume(gate_event("run-dup")) == []
    assert engine.metrics.value("analysis_engine.idempotency_skips", reason="duplicate_run_id") == 1


# 12
def test_halt() -> None:
    engine = engine_of()
    assert engine.health().ready
    events = engine.consume(
        gate_event("run-halt", event_type="StateGateHalted", reasons=["internal_failure"])
    )
    assert types(events) == ["AnalysisRunFailed"]
    assert status(events[0]).status == "FAILED"
    assert status(events[0]).module_failures == ()
    assert events[0].source_gate_reasons == ("internal_failure",)
    assert engine.halted_symbols() == ("TEST",)
    assert engine.metrics.value("analysis_engine.run_status", status="FAILED") == 1  # deviation: counted
    assert not engine.health().ready
    assert engine.health().halted
    assert engine.consume(gate_event("run-next")) == []
    assert engine.consume(gate_event("run-halt-2", event_type="StateGateHalted")) == []
    assert types(engine.consume(gate_event("run-other", symbol="OTHER"))) == [
        "AnalysisRunStarted",
        "AnalysisRunCompleted",
    ]


def test_deviation_halt_lifts_on_newer_gate_input() -> None:
    """Deviation: a GateEvaluated newer than the halt (state_gate was resumed) lifts the halt."""
    engine = engine_of()
    engine.consume(gate_event("run-halt", event_type="StateGateHalted", timestamp=100))
    assert engine.consume(gate_event("run-same-ts", timestamp=100)) == []
    events = engine.consume(gate_event("run-later", timestamp=200))
    assert types(events) == ["AnalysisRunStarted", "AnalysisRunCompleted"]
    assert engine.health().ready
    assert engine.state.ledgers["TEST"].halted is False


# 13
def test_one_signal_module() -> None:
    engine = engine_of(value_module("signal.a"))
    events = engine.consume(gate_event())
    assert types(events) == ["AnalysisRunStarted", "ArtifactEmitted", "AnalysisRunCompleted"]
    assert status(events[-1]).status == "SUCCESS"
    emitted = artifact(events[1])
    assert (emitted.module_id, emitted.artifact_name, emitted.artifact_kind) == (
        "signal.a",
        "value",
        "signal",
    )


# 14
def test_module_raising() -> None:
    engine = engine_of(value_module("signal.fail", fn=raising("boom")), value_module("signal.ok"))
    events = engine.consume(gate_event())
    fail = next(failed(e) for e in events if e.event_type == "ModuleFailed")
    assert (fail.module_id, fail.module_kind, fail.error_kind, fail.error_detail) == (
        "signal.fail",
        "signal",
        "exception",
        "boom",
    )
    assert [artifact(e).module_id for e in events if e.event_type == "ArtifactEmitted"] == ["signal.ok"]
    assert events[-1].event_type == "AnalysisRunCompleted"
    assert status(events[-1]).status == "PARTIAL"
    assert status(events[-1]).module_failures == ("signal.fail",)


# 15
def test_failure_cascades_to_dependents() -> None:
    engine = engine_of(
        value_module("signal.parent", fn=raising("boom")),
        value_module("signal.child", depends_on=[("signal.parent", "value")]),
    )
    events = engine.consume(gate_event())
    fails = {failed(e).module_id: failed(e) for e in events if e.event_type == "ModuleFailed"}
    assert fails["signal.parent"].error_kind == "exception"
    assert (fails["signal.child"].error_kind, fails["signal.child"].error_detail) == (
        "missing_dependency",
        "dependency not available",
    )
    assert status(events[-1]).status == "PARTIAL"
    assert status(events[-1]).module_failures == ("signal.child", "signal.parent")


def counting(self: AnalysisModule, ctx: RunContext, deps: Any, state: Any, cfg: Any) -> ModuleResult:
    count = (state or {}).get("count", 0) + 1
    return ModuleResult(artifacts=(self.artifact("value", {"count": count}),), state_payload={"count": count})


# 16
def test_stateful_module() -> None:
    engine = engine_of(value_module("signal.s", stateful=True, fn=counting))
    first = engine.process(gate_event("run-state-1"))
    engine.apply(first)
    assert [r.state_payload for r in first.state_records] == [{"count": 1}]
    assert first.state_records[0].state_schema_id == "signal.s.state"
    second = engine.process(gate_event("run-state-2"))
    engine.apply(second)
    assert [r.state_payload for r in second.state_records] == [{"count": 2}]
    assert engine.state.module_state("TEST", "signal.s").state_payload == {"count": 2}  # type: ignore[union-attr]

    def boom(self: AnalysisModule, *_: Any) -> ModuleResult:
        raise RuntimeError("no")

    broken = engine_of(value_module("signal.s", stateful=True, fn=boom))
    outcome = broken.process(gate_event("run-state-1"))
    assert outcome.state_records == ()


# 17
def test_replay_is_deterministic() -> None:
    def sig(events: list[AnalysisEngineEvent]) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        for e in events:
            p = e.payload
            out.append(
                (
                    e.event_type,
                    (p.module_id, p.artifact_name, p.artifact_kind)
                    if isinstance(p, ArtifactEmittedPayload)
                    else None,
                )
            )
        return out

    runs = []
    for _ in range(2):
        engine = engine_of(value_module("signal.a"), value_module("signal.s", stateful=True, fn=counting))
        runs.append([e for run_id in ("run-1", "run-2") for e in engine.consume(gate_event(run_id))])
    assert sig(runs[0]) == sig(runs[1])
    assert runs[0] == runs[1]


# 18
def test_metrics() -> None:
    engine = engine_of(value_module("signal.a"))
    engine.consume(gate_event())
    assert engine.metrics.total("analysis_engine.run_status") >= 1
    assert (
        engine.metrics.value("analysis_engine.artifacts", module_id="signal.a", artifact_kind="signal") == 1
    )
    engine.consume(gate_event())
    assert engine.metrics.total("analysis_engine.idempotency_skips") >= 1


# 19
def test_state_reset_does_not_consume_run_id() -> None:
    engine = engine_of()
    assert engine.consume(gate_event("run-r", event_type="StateReset", reasons=["reset_timestamp_gap"])) == []
    assert types(engine.consume(gate_event("run-r"))) == ["AnalysisRunStarted", "AnalysisRunCompleted"]


def test_deviation_state_reset_clears_module_state() -> None:
    """Deviation (G4): StateReset clears the symbol's module state; a redelivered reset is ignored."""
    engine = engine_of(value_module("signal.s", stateful=True, fn=counting))
    engine.consume(gate_event("run-1", timestamp=100))
    engine.consume(gate_event("run-2", timestamp=200))
    reset = engine.process(gate_event("run-3", event_type="StateReset", timestamp=300))
    assert reset.cleared_modules == ("signal.s",)
    engine.apply(reset)
    assert engine.state.module_state("TEST", "signal.s") is None
    events = engine.consume(gate_event("run-3", timestamp=300))
    assert artifact(events[1]).payload == {"count": 1}
    # The same reset redelivered after its run: ignored (would otherwise wipe fresh state).
    assert engine.process(gate_event("run-3", event_type="StateReset", timestamp=300)).cleared_modules == ()
    # A reset older than the newest processed run: ignored.
    assert engine.process(gate_event("run-0", event_type="StateReset", timestamp=50)).cleared_modules == ()


# 20
def test_closed_then_open_same_run_id() -> None:
    engine = engine_of()
    engine.consume(gate_event("run-c", gate_status="CLOSED"))
    assert engine.consume(gate_event("run-c")) == []


def test_deviation_stale_run_is_skipped() -> None:
    """Deviation: a GateEvaluated older than the newest processed run of the symbol is skipped."""
    engine = engine_of()
    engine.consume(gate_event("run-2", timestamp=200))
    assert engine.consume(gate_event("run-1", timestamp=100)) == []
    assert engine.metrics.value("analysis_engine.idempotency_skips", reason="stale_run") == 1
    assert len(engine.consume(gate_event("run-3", timestamp=200))) == 2  # equal timestamp still runs


def test_deviation_recent_run_ids_are_bounded() -> None:
    engine = engine_of(recent_run_limit=3)
    for i in range(5):
        engine.consume(gate_event(f"run-{i}", timestamp=100 + i))
    assert engine.state.ledgers["TEST"].recent_run_ids == ("run-2", "run-3", "run-4")
    assert engine.state.ledgers["TEST"].last_run_id == "run-4"


# 21
def test_wrong_artifact_kind() -> None:
    def wrong(self: AnalysisModule, *_: Any) -> ModuleResult:
        good = self.artifact("value", 1)
        return ModuleResult(artifacts=(dataclasses.replace(good, artifact_kind="detection"),))

    events = engine_of(value_module("signal.e", fn=wrong)).consume(gate_event())
    fail = failed(events[1])
    assert fail.error_kind == "exception"
    assert fail.error_detail == "invalid artifact kind for signal.e: detection (expected ('signal',))"
    assert "ArtifactEmitted" not in types(events)


def test_deviation_artifact_identity_is_enforced() -> None:
    """Deviation (G7): artifacts must carry the executing module's id and a declared name, once."""

    def foreign(self: AnalysisModule, *_: Any) -> ModuleResult:
        return ModuleResult(artifacts=(dataclasses.replace(self.artifact("value", 1), module_id="other"),))

    def undeclared(self: AnalysisModule, *_: Any) -> ModuleResult:
        return ModuleResult(artifacts=(dataclasses.replace(self.artifact("value", 1), artifact_name="nope"),))

    def twice(self: AnalysisModule, *_: Any) -> ModuleResult:
        return ModuleResult(artifacts=(self.artifact("value", 1), self.artifact("value", 2)))

    for fn, text in (
        (foreign, "module_id mismatch"),
        (undeclared, "undeclared artifact"),
        (twice, "duplicate artifact"),
    ):
        events = engine_of(value_module("signal.x", fn=fn)).consume(gate_event())
        assert text in failed(events[1]).error_detail


def test_deviation_error_detail_is_bounded() -> None:
    events = engine_of(value_module("signal.x", fn=raising("x" * 5000))).consume(gate_event())
    assert len(failed(events[1]).error_detail) == 300


def test_non_json_payload_fails_the_module() -> None:
    def nan(self: AnalysisModule, *_: Any) -> ModuleResult:
        return ModuleResult(artifacts=(self.artifact("value", float("nan")),))

    events = engine_of(value_module("signal.x", fn=nan)).consume(gate_event())
    assert failed(events[1]).error_kind == "exception"


# 22
def test_artifacts_sorted_by_name() -> None:
    events = engine_of(value_module("signal.m", artifacts=["z", "a"])).consume(gate_event())
    assert [artifact(e).artifact_name for e in events if e.event_type == "ArtifactEmitted"] == ["a", "z"]


# 23
def test_dependency_on_missing_artifact_name() -> None:
    engine = engine_of(
        value_module("signal.a"), value_module("signal.b", depends_on=[("signal.a", "missing")])
    )
    events = engine.consume(gate_event())
    fail = failed(events[2])
    assert (fail.module_id, fail.error_kind) == ("signal.b", "missing_dependency")


# 24
def test_enabled_by_default_and_empty_symbol_entry() -> None:
    registry = ModuleRegistry(
        modules=[value_module("signal.d", enabled_by_default=True), value_module("signal.off")]
    )
    engine = AnalysisEngine(
        registry=registry,
        config=AnalysisEngineConfig(
            enabled_modules=[], module_configs=[], symbols=[SymbolConfig(symbol="QUIET", enabled_modules=[])]
        ),
    )
    events = engine.consume(gate_event())
    assert [artifact(e).module_id for e in events if e.event_type == "ArtifactEmitted"] == ["signal.d"]
    quiet = engine.consume(gate_event(symbol="QUIET"))
    assert types(quiet) == ["AnalysisRunStarted", "AnalysisRunCompleted"]
    assert status(quiet[-1]).status == "SUCCESS"


# 25
def test_worked_example() -> None:
    def wrong_kind(self: AnalysisModule, *_: Any) -> ModuleResult:
        return ModuleResult(
            artifacts=(dataclasses.replace(self.artifact("value", 1), artifact_kind="detection"),)
        )

    def n_state(self: AnalysisModule, ctx: RunContext, deps: Any, state: Any, cfg: Any) -> ModuleResult:
        n = (state or {}).get("n", 0) + 1
        return ModuleResult(artifacts=(self.artifact("value", {"n": n}),), state_payload={"n": n})

    engine = engine_of(
        value_module("a"),
        value_module("b", artifacts=["z", "a"]),
        value_module("c", depends_on=[("a", "value")]),
        value_module("d", depends_on=[("b", "missing")]),
        value_module("e", fn=wrong_kind),
        value_module("f", depends_on=[("e", "value")]),
        value_module("g", stateful=True, fn=n_state),
    )
    outcome = engine.process(gate_event("r1"))
    engine.apply(outcome)

    def row(e: AnalysisEngineEvent) -> tuple[str, ...]:
        p = e.payload
        if isinstance(p, ArtifactEmittedPayload):
            return (e.event_type, p.module_id, p.artifact_name)
        if isinstance(p, ModuleFailedPayload):
            return (e.event_type, p.module_id, p.error_kind)
        if isinstance(p, RunStatusPayload):
            return (e.event_type, p.status, *p.module_failures)
        return (e.event_type,)

    assert [row(e) for e in outcome.events] == [
        ("AnalysisRunStarted",),
        ("ArtifactEmitted", "a", "value"),
        ("ArtifactEmitted", "b", "a"),
        ("ArtifactEmitted", "b", "z"),
        ("ArtifactEmitted", "c", "value"),
        ("ModuleFailed", "d", "missing_dependency"),
        ("ModuleFailed", "e", "exception"),
        ("ModuleFailed", "f", "missing_dependency"),
        ("ArtifactEmitted", "g", "value"),
        ("AnalysisRunCompleted", "PARTIAL", "d", "e", "f"),
    ]
    assert "invalid artifact kind" in failed(outcome.events[6]).error_detail
    assert [r.state_payload for r in outcome.state_records] == [{"n": 1}]
    second = engine.process(gate_event("r2"))
    engine.apply(second)
    assert [r.state_payload for r in second.state_records] == [{"n": 2}]
    assert engine.consume(gate_event("r1")) == []


def test_deviation_module_config_reaches_module() -> None:
    """Deviation (G5): each module receives its validated config blob."""
    seen: list[dict[str, Any]] = []

    def remember(self: AnalysisModule, ctx: RunContext, deps: Any, state: Any, cfg: Any) -> ModuleResult:
        seen.append(dict(cfg))
        return ModuleResult(artifacts=(self.artifact("value", 1),))

    registry = ModuleRegistry(modules=[value_module("signal.c", fn=remember)])
    engine = AnalysisEngine(
        registry=registry,
        config=AnalysisEngineConfig(
            enabled_modules=["signal.c"],
            module_configs=[ModuleConfig(module_id="signal.c", config={"threshold": 2})],
        ),
    )
    engine.consume(gate_event())
    assert seen == [{"threshold": 2}]


def test_process_does_not_change_state_until_applied() -> None:
    engine = engine_of(value_module("signal.s", stateful=True, fn=counting))
    outcome = engine.process(gate_event("run-1"))
    assert engine.state.ledger("TEST") is None
    assert engine.process(gate_event("run-1")).events == outcome.events
    engine.apply(outcome)
    assert engine.process(gate_event("run-1")).events == ()


def test_every_emitted_event_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    engine = engine_of(value_module("signal.a"), value_module("signal.fail", fn=raising("boom")))
    with caplog.at_level("INFO"):
        engine.consume(gate_event())
    fields = [
        getattr(r, "xray_fields", {}) for r in caplog.records if r.getMessage() == "analysis_engine.event"
    ]
    assert [f["event_type"] for f in fields] == [
        "AnalysisRunStarted",
        "ArtifactEmitted",
        "ModuleFailed",
        "AnalysisRunCompleted",
    ]
    artifact_line = fields[1]
    assert (
        artifact_line["module_kind"],
        artifact_line["artifact_kind"],
        artifact_line["module_version"],
    ) == (
        "signal",
        "signal",
        "1",
    )
    assert fields[2]["error_detail"] == "boom"
    assert all(f["engine_mode"] == "truth" and f["symbol"] == "TEST" for f in fields)


def test_stage_timer_sees_every_stage_and_changes_nothing() -> None:
    seen: list[str] = []
    timed = engine_of(value_module("signal.a"), stage_timer=lambda stage, seconds: seen.append(stage))
    plain = engine_of(value_module("signal.a"))
    assert timed.consume(gate_event()) == plain.consume(gate_event())
    assert seen == ["signal", "detector", "rule", "output"]
