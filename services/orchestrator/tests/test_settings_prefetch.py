"""The orchestrator bounds its consumer's read-ahead and its batch unless the operator says otherwise."""

from __future__ import annotations

import pytest
from orchestrator.settings import BATCH_MAX_RECORDS, OrchestratorSettings
from xray_runtime.clients import consumer_config


def test_prefetch_is_bounded_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")
    props = consumer_config(OrchestratorSettings(), "orchestrator")
    assert props["queued.min.messages"] == "20000"
    assert props["queued.max.messages.kbytes"] == "16384"


def test_an_operator_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("XRAY_KAFKA__CONSUMER__QUEUED_MIN_MESSAGES", "5000")
    props = consumer_config(OrchestratorSettings(), "orchestrator")
    assert props["queued.min.messages"] == "5000"
    assert props["queued.max.messages.kbytes"] == "16384"


def test_the_batch_is_bounded_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")
    assert OrchestratorSettings().processing.batch_max_records == BATCH_MAX_RECORDS
    monkeypatch.setenv("XRAY_PROCESSING__BATCH_MAX_RECORDS", "20000")
    assert OrchestratorSettings().processing.batch_max_records == 20_000
