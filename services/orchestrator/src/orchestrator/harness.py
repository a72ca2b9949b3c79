"""Drive the orchestrator service as real processes on a real broker: recordings into the raw topic, raw
topic copies between namespaces, an independent reference for the cuts, waiting for runs, read-back.

Used by tests/integration/orchestrator and handy for manual experiments. `expected_cuts` deliberately does
not use `orchestrator.planner`: it states ARCHITECTURE §7's cut rule directly on the stored raw topic
(offsets and `recv_ts_ms`), so a test comparing the service's cuts with it checks the planner too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient
from xray_contracts import catalogue
from xray_contracts.catalogue import TopicSpec
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.raw_market_event import RawMarketEvent
from xray_contracts.run_log import EngineRunRecord
from xray_simulator.api import write_recording
from xray_simulator.config import SimulatorConfig
from xray_simulator.generator import iter_frames
from xray_testing.chaos import TopicDiff, compare_topics
from xray_testing.records import Row, read_committed
from xray_testing.services import ServiceProcess, ServiceRunner
from xray_testing.topics import create_topics

INTERVAL_MS = 180_000
RAW = catalogue.RAW_MARKET_EVENT
DLQ = catalogue.dlq_spec("orchestrator")
# Everything the orchestrator writes, compared between runs.
OUTPUTS: tuple[TopicSpec, ...] = (
    catalogue.ORCHESTRATOR_EVENT,
    catalogue.ORCHESTRATOR_RUN_LOG,
    catalogue.ORCHESTRATOR_HYSTERESIS_STATE,
    catalogue.ORCHESTRATOR_CURSOR,
)
# Wall-clock fields, blanked before comparing two runs.
MASKS: Mapping[str, Sequence[str]] = {
    "orchestrator_event": ("published_ts_ms",),
    "orchestrator.run_log": ("started_ts_ms", "completed_ts_ms"),
}
TERMINAL = ("EngineRunCompleted", "EngineRunFailed")
# Two symbols per raw_market_event partition (murmur2 of the key over 6 partitions: 0, 0, 1, 1, ..., 5, 5),
# so a series of these keeps every partition, and every instance of a group, busy.
SPREAD_SYMBOLS: tuple[str, ...] = (
    "DOTUSDT",
    "ALT015USDT",
    "ALT019USDT",
    "ALT020USDT",
    "BTCUSDT",
    "XRPUSDT",
    "SOLUSDT",
    "BNBUSDT",
    "ALT012USDT",
    "ALT018USDT",
    "ETHUSDT",
    "ALT010USDT",
)


def sim_config(symbols: Sequence[str], windows: int, seed: int) -> SimulatorConfig:
    """A thinned simulator series (10% of the trades, book and mark every 15 s, ~300 events per symbol and
    window) with short regime segments, so hysteresis state changes often."""
    return SimulatorConfig(
        seed=seed,
        symbols=tuple(symbols),
        windows=windows,
        activity=0.1,
        book_interval_s=15,
        mark_interval_s=15,
        oi_interval_s=30,
        min_segment_windows=4,
        max_segment_windows=8,
    )


def create_namespace(
    bootstrap: str, namespace: str, specs: Iterable[TopicSpec] = catalogue.ALL_TOPICS
) -> None:
    """Create the namespace's topics (all of the catalogue by default), the raw topic without retention.

    market_data stamps each record with its `recv_ts_ms`; recordings and simulator series are older than
    the raw topic's 30-day retention, so the broker's next retention check (every 5 min) would delete
    them, possibly while a test still reads them.
    """
    keep = [dataclasses.replace(s, retention_ms=-1) if s.name == RAW.name else s for s in specs]
    create_topics(AdminClient({"bootstrap.servers": bootstrap}), namespace, keep)


def write_simulation(config: SimulatorConfig, path: Path) -> Path:
    """The simulator series as a recording file market_data can replay."""
    write_recording(iter_frames(config), path)
    return path


def replay_recording(
    runner: ServiceRunner, files: Sequence[Path], *, limit: int | None = None, timeout_s: float = 180.0
) -> None:
    """`python -m market_data --recording ... --speed max` into the runner's namespace, to the end."""
    argv = ["-m", "market_data", *(a for f in files for a in ("--recording", str(f)))]
    argv += ["--speed", "max", "--no-status-server"]
    if limit is not None:
        argv += ["--limit", str(limit)]
    proc = runner.start("market_data", argv, one_shot=True)
    code = proc.proc.wait(timeout_s)
    assert code == 0, f"market_data exited {code}:\n{proc.log_tail()}"


def start_orchestrator(
    runner: ServiceRunner, instance_id: str = "orchestrator-0", env: Mapping[str, str] | None = None
) -> ServiceProcess:
    """`python -m orchestrator` under `instance_id` (its transactional id), not yet waited for."""
    return runner.start("orchestrator", ["-m", "orchestrator"], env, instance_id=instance_id)


def raw_rows(bootstrap: str, namespace: str) -> list[Row]:
    """The committed raw_market_event records, sorted by (partition, offset)."""
    rows = read_committed(bootstrap, RAW.topic(namespace), RAW.partitions)
    return sorted(rows, key=lambda r: (r.partition, r.offset))


def copy_raw(
    bootstrap: str,
    rows: Sequence[Row],
    namespace: str,
    *,
    chunks: int = 1,
    pace_s: float = 0.0,
) -> None:
    """Write `rows` (another namespace's raw topic) into `namespace`: same partition, same order, same key,
    value and headers, so every record lands at the same offset (the source must have no transaction
    markers: market_data does not write transactionally). With `chunks` > 1 each partition's rows go in
    that many slices, all partitions per slice, `pace_s` apart (a live-ish feed)."""
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "linger.ms": 20,
            "compression.type": "lz4",
        }
    )
    topic = RAW.topic(namespace)
    by_partition: dict[int, list[Row]] = {}
    for row in sorted(rows, key=lambda r: (r.partition, r.offset)):
        by_partition.setdefault(row.partition, []).append(row)
    for index in range(chunks):
        for partition, part_rows in sorted(by_partition.items()):
            lo = len(part_rows) * index // chunks
            hi = len(part_rows) * (index + 1) // chunks
            for row in part_rows[lo:hi]:
                while True:
                    try:
                        producer.produce(
                            topic, row.value, row.key, partition=partition, headers=list(row.headers)
                        )
                        break
                    except BufferError:
                        producer.poll(0.05)
            producer.poll(0)
        if pace_s and index < chunks - 1:
            producer.flush(60)
            time.sleep(pace_s)
    assert producer.flush(120) == 0, f"copying into {topic}: records left undelivered"


def assert_same_placement(source: Sequence[Row], copy: Sequence[Row]) -> None:
    """The copy holds the same records at the same (partition, offset)."""
    want = sorted((r.partition, r.offset, r.key, r.value) for r in source)
    got = sorted((r.partition, r.offset, r.key, r.value) for r in copy)
    assert got == want, f"raw copy differs: {len(got)} records vs {len(want)}"


# ---------------------------------------------------------------------------------------- reference cuts


@dataclass(frozen=True, slots=True)
class RawEvent:
    """What the cut rule needs of one decodable raw record."""

    partition: int
    offset: int
    symbol: str
    event_type: str
    recv_ts_ms: int


def decode_raw(rows: Iterable[Row]) -> tuple[list[RawEvent], list[Row]]:
    """The decodable raw records and the rows that are not (those go to the DLQ)."""
    codec = codec_for(RawMarketEvent)
    events: list[RawEvent] = []
    bad: list[Row] = []
    for row in rows:
        try:
            if row.value is None:
                raise ValueError("tombstone")
            event = codec.decode(row.value)
        except Exception:
            bad.append(row)
            continue
        events.append(RawEvent(row.partition, row.offset, event.symbol, event.event_type, event.recv_ts_ms))
    return events, bad


@dataclass(frozen=True, slots=True)
class ExpectedCut:
    """One symbol's cut for one closed boundary, as ARCHITECTURE §7 defines it."""

    partition: int
    symbol: str
    engine_timestamp_ms: int
    cut_start: int
    cut_end: int
    counts: Mapping[str, int]

    def run_id(self, engine_mode: str = "hysteresis") -> str:
        """sha256("{symbol}|{engine_timestamp_ms}|{cut_end_ingest_seq}|{engine_mode}")."""
        text = f"{self.symbol}|{self.engine_timestamp_ms}|{self.cut_end}|{engine_mode}"
        return hashlib.sha256(text.encode()).hexdigest()


def expected_cuts(events: Sequence[RawEvent], interval_ms: int = INTERVAL_MS) -> list[ExpectedCut]:
    """Every cut the partitions' logs close, from the rule itself (not from the planner):

    - a partition's boundaries P (multiples of `interval_ms`) with first recv_ts_ms < P <= max recv_ts_ms
      are closed; P's closing record is the first record (log order) with recv_ts_ms >= P;
    - P's cut ends at the record before its closing record (partition-wide offset); a symbol runs at P
      when its first record precedes P's closing record; its cut starts after its previous cut's end
      (or at its first offset) and holds the symbol's records in [start, end].
    """
    cuts: list[ExpectedCut] = []
    by_partition: dict[int, list[RawEvent]] = {}
    for event in sorted(events, key=lambda e: (e.partition, e.offset)):
        by_partition.setdefault(event.partition, []).append(event)
    for partition, log in sorted(by_partition.items()):
        first_index: dict[str, int] = {}
        offsets: dict[str, list[int]] = {}
        types: dict[str, list[str]] = {}
        for i, event in enumerate(log):
            first_index.setdefault(event.symbol, i)
            offsets.setdefault(event.symbol, []).append(event.offset)
            types.setdefault(event.symbol, []).append(event.event_type)
        first_boundary = (log[0].recv_ts_ms // interval_ms + 1) * interval_ms
        last_boundary = max(e.recv_ts_ms for e in log) // interval_ms * interval_ms
        last_end: dict[str, int] = {}
        closer = 0
        for boundary in range(first_boundary, last_boundary + 1, interval_ms):
            while log[closer].recv_ts_ms < boundary:
                closer += 1
            end = log[closer - 1].offset
            for symbol in sorted(s for s, i in first_index.items() if i < closer):
                start = last_end[symbol] + 1 if symbol in last_end else log[first_index[symbol]].offset
                own = offsets[symbol]
                counts = Counter(types[symbol][bisect_left(own, start) : bisect_right(own, end)])
                cuts.append(ExpectedCut(partition, symbol, boundary, start, end, dict(counts)))
                last_end[symbol] = end
    return cuts


# ---------------------------------------------------------------------------------------- outputs


def orchestrator_events(bootstrap: str, namespace: str) -> list[tuple[Row, OrchestratorEvent]]:
    """The committed orchestrator_event records, decoded, with where they are."""
    codec = codec_for(OrchestratorEvent)
    spec = catalogue.ORCHESTRATOR_EVENT
    rows = read_committed(bootstrap, spec.topic(namespace), spec.partitions)
    return [(r, codec.decode(r.value or b"")) for r in rows]


def run_log(bootstrap: str, namespace: str) -> list[tuple[Row, EngineRunRecord]]:
    """The committed orchestrator.run_log records, decoded, with where they are."""
    codec = codec_for(EngineRunRecord)
    spec = catalogue.ORCHESTRATOR_RUN_LOG
    rows = read_committed(bootstrap, spec.topic(namespace), spec.partitions)
    return [(r, codec.decode(r.value or b"")) for r in rows]


def committed_count(bootstrap: str, namespace: str, spec: TopicSpec) -> int:
    """Records a read_committed reader sees in the topic now."""
    return len(read_committed(bootstrap, spec.topic(namespace), spec.partitions))


def wait_for_runs(
    bootstrap: str,
    namespace: str,
    runs: int,
    *,
    check: Callable[[], None] = lambda: None,
    timeout_s: float = 120.0,
    settle_s: float = 2.0,
) -> None:
    """Block until the run log holds `runs` finished runs (2 records each), then `settle_s` more so that
    any extra run would show up too. `check()` may raise (a dead service)."""
    want = 2 * runs
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        have = committed_count(bootstrap, namespace, catalogue.ORCHESTRATOR_RUN_LOG)
        if have >= want:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{namespace}: {have} run-log records after {timeout_s}s, expected {want}")
        time.sleep(0.5)
    time.sleep(settle_s)
    check()


def compare_outputs(bootstrap: str, reference_ns: str, run_ns: str) -> list[TopicDiff]:
    """Every orchestrator output of `run_ns` against `reference_ns`, wall-clock fields masked."""
    return compare_topics(bootstrap, reference_ns, run_ns, OUTPUTS, MASKS)


def assert_each_run_once(
    events: Sequence[OrchestratorEvent], records: Sequence[EngineRunRecord], run_ids: Iterable[str]
) -> None:
    """Exactly the expected run ids, each with one EngineRunStarted, one terminal event and one started +
    one terminal run-log record: none missing, none duplicated."""
    want = set(run_ids)
    started = Counter(e.run_id for e in events if e.event_type == "EngineRunStarted")
    terminal = Counter(e.run_id for e in events if e.event_type in TERMINAL)
    log_started = Counter(r.run_id for r in records if r.status == "started")
    log_terminal = Counter(r.run_id for r in records if r.status != "started")
    for name, seen in (
        ("EngineRunStarted", started),
        ("terminal event", terminal),
        ("run-log started", log_started),
        ("run-log terminal", log_terminal),
    ):
        missing = want - set(seen)
        extra = set(seen) - want
        twice = [r for r, n in seen.items() if n > 1]
        summary = f"{name}: {len(missing)} missing, {len(extra)} unexpected, {len(twice)} duplicated run ids"
        assert not missing, summary
        assert not extra, summary
        assert not twice, summary
