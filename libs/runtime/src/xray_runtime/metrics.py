"""The standard runtime metrics every service exports on /metrics."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge

from xray_runtime.stats import ClientStats


class RuntimeMetrics:
    """Counters and gauges of the processing loop, in their own registry (one per processor)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.records_in = Counter("xray_records_in", "Input records consumed", ["topic"], registry=r)
        self.records_out = Counter("xray_records_out", "Records produced", ["topic"], registry=r)
        self.dlq_records = Counter(
            "xray_dlq_records", "Undecodable records sent to the DLQ", ["source_topic"], registry=r
        )
        self.transactions = Counter("xray_transactions", "Transactions by outcome", ["outcome"], registry=r)
        self.rebalances = Counter("xray_rebalances", "Rebalance callbacks by kind", ["kind"], registry=r)
        self.restore_records = Counter(
            "xray_restore_records", "State records read while restoring", ["store"], registry=r
        )
        self.backpressure = Counter(
            "xray_backpressure_pauses", "Times the producer queue was full and input paused", registry=r
        )
        self.assigned_partitions = Gauge(
            "xray_assigned_partitions", "Input partitions currently assigned", registry=r
        )
        self.consumer_lag = Gauge(
            "xray_consumer_lag",
            "Consumer lag per partition (librdkafka statistics)",
            ["topic", "partition"],
            registry=r,
        )
        self.producer_queue = Gauge(
            "xray_producer_queue_messages", "Messages waiting in the producer queue", registry=r
        )
        self.ready = Gauge("xray_ready", "1 when assigned partitions are restored and processing", registry=r)

    def add_records_in(self, counts: Mapping[str, int]) -> None:
        """Add one batch's per-topic input counts (one inc per topic, not per record)."""
        for topic, n in counts.items():
            self.records_in.labels(topic).inc(n)

    def add_records_out(self, counts: Mapping[str, int]) -> None:
        """Add one batch's per-topic output counts."""
        for topic, n in counts.items():
            self.records_out.labels(topic).inc(n)

    def apply_stats(self, stats: ClientStats) -> None:
        """Update the lag and queue gauges from parsed librdkafka statistics."""
        if stats.producer_queue_messages is not None:
            self.producer_queue.set(stats.producer_queue_messages)
        for (topic, partition), lag in stats.consumer_lag.items():
            self.consumer_lag.labels(topic, str(partition)).set(lag)
