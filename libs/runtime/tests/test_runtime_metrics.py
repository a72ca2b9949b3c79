"""Runtime metrics and librdkafka statistics parsing."""

from __future__ import annotations

import orjson
from prometheus_client import generate_latest
from xray_runtime.metrics import RuntimeMetrics
from xray_runtime.stats import parse_stats

CONSUMER_STATS = {
    "type": "consumer",
    "topics": {
        "ns.in.v1": {
            "partitions": {
                "0": {"partition": 0, "fetch_state": "active", "consumer_lag": 12},
                "1": {"partition": 1, "fetch_state": "active", "consumer_lag": -1},
                "2": {"partition": 2, "fetch_state": "none", "consumer_lag": 99},
                "-1": {"partition": -1, "fetch_state": "none", "consumer_lag": -1},
            }
        }
    },
}


def test_consumer_stats_give_lag_of_fetched_partitions_only() -> None:
    stats = parse_stats(orjson.dumps(CONSUMER_STATS))
    assert stats.client_type == "consumer"
    assert stats.consumer_lag == {("ns.in.v1", 0): 12, ("ns.in.v1", 1): -1}
    assert stats.producer_queue_messages is None


def test_producer_stats_give_queue_depth() -> None:
    stats = parse_stats('{"type": "producer", "msg_cnt": 42, "topics": {}}')
    assert stats.producer_queue_messages == 42
    assert stats.consumer_lag == {}


def test_metrics_render_with_standard_names() -> None:
    m = RuntimeMetrics()
    m.add_records_in({"in": 3})
    m.add_records_in({"in": 2})
    m.add_records_out({"out": 5})
    m.dlq_records.labels("in").inc()
    m.transactions.labels("committed").inc()
    m.apply_stats(parse_stats(orjson.dumps(CONSUMER_STATS)))
    m.apply_stats(parse_stats('{"type": "producer", "msg_cnt": 7}'))
    text = generate_latest(m.registry).decode()
    assert 'xray_records_in_total{topic="in"} 5.0' in text
    assert 'xray_records_out_total{topic="out"} 5.0' in text
    assert 'xray_dlq_records_total{source_topic="in"} 1.0' in text
    assert 'xray_transactions_total{outcome="committed"} 1.0' in text
    assert 'xray_consumer_lag{partition="0",topic="ns.in.v1"} 12.0' in text
    assert "xray_producer_queue_messages 7.0" in text


def test_each_processor_has_its_own_registry() -> None:
    a, b = RuntimeMetrics(), RuntimeMetrics()
    a.dlq_records.labels("t").inc()
    assert "xray_dlq_records_total" not in generate_latest(b.registry).decode().split("# TYPE")[0]
    assert 'source_topic="t"' not in generate_latest(b.registry).decode()
