"""Catalogue specs map onto admin requests in a namespace."""

from __future__ import annotations

from xray_contracts.catalogue import RAW_MARKET_EVENT, TopicSpec, dlq_spec
from xray_testing.topics import new_topic


def test_new_topic_carries_policy_retention_partitions() -> None:
    spec = TopicSpec(
        name="state_gate.state",
        value_schema="StateGateStateRecord",
        cleanup_policy="compact",
        extra_config={"min.cleanable.dirty.ratio": "0.1"},
    )
    req = new_topic(spec, "t-x-00000000")
    assert req.topic == "t-x-00000000.state_gate.state.v1"
    assert req.num_partitions == 6
    assert req.replication_factor == 1
    assert req.config == {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1"}


def test_dlq_retention_is_passed_through() -> None:
    req = new_topic(dlq_spec("orchestrator"), "ns")
    assert req.topic == "ns.orchestrator.dlq.v1"
    assert req.config is not None
    assert req.config["retention.ms"] == str(14 * 24 * 3600 * 1000)


def test_raw_topic_keeps_old_records() -> None:
    # Raw records are stamped with their (old, for recordings) receive time: no time retention in tests.
    req = new_topic(RAW_MARKET_EVENT, "ns")
    assert req.config is not None
    assert req.config["retention.ms"] == "-1"
