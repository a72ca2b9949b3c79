"""Replay determinism (ARCHITECTURE §7 a): the orchestrator run twice over the same raw topic, in two
namespaces, writes identical outputs: `orchestrator_event` and `orchestrator.run_log` equal record for
record with only the wall-clock fields masked (published_ts_ms, started_ts_ms, completed_ts_ms), and the
hysteresis and cursor state topics equal as written, each partition's log in the same order.

The raw topic is written once by market_data from a simulator series and copied record by record (same
partition, same order, so same offsets) into the second namespace. The two runs differ in everything but
the input: instance id, transaction batch size, and they run at the same time on a loaded machine.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from orchestrator.harness import (
    MASKS,
    OUTPUTS,
    SPREAD_SYMBOLS,
    assert_each_run_once,
    assert_same_placement,
    copy_raw,
    create_namespace,
    decode_raw,
    expected_cuts,
    orchestrator_events,
    raw_rows,
    replay_recording,
    run_log,
    sim_config,
    start_orchestrator,
    wait_for_runs,
    write_simulation,
)
from xray_contracts.catalogue import TopicSpec
from xray_testing.chaos import masked_value
from xray_testing.records import read_committed
from xray_testing.services import running_services

SEED = 31
WINDOWS = 40  # 2 h of market


def partition_logs(bootstrap: str, namespace: str, spec: TopicSpec) -> dict[int, list[tuple[Any, ...]]]:
    """Each partition's records in log order as (key, masked value, headers); offsets left out (they
    count transaction markers, which depend on how records were batched into transactions)."""
    fields = MASKS.get(spec.name, ())
    logs: dict[int, list[tuple[Any, ...]]] = {}
    for row in read_committed(bootstrap, spec.topic(namespace), spec.partitions):
        logs.setdefault(row.partition, []).append(
            (row.key, masked_value(spec, row.value, fields), tuple(row.headers))
        )
    return logs


def test_two_replays_of_one_raw_topic_give_identical_outputs(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    first, second = kafka_namespace, f"{kafka_namespace}-again"
    for namespace in (first, second):
        create_namespace(kafka_bootstrap, namespace)
    recording = write_simulation(sim_config(SPREAD_SYMBOLS[:8], WINDOWS, SEED), tmp_path / "series.dat")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        running_services(kafka_bootstrap, first, tmp_path / "a") as services_a,
        running_services(kafka_bootstrap, second, tmp_path / "b") as services_b,
    ):
        replay_recording(services_a, [recording])
        rows = raw_rows(kafka_bootstrap, first)
        copy_raw(kafka_bootstrap, rows, second)
        assert_same_placement(rows, raw_rows(kafka_bootstrap, second))
        events, bad = decode_raw(rows)
        assert not bad
        cuts = expected_cuts(events)
        a = start_orchestrator(services_a, "orchestrator-a")
        b = start_orchestrator(services_b, "orchestrator-b", {"XRAY_PROCESSING__BATCH_MAX_RECORDS": "700"})
        for namespace, proc in ((first, a), (second, b)):
            wait_for_runs(kafka_bootstrap, namespace, len(cuts), check=proc.check_running, timeout_s=150)
        assert a.stop() == 0, a.log_tail()
        assert b.stop() == 0, b.log_tail()

    for spec in OUTPUTS:
        logs_a = partition_logs(kafka_bootstrap, first, spec)
        logs_b = partition_logs(kafka_bootstrap, second, spec)
        assert logs_a, f"{spec.name}: nothing written"
        for partition in sorted(set(logs_a) | set(logs_b)):
            got, want = logs_b.get(partition, []), logs_a.get(partition, [])
            differ = next((i for i, (x, y) in enumerate(zip(got, want, strict=False)) if x != y), None)
            assert got == want, (
                f"{spec.name}[{partition}]: {len(got)} vs {len(want)} records, first difference at {differ}"
            )
        print(f"{spec.name}: {sum(len(v) for v in logs_a.values())} records, identical")

    published = [e for _, e in orchestrator_events(kafka_bootstrap, first)]
    records = [r for _, r in run_log(kafka_bootstrap, first)]
    assert_each_run_once(published, records, [c.run_id() for c in cuts])
    kinds = Counter(e.event_type for e in published)
    # Not a trivial output: completed hysteresis runs, and the anchor regime moved during the series.
    assert kinds["EngineRunCompleted"] > len(cuts) // 2, kinds
    anchors = {
        (e.symbol, e.payload.hysteresis_state.anchor_regime)
        for e in published
        if e.event_type == "HysteresisStatePublished" and e.payload and e.payload.hysteresis_state
    }
    assert len(anchors) > len({s for s, _ in anchors}), "no anchor regime change in the whole series"
    print(f"{len(events)} raw events, {len(cuts)} runs, {dict(kinds)}")
