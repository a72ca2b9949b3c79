"""Fail closed: a handler exception, or garbage under policy `fail`, exits 1 and commits nothing."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from xray_contracts.catalogue import TopicSpec, dlq_spec
from xray_runtime.config import HttpSettings, KafkaSettings, ProcessingSettings, ServiceSettings
from xray_runtime.context import Context, Record
from xray_runtime.examples.counter_harness import create_topics, read_committed
from xray_runtime.processor import EXIT_FATAL, InputTopic, Processor

SERVICE = "failing"
INPUT = TopicSpec("failing.input", None, "delete", partitions=1)
OUTPUT = TopicSpec("failing.output", None, "delete", partitions=1)


def decode(raw: bytes) -> int:
    return int(raw.decode("ascii"))


@pytest.mark.parametrize("failure", ["handler_raises", "undecodable_under_fail_policy"])
def test_failure_exits_non_zero_without_committing(
    kafka_bootstrap: str, kafka_namespace: str, failure: str
) -> None:
    ns = kafka_namespace
    create_topics(AdminClient({"bootstrap.servers": kafka_bootstrap}), ns, [INPUT, OUTPUT, dlq_spec(SERVICE)])
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for value in (b"1", b"2", b"boom" if failure != "handler_raises" else b"3", b"4"):
        producer.produce(INPUT.topic(ns), value, b"k", partition=0)
    assert producer.flush(30) == 0

    def handle(record: Record[int], ctx: Context) -> None:
        ctx.emit(ctx.topic(OUTPUT), record.key, str(record.value).encode())
        if failure == "handler_raises" and record.value == 3:
            raise RuntimeError("handler bug")

    settings = ServiceSettings(
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        namespace=ns,
        instance_id="solo",
        http=HttpSettings(host="127.0.0.1", port=0),
        processing=ProcessingSettings(decode_error_policy="fail", statistics_interval_ms=0),
    )
    proc = Processor(service=SERVICE, settings=settings, inputs=[InputTopic(INPUT, decode)], handler=handle)
    assert proc.run(install_signal_handlers=False) == EXIT_FATAL

    # The failing batch held every record: none of its outputs, and no DLQ record, became visible.
    assert read_committed(kafka_bootstrap, OUTPUT.topic(ns), 1) == []
    assert read_committed(kafka_bootstrap, dlq_spec(SERVICE).topic(ns), 6) == []
