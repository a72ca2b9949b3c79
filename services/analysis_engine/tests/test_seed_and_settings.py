"""The seed snippet runs unchanged; service settings parse the engine config from env/TOML."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from consumers.analysis_engine.service import AnalysisEngineSettings, build_engine, topic_spec
from consumers.analysis_engine.testing import gate_event

SEED_SNIPPET = """
from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, ModuleRegistry

registry = ModuleRegistry(modules=[])  # populate with AnalysisModule instances
config = AnalysisEngineConfig(enabled_modules=[], module_configs=[])
engine = AnalysisEngine(registry=registry, config=config)

# given a state_gate_event named event
outputs = engine.consume(event)  # list of AnalysisEngineEvent (lifecycle, artifacts, failures)
"""


def test_seed_snippet_runs_unchanged() -> None:
    namespace: dict[str, Any] = {"event": gate_event()}
    exec(compile(SEED_SNIPPET, "seed", "exec"), namespace)
    assert [e.event_type for e in namespace["outputs"]] == ["AnalysisRunStarted", "AnalysisRunCompleted"]
    closed: dict[str, Any] = {"event": gate_event(gate_status="CLOSED")}
    exec(compile(SEED_SNIPPET, "seed", "exec"), closed)
    assert [e.event_type for e in closed["outputs"]] == ["AnalysisRunSkipped"]


def test_seed_contract_imports() -> None:
    from consumers.analysis_engine.contracts import (  # noqa: F401
        AnalysisEngineEvent,
        AnalysisModuleStateRecord,
        ModuleDefinition,
    )
    from consumers.analysis_engine.registry import ModuleRegistry  # noqa: F401


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv(
        "XRAY_ANALYSIS__ENGINE__ENABLED_MODULES",
        json.dumps(
            [
                "signal.regime",
                "output.webhook",
                "detector.regime_transition",
                "detector.crowding",
                "detector.liquidation_cascade",
                "rule.assessment",
            ]
        ),
    )
    monkeypatch.setenv(
        "XRAY_ANALYSIS__ENGINE__MODULE_CONFIGS",
        json.dumps(
            [{"module_id": "output.webhook", "config": {"url": "http://127.0.0.1:9/x", "max_attempts": 2}}]
        ),
    )
    settings = AnalysisEngineSettings()
    engine = build_engine(settings)
    assert "output.webhook" in engine.validated.default_plan.module_ids()
    assert engine.module_settings("output.webhook")["max_attempts"] == 2


def test_default_settings_run_the_default_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    engine = build_engine(AnalysisEngineSettings())
    assert len(engine.validated.default_plan.module_ids()) == 6
    assert topic_spec("alerts").topic("xray") == "xray.alerts.v1"


def test_bad_module_config_exits_non_zero() -> None:
    env = {
        "XRAY_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "XRAY_HTTP__PORT": "0",
        "XRAY_ANALYSIS__ENGINE__MODULE_CONFIGS": json.dumps(
            [{"module_id": "detector.crowding", "config": {"x": 1}}]
        ),
    }
    done = subprocess.run(
        [sys.executable, "-m", "consumers.analysis_engine"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"invalid module_config for detector.crowding" in done.stderr
