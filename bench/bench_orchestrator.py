"""orchestrator throughput: raw events/s consumed, cut and run through composer + engine by one process.

Workload: a simulated market of 50 symbols at the 180 s cadence, in a fresh namespace's raw topic (6
partitions, keyed by symbol). Two measurements on the same records, in the same run:
- ceiling: a read_committed consumer (the runtime's consumer settings) taking every record and
  Avro-decoding it, nothing else;
- service: the orchestrator's processor, in this process, from its first handled record until every
  record is handled and its last transaction (outputs, run log, state, offsets) is committed.
Best of `rounds` for each, alternating (the machine is shared). Prints the ratio; target >= 0.60.
Run: `KAFKA_BOOTSTRAP_SERVERS=... .venv/bin/python bench/bench_orchestrator.py` (or `make bench`).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from orchestrator.service import OrchestratorService
from orchestrator.settings import OrchestratorSettings
from xray_contracts import catalogue
from xray_contracts.codec import codec_for
from xray_contracts.raw_market_event import RawMarketEvent
from xray_runtime.clients import consumer_config
from xray_runtime.context import Context, Record
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig, default_symbols
from xray_testing.topics import create_topics

SYMBOLS = 50
WINDOWS = 12


def workload() -> list[RawMarketEvent]:
    """50 symbols, 12 windows of 180 s, a fifth of the simulator's default activity (~170k events)."""
    config = SimulatorConfig(
        seed=3,
        symbols=default_symbols(SYMBOLS),
        windows=WINDOWS,
        activity=0.2,
        book_interval_s=5,
        mark_interval_s=5,
    )
    return sorted(simulate(config).events, key=lambda e: e.recv_ts_ms)


def fill_raw(bootstrap: str, namespace: str, values: list[tuple[str, bytes]]) -> None:
    """Create the namespace's topics and produce the raw records (keyed by symbol, murmur2_random)."""
    create_topics(AdminClient({"bootstrap.servers": bootstrap}), namespace, catalogue.ALL_TOPICS)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "partitioner": "murmur2_random",
            "linger.ms": 20,
            "compression.type": "lz4",
            "enable.idempotence": True,
        }
    )
    topic = catalogue.RAW_MARKET_EVENT.topic(namespace)
    for key, value in values:
        while True:
            try:
                producer.produce(topic, value, key.encode())
                break
            except BufferError:
                producer.poll(0.05)
    producer.flush(60)


def settings_for(bootstrap: str, namespace: str) -> OrchestratorSettings:
    """The service's settings as its environment would give them (quiet logs, no live close)."""
    env = {
        "XRAY_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "XRAY_NAMESPACE": namespace,
        "XRAY_INSTANCE_ID": f"bench-{uuid.uuid4().hex[:6]}",
        "XRAY_LOG_LEVEL": "WARNING",
        "XRAY_HTTP__PORT": "0",
        "XRAY_ORCHESTRATOR__SCHEDULER__LIVE_CLOSE": "false",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return OrchestratorSettings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def time_ceiling(bootstrap: str, namespace: str, n: int) -> float:
    """Seconds from the first record to the n-th, consuming read_committed and Avro-decoding each."""
    settings = settings_for(bootstrap, namespace)
    props = consumer_config(settings, "bench-ceiling")
    props["group.id"] = f"bench-ceiling-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(props)
    consumer.subscribe([catalogue.RAW_MARKET_EVENT.topic(namespace)])
    decode = codec_for(RawMarketEvent).decode
    seen = 0
    first = 0.0
    deadline = time.monotonic() + 120
    try:
        while seen < n and time.monotonic() < deadline:
            for msg in consumer.consume(50_000, 0.1):
                if msg.error() is not None:
                    continue
                if not seen:
                    first = time.perf_counter()
                decode(msg.value())  # type: ignore[arg-type]
                seen += 1
        return time.perf_counter() - first
    finally:
        consumer.close()


def time_service(bootstrap: str, namespace: str, n: int) -> tuple[float, dict[str, float]]:
    """Seconds from the service's first handled record until all n are handled and committed."""
    service = OrchestratorService(settings_for(bootstrap, namespace))
    processor = service.processor()
    inner = processor.handler
    state: dict[str, Any] = {"handled": 0, "first": 0.0, "end": 0.0}

    def counting(record: Record[Any], ctx: Context) -> None:
        if not state["handled"]:
            state["first"] = time.perf_counter()
        state["handled"] += 1
        inner(record, ctx)

    def committed() -> None:
        if state["handled"] >= n and not state["end"]:
            state["end"] = time.perf_counter()
            processor.request_stop()

    processor.handler = counting
    processor.on_committed = committed
    watchdog = threading.Timer(300, processor.request_stop)
    watchdog.start()
    try:
        processor.run(install_signal_handlers=False)
    finally:
        watchdog.cancel()
    if not state["end"]:
        raise RuntimeError(f"orchestrator handled {state['handled']} of {n} records")
    runs = sum(v for k, v in _samples(service).items() if k.startswith("completed"))
    return state["end"] - state["first"], {"runs": runs}


def _samples(service: OrchestratorService) -> dict[str, float]:
    out: dict[str, float] = {}
    for metric in service.runs.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                out[sample.labels["outcome"]] = sample.value
    return out


def measure(bootstrap: str, rounds: int = 2) -> dict[str, float]:
    """The figures `main` prints, for `bench/report.py`."""
    logging.getLogger().setLevel(logging.WARNING)
    events = workload()
    codec = codec_for(RawMarketEvent)
    values = [(e.symbol, codec.encode(e)) for e in events]
    n = len(values)
    best_ceiling = best_service = float("inf")
    runs = 0.0
    for _ in range(rounds):
        namespace = f"bench-orch-{uuid.uuid4().hex[:8]}"
        fill_raw(bootstrap, namespace, values)
        best_ceiling = min(best_ceiling, time_ceiling(bootstrap, namespace, n))
        seconds, extra = time_service(bootstrap, namespace, n)
        best_service = min(best_service, seconds)
        runs = extra["runs"]
    return {
        "events": n,
        "symbols": SYMBOLS,
        "runs": runs,
        "service_s": best_service,
        "ceiling_s": best_ceiling,
        "events_per_s": n / best_service,
        "ceiling_per_s": n / best_ceiling,
    }


def main() -> None:
    """Measure and print the figures."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        raise SystemExit("set KAFKA_BOOTSTRAP_SERVERS (make bench starts a broker and sets it)")
    f = measure(bootstrap)
    print(f"{f['events']:,.0f} raw events, {f['symbols']:.0f} symbols, {f['runs']:,.0f} engine runs")
    print(f"ceiling (consume + Avro decode)           {f['ceiling_per_s']:>12,.0f} events/s")
    print(f"orchestrator (cut, compose, engine, EOS)  {f['events_per_s']:>12,.0f} events/s")
    print(f"ratio {f['events_per_s'] / f['ceiling_per_s']:.2f} (target >= 0.60)")


if __name__ == "__main__":
    main()
