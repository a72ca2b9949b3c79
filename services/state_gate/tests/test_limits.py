"""Kafka-mode operation limits: failure streaks → halts, input health, the settings they map onto."""

from __future__ import annotations

import pytest
from consumers.state_gate.limits import (
    InputHealth,
    KafkaLimits,
    TransactionFailures,
    failure_kind_for_topics,
    kafka_limits,
)
from consumers.state_gate.samples import sample_config
from consumers.state_gate.service import GateService
from consumers.state_gate.settings import StateGateSettings


def limits(publish: int = 2, persistence: int = 3) -> KafkaLimits:
    return KafkaLimits(publish, persistence, input_max_failures=None, input_max_block_ms=None)


def test_null_max_failures_fall_back_below_the_runtime_abort_limit() -> None:
    resolved = kafka_limits(sample_config(), max_consecutive_aborts=5)
    assert (resolved.publish_max_failures, resolved.persistence_max_failures) == (4, 4)
    assert resolved.needed_aborts == 5
    assert kafka_limits(sample_config(), max_consecutive_aborts=1).publish_max_failures == 1


def test_a_streak_reaching_the_limit_halts_the_failed_symbols_once() -> None:
    failures = TransactionFailures(limits())
    assert failures.failed("publish_blocked", {"BTC"}, "too large") == []
    assert failures.halt_for("BTC") is None
    assert failures.failed("publish_blocked", {"BTC", "ETH"}, "too large") == ["BTC", "ETH"]
    kind, detail = failures.halt_for("BTC") or ("", "")
    assert kind == "publish_blocked"
    assert detail == "2 consecutive failed transactions: too large"
    assert failures.failed("publish_blocked", {"BTC"}, "again") == []  # already due


def test_streaks_count_per_kind_and_a_commit_ends_them() -> None:
    failures = TransactionFailures(limits(publish=2, persistence=2))
    failures.failed("publish_blocked", {"BTC"}, "x")
    assert failures.failed("persistence_failure", {"BTC"}, "y") == []
    failures.committed()
    assert failures.failed("publish_blocked", {"BTC"}, "x") == []


def test_a_halt_is_done_only_when_its_transaction_commits() -> None:
    failures = TransactionFailures(limits(publish=1))
    failures.failed("publish_blocked", {"BTC"}, "x")
    failures.applied("BTC")
    failures.failed("persistence_failure", {"BTC"}, "the halt's own transaction aborted")
    assert failures.halt_for("BTC") is not None  # still due: the halt was rolled back
    failures.applied("BTC")
    failures.committed()
    assert failures.halt_for("BTC") is None


def test_input_health_by_count_and_by_duration() -> None:
    by_count = InputHealth(max_failures=2, max_block_ms=None)
    by_count.polled(records=0, errors=1, now_ms=0)
    assert by_count.healthy(0)
    by_count.polled(records=0, errors=3, now_ms=10)
    assert not by_count.healthy(10)
    by_count.polled(records=1, errors=1, now_ms=20)
    assert by_count.healthy(20)

    by_time = InputHealth(max_failures=None, max_block_ms=500)
    by_time.polled(records=0, errors=1, now_ms=1000)
    assert by_time.healthy(1499)
    assert not by_time.healthy(1500)
    assert InputHealth(None, None, streak=99, since_ms=0).healthy(1e12)


@pytest.mark.parametrize(
    ("topics", "kind"),
    [
        ({"ns.state_gate_event.v1"}, "publish_blocked"),
        ({"ns.state_gate_event.v1", "ns.state_gate.state_log.v1"}, "publish_blocked"),
        ({"ns.state_gate.state_log.v1"}, "persistence_failure"),
        (set(), "persistence_failure"),
    ],
)
def test_failure_kind_by_failed_topic(topics: set[str], kind: str) -> None:
    assert failure_kind_for_topics(topics, "ns.state_gate_event.v1") == kind


def test_settings_make_room_for_the_halt_and_bound_input_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("XRAY_GATE__PUBLISH_LIMITS__MAX_FAILURES", "7")
    monkeypatch.setenv("XRAY_GATE__INPUT_LIMITS__MAX_BLOCK_MS", "40")
    monkeypatch.setenv("XRAY_GATE__PUBLISH_LIMITS__MAX_BLOCK_MS", "5000")
    service = GateService(StateGateSettings())
    processor = service.processor()
    assert processor.settings.processing.max_consecutive_aborts == 8
    assert processor.settings.processing.batch_timeout_ms == 40
    assert processor.settings.kafka.producer_overrides()["message.timeout.ms"] == "5000"
