"""The catalogue: unique names, physical-name resolution, compaction settings, a codec per value schema."""

from __future__ import annotations

import pytest
from xray_contracts import catalogue
from xray_contracts.codec import default_codecs


def test_names_are_unique_and_every_topic_has_the_common_partition_count() -> None:
    names = [s.name for s in catalogue.ALL_TOPICS]
    assert len(names) == len(set(names))
    assert {s.partitions for s in catalogue.ALL_TOPICS} == {catalogue.DEFAULT_PARTITIONS}


def test_architecture_topics_are_declared_with_their_cleanup_policy() -> None:
    expected = {
        "raw_market_event": "delete",
        "orchestrator_event": "delete",
        "orchestrator.run_log": "delete",
        "orchestrator.hysteresis_state": "compact",
        "orchestrator.cursor": "compact",
        "state_gate_event": "delete",
        "state_gate.state": "compact",
        "analysis_engine_event": "delete",
        "analysis_engine.module_state": "compact",
    }
    for name, policy in expected.items():
        assert catalogue.spec(name).cleanup_policy == policy
    for service in catalogue.DLQ_SERVICES:
        assert catalogue.spec(f"{service}.dlq") == catalogue.dlq_spec(service)


def test_orchestrator_cursor_is_a_compacted_state_topic_keyed_by_partition() -> None:
    spec = catalogue.spec("orchestrator.cursor")
    assert spec is catalogue.ORCHESTRATOR_CURSOR
    assert spec.topic() == "xray.orchestrator.cursor.v1"
    assert spec.value_schema == "io.xrayvision.v1.OrchestratorCursor"
    assert spec.key == "partition"
    assert spec.config() == {"cleanup.policy": "compact", **catalogue.COMPACT_CONFIG}
    topics = list(catalogue.TOPICS)
    assert topics.index(spec) == topics.index(catalogue.ORCHESTRATOR_HYSTERESIS_STATE) + 1
    # The one topic whose key is not the symbol (nor a JSON array starting with it).
    assert [s.name for s in catalogue.ALL_TOPICS if s.key == "partition"] == ["orchestrator.cursor"]


def test_compacted_topics_roll_segments_and_clean_early() -> None:
    for spec in catalogue.ALL_TOPICS:
        config = spec.config()
        assert config["cleanup.policy"] == spec.cleanup_policy
        if spec.cleanup_policy == "compact":
            assert "retention.ms" not in config
            assert int(config["segment.ms"]) <= 3_600_000
            assert float(config["min.cleanable.dirty.ratio"]) <= 0.2
    assert catalogue.RAW_MARKET_EVENT.retention_ms == catalogue.LONG_RETENTION_MS


def test_physical_names_and_lookup() -> None:
    spec = catalogue.spec("orchestrator.run_log")
    assert spec.topic() == "xray.orchestrator.run_log.v1"
    assert catalogue.topic_name("orchestrator.run_log", "bt-42") == "bt-42.orchestrator.run_log.v1"
    assert catalogue.resolve("bt-42.orchestrator.run_log.v1") == ("bt-42.orchestrator.run_log.v1", spec)
    assert catalogue.resolve("state_gate.state", "t-x") == (
        "t-x.state_gate.state.v1",
        catalogue.STATE_GATE_STATE,
    )
    with pytest.raises(KeyError):
        catalogue.spec("nope")
    with pytest.raises(KeyError):
        catalogue.resolve("xray.nope.v1")


def test_every_value_schema_has_a_codec() -> None:
    codecs = default_codecs()
    for spec in catalogue.ALL_TOPICS:
        if spec.value_schema is None:
            with pytest.raises(KeyError):
                codecs.for_topic(spec)
        else:
            assert codecs.for_topic(spec.name).schema_name == spec.value_schema
