"""Built-in modules: signals, the three detectors, the assessment rule and the alert outputs."""

from __future__ import annotations

from typing import Any

import pytest
from consumers.analysis_engine import (
    AnalysisEngine,
    AnalysisEngineConfig,
    ConfigError,
    ModuleConfig,
    ModuleRegistry,
)
from consumers.analysis_engine.contracts import AnalysisEngineEvent, ArtifactEmittedPayload, RunStatusPayload
from consumers.analysis_engine.modules.builtin import builtin_modules
from consumers.analysis_engine.testing import gate_event, hysteresis_state, one_hot_belief, regime_output
from xray_contracts.orchestrator_event import InvalidationCondition, RegimeOutput

DEFAULT_IDS = [
    "signal.regime",
    "detector.regime_transition",
    "detector.crowding",
    "detector.liquidation_cascade",
    "rule.assessment",
    "output.alerts",
]


def builtin_engine(
    configs: dict[str, dict[str, Any]] | None = None, enabled: list[str] | None = None
) -> AnalysisEngine:
    return AnalysisEngine(
        registry=ModuleRegistry(modules=builtin_modules()),
        config=AnalysisEngineConfig(
            enabled_modules=enabled or [],
            module_configs=[ModuleConfig(module_id=k, config=v) for k, v in (configs or {}).items()],
        ),
    )


def artifacts(events: list[AnalysisEngineEvent]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for e in events:
        if isinstance(e.payload, ArtifactEmittedPayload):
            out[f"{e.payload.module_id}:{e.payload.artifact_name}"] = e.payload.payload
    return out


def run(engine: AnalysisEngine, run_id: str, ts: int, regime: RegimeOutput, **kw: Any) -> dict[str, Any]:
    events = engine.consume(gate_event(run_id, timestamp=ts, regime=regime, **kw))
    last = events[-1].payload
    assert isinstance(last, RunStatusPayload)
    assert last.status == "SUCCESS", events
    return artifacts(events)


def test_default_plan_is_the_enabled_by_default_builtins() -> None:
    engine = builtin_engine()
    assert engine.validated.default_plan.module_ids() == (
        "signal.regime",
        "detector.crowding",
        "detector.liquidation_cascade",
        "detector.regime_transition",
        "rule.assessment",
        "output.alerts",
    )
    assert sorted(engine.validated.default_plan.module_ids()) == sorted(DEFAULT_IDS)


def test_signals_from_gate_payload() -> None:
    regime = regime_output(
        "TREND_BUILD_UP",
        confidence=0.8,
        drivers=("flow.cvd_slope", "derivatives.funding_slope"),
        belief={**one_hot_belief("TREND_BUILD_UP", 0.6), "SQUEEZE_UP": 0.2},
        contributions=[("flow.cvd_slope", 0.75), ("derivatives.funding_slope", 0.25)],
        conditions=[InvalidationCondition("level", "market.price", "<", 99.5, "close below 99.5")],
        permissions=("trend_following_long",),
    )
    out = run(builtin_engine(), "r1", 100, regime)
    sig = out["signal.regime:regime"]
    assert (sig["regime"], sig["committed_regime"], sig["direction"], sig["confidence"]) == (
        "TREND_BUILD_UP",
        "TREND_BUILD_UP",
        "up",
        0.8,
    )
    belief = out["signal.regime:belief"]
    assert belief["source"] == "regime_output"
    assert belief["top_regime"] == "TREND_BUILD_UP"
    assert abs(sum(belief["belief_by_regime"].values()) - 1.0) < 1e-5
    assert belief["up_mass"] > belief["down_mass"]
    drivers = out["signal.regime:drivers"]
    assert drivers["positioning_share"] == 0.25
    assert drivers["positioning_drivers"] == ["derivatives.funding_slope"]
    assert drivers["permissions"] == ["trend_following_long"]
    assert drivers["invalidation_conditions"][0]["threshold"] == 99.5


def test_hysteresis_anchor_is_the_committed_regime() -> None:
    out = run(
        builtin_engine(),
        "r1",
        100,
        regime_output("SQUEEZE_UP"),
        hysteresis=hysteresis_state("CHOP_BALANCED", candidate="SQUEEZE_UP", progress=1),
        engine_mode="hysteresis",
    )
    sig = out["signal.regime:regime"]
    assert (sig["regime"], sig["committed_regime"], sig["in_transition"], sig["candidate_regime"]) == (
        "SQUEEZE_UP",
        "CHOP_BALANCED",
        True,
        "SQUEEZE_UP",
    )


def test_missing_payload_fails_signals_and_dependents_but_run_completes() -> None:
    events = builtin_engine().consume(gate_event("r1"))
    last = events[-1].payload
    assert isinstance(last, RunStatusPayload)
    assert last.status == "PARTIAL"
    assert last.module_failures == tuple(sorted(DEFAULT_IDS))


def test_transition_detector() -> None:
    engine = builtin_engine()
    first = run(engine, "r1", 100, regime_output("CHOP_BALANCED"))["detector.regime_transition:transition"]
    assert (first["detected"], first["kind"]) == (False, "initial")
    same = run(engine, "r2", 200, regime_output("CHOP_BALANCED"))["detector.regime_transition:transition"]
    assert (same["detected"], same["kind"], same["regime_since_ms"]) == (False, "none", 100)
    change = run(engine, "r3", 300, regime_output("TREND_BUILD_UP"))["detector.regime_transition:transition"]
    assert (change["detected"], change["from_regime"], change["to_regime"], change["previous_held_ms"]) == (
        True,
        "CHOP_BALANCED",
        "TREND_BUILD_UP",
        200,
    )


def test_transition_follows_config_track() -> None:
    """Module config reaches the module: `track: truth` follows the raw regime, not the anchor."""
    hyst = hysteresis_state("CHOP_BALANCED", candidate="SQUEEZE_UP", progress=1)
    committed = builtin_engine()
    truth = builtin_engine({"detector.regime_transition": {"track": "truth"}})
    for engine in (committed, truth):
        run(engine, "r1", 100, regime_output("CHOP_BALANCED"), hysteresis=hyst)
    a = run(committed, "r2", 200, regime_output("SQUEEZE_UP"), hysteresis=hyst)
    b = run(truth, "r2", 200, regime_output("SQUEEZE_UP"), hysteresis=hyst)
    assert a["detector.regime_transition:transition"]["detected"] is False
    assert b["detector.regime_transition:transition"]["detected"] is True


def test_crowding_detector() -> None:
    engine = builtin_engine()
    squeeze = run(engine, "r1", 100, regime_output("SQUEEZE_UP"))["detector.crowding:crowding"]
    assert (squeeze["detected"], squeeze["crowded_side"], squeeze["squeeze_direction"]) == (
        True,
        "short",
        "up",
    )
    down = run(engine, "r2", 200, regime_output("SQUEEZE_DOWN"))["detector.crowding:crowding"]
    assert (down["detected"], down["crowded_side"]) == (True, "long")
    trend = run(engine, "r3", 300, regime_output("TREND_BUILD_UP"))["detector.crowding:crowding"]
    assert trend["detected"] is False
    strict = builtin_engine({"detector.crowding": {"min_positioning_share": 0.5}})
    no_drivers = run(strict, "r1", 100, regime_output("SQUEEZE_UP"))["detector.crowding:crowding"]
    assert no_drivers["detected"] is False
    with_drivers = run(
        strict,
        "r2",
        200,
        regime_output(
            "SQUEEZE_UP", contributions=[("derivatives.funding_zscore", 0.6), ("flow.cvd_slope", 0.4)]
        ),
    )["detector.crowding:crowding"]
    assert with_drivers["detected"] is True


def test_cascade_detector_streaks() -> None:
    engine = builtin_engine()
    first = run(
        engine, "r1", 100, regime_output("LIQUIDATION_DOWN", belief=one_hot_belief("LIQUIDATION_DOWN", 0.6))
    )
    c1 = first["detector.liquidation_cascade:cascade"]
    assert (c1["detected"], c1["direction"], c1["streak"], c1["new"]) == (True, "down", 1, True)
    c2 = run(engine, "r2", 200, regime_output("LIQUIDATION_DOWN"))["detector.liquidation_cascade:cascade"]
    assert (c2["streak"], c2["new"], c2["escalating"], c2["started_ms"]) == (2, False, True, 100)
    c3 = run(engine, "r3", 300, regime_output("CHOP_BALANCED"))["detector.liquidation_cascade:cascade"]
    assert (c3["detected"], c3["streak"]) == (False, 0)


def test_assessment_trend_long_with_invalidation_level() -> None:
    regime = regime_output(
        "TREND_BUILD_UP",
        conditions=[
            InvalidationCondition("level", "market.price", "<", 99.5, "close below 99.5"),
            InvalidationCondition("level", "market.price", "<", 97.0, "close below 97"),
            InvalidationCondition("funding", "derivatives.funding_rate", ">", 0.001, "funding above 0.1%"),
        ],
    )
    a = run(builtin_engine(), "r1", 100, regime)["rule.assessment:assessment"]
    assert a["summary"] == "TREND_BUILD_UP: trend continuation allowed, long only, invalidated below 99.5"
    assert (a["stance"], a["bias"], a["actionable"]) == ("trend_continuation", "long", True)
    assert a["invalidation"]["level"] == 99.5


def test_assessment_overrides() -> None:
    low = run(builtin_engine(), "r1", 100, regime_output("TREND_BUILD_DOWN", confidence=0.1))[
        "rule.assessment:assessment"
    ]
    assert (low["stance"], low["reasons"]) == ("stand_aside", ["low_confidence"])
    cascade = run(builtin_engine(), "r1", 100, regime_output("LIQUIDATION_UP"))["rule.assessment:assessment"]
    assert cascade["stance"] == "stand_aside"
    assert "liquidation_cascade" in cascade["reasons"]
    short = run(
        builtin_engine(),
        "r1",
        100,
        regime_output(
            "SQUEEZE_DOWN",
            conditions=[InvalidationCondition("level", "market.price", ">", 105.0, "reclaim 105")],
        ),
    )["rule.assessment:assessment"]
    assert short["summary"] == (
        "SQUEEZE_DOWN: squeeze continuation allowed with reduced size, short only, invalidated above 105"
    )
    # Committed trend up while the belief says longs are being squeezed: keep the stance, add a caution.
    crowded = run(
        builtin_engine(),
        "r1",
        100,
        regime_output("SQUEEZE_DOWN"),
        hysteresis=hysteresis_state("TREND_BUILD_UP"),
        engine_mode="hysteresis",
    )["rule.assessment:assessment"]
    assert (crowded["stance"], crowded["bias"], crowded["cautions"]) == (
        "trend_continuation",
        "long",
        ["crowded_longs"],
    )
    assert crowded["summary"].endswith("caution: crowded longs")


def test_alerts_fire_once_per_episode() -> None:
    engine = builtin_engine()
    assert "output.alerts:alert" not in run(engine, "r1", 100, regime_output("CHOP_BALANCED"))
    assert "output.alerts:alert" not in run(engine, "r2", 200, regime_output("CHOP_BALANCED"))
    alert = run(engine, "r3", 300, regime_output("TREND_BUILD_UP"))["output.alerts:alert"]
    assert alert["severity"] == "warning"
    assert alert["triggers"] == ["regime_transition", "stance_changed"]
    assert alert["alert_id"] == "TEST:r3"
    assert "long only" in alert["message"]
    cascade = run(engine, "r4", 400, regime_output("LIQUIDATION_UP"))["output.alerts:alert"]
    assert cascade["severity"] == "critical"
    assert "output.alerts:alert" not in run(engine, "r5", 500, regime_output("LIQUIDATION_UP"))


def test_alert_policy_filters_by_severity() -> None:
    engine = builtin_engine({"output.alerts": {"min_severity": "critical"}})
    run(engine, "r1", 100, regime_output("CHOP_BALANCED"))
    assert "output.alerts:alert" not in run(engine, "r2", 200, regime_output("TREND_BUILD_UP"))
    assert "output.alerts:alert" in run(engine, "r3", 300, regime_output("LIQUIDATION_DOWN"))


def test_module_config_is_validated_at_startup() -> None:
    with pytest.raises(ConfigError, match=r"invalid module_config for detector.crowding: bogus"):
        builtin_engine({"detector.crowding": {"bogus": 1}})
    with pytest.raises(ConfigError, match=r"min_squeeze_mass"):
        builtin_engine({"detector.crowding": {"min_squeeze_mass": 2}})
    with pytest.raises(ConfigError, match=r"module_config for output.webhook is required"):
        builtin_engine(enabled=[*DEFAULT_IDS, "output.webhook"])
    with pytest.raises(ConfigError, match=r"url"):
        builtin_engine({"output.webhook": {"url": "ftp://x"}})


def test_builtin_outputs_are_deterministic_across_engines() -> None:
    sequence = ["CHOP_BALANCED", "TREND_BUILD_UP", "SQUEEZE_UP", "LIQUIDATION_DOWN", "TREND_EXHAUSTION"]
    results = []
    for _ in range(2):
        engine = builtin_engine()
        results.append(
            [
                e
                for i, r in enumerate(sequence)
                for e in engine.consume(gate_event(f"r{i}", timestamp=100 * (i + 1), regime=regime_output(r)))
            ]
        )
    assert results[0] == results[1]
