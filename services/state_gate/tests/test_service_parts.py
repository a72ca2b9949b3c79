"""Service pieces that need no broker: settings, limits mapping, tolerant decoding, CLI, Prometheus names."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from consumers.state_gate.cli import gate
from consumers.state_gate.prometheus import PrometheusGateMetrics
from consumers.state_gate.samples import completed
from consumers.state_gate.service import GateService, Undecodable, tolerant
from consumers.state_gate.settings import StateGateSettings
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import ValidationError
from xray_contracts.codec import DecodeError, codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> StateGateSettings:
    for key in list(os.environ):
        if key.startswith("XRAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return StateGateSettings()


def test_gate_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        XRAY_GATE__MAX_GAP_MS="360000",
        XRAY_GATE__DENYLISTED_INVALIDATIONS='["late_data"]',
        XRAY_GATE__BLOCK_DURING_TRANSITION="true",
        XRAY_GATE__PUBLISH_LIMITS__MAX_PENDING="5",
    )
    config = settings.gate.to_config()
    assert config.max_gap_ms == 360_000
    assert config.denylisted_invalidations == ("late_data",)
    assert config.block_during_transition is True
    assert config.publish_limits.max_pending == 5
    assert config.input_limits.max_pending == 1000


def test_gate_settings_defaults_are_the_monolith_runtime_values(monkeypatch: pytest.MonkeyPatch) -> None:
    config = _settings(monkeypatch).gate.to_config()
    assert (config.max_gap_ms, config.denylisted_invalidations, config.block_during_transition) == (
        180_000,
        (),
        False,
    )


def test_invalid_gate_settings_name_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match=r"max_gap_ms must be > 0"):
        _settings(monkeypatch, XRAY_GATE__MAX_GAP_MS="0")
    with pytest.raises(ValidationError, match="extra"):
        _settings(monkeypatch, XRAY_GATE__SURPRISE="1")


def test_publish_block_limit_maps_to_message_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, XRAY_GATE__PUBLISH_LIMITS__MAX_BLOCK_MS="60000")
    limited = GateService(settings)._settings_with_limits()
    assert limited.kafka.producer_overrides()["message.timeout.ms"] == "10000"  # clamped to the txn timeout
    settings = _settings(monkeypatch, XRAY_GATE__PUBLISH_LIMITS__MAX_BLOCK_MS="2500")
    assert (
        GateService(settings)._settings_with_limits().kafka.producer_overrides()["message.timeout.ms"]
        == "2500"
    )
    assert (
        "message.timeout.ms" not in GateService(_settings(monkeypatch))._settings_with_limits().kafka.producer
    )


def test_tolerant_decoder_marks_garbage() -> None:
    codec = codec_for(OrchestratorEvent)
    decode = tolerant(codec.decode)
    event = completed("r1", 100)
    assert decode(codec.encode(event)) == event
    marked = decode(b"\x00garbage")
    assert isinstance(marked, Undecodable)
    assert isinstance(marked.error, DecodeError)


def test_resume_needs_bootstrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    result = CliRunner().invoke(gate, ["resume", "BTCUSDT"])
    assert result.exit_code != 0
    assert "bootstrap" in result.output


def test_prometheus_names() -> None:
    registry = CollectorRegistry()
    metrics = PrometheusGateMetrics(registry)
    metrics.increment("state_gate.gate_decisions", {"gate_status": "OPEN", "reason": "none"})
    metrics.observe("state_gate.processing_lag_ms", 180_000.0, {"symbol": "BTCUSDT"})
    metrics.set_gauge("state_gate.halted", 1.0, {})
    text = generate_latest(registry).decode()
    assert 'state_gate_gate_decisions_total{gate_status="OPEN",reason="none"} 1.0' in text
    assert "state_gate_processing_lag_ms_count 1.0" in text
    assert "state_gate_halted 1.0" in text
