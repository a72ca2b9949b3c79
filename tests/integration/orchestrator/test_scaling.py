"""Scaling (ARCHITECTURE §7 c): two orchestrator instances in one group, sharing the 6 raw partitions of a
12-symbol simulator series, give the outputs of one instance over the same raw topic, also when one of the
two leaves (SIGTERM) mid-stream, with runs still to do, and the other takes its partitions over (wall-clock
fields masked; every run id once).

The single-instance reference runs in its own namespace at the same time; the pair gets the raw topic as a
paced copy (same partitions, same offsets). Each instance has its own XRAY_INSTANCE_ID, hence its own
transactional id.
"""

from __future__ import annotations

import random
import re
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator.harness import (
    RAW,
    SPREAD_SYMBOLS,
    assert_each_run_once,
    assert_same_placement,
    committed_count,
    compare_outputs,
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
from xray_contracts import catalogue
from xray_testing.records import WatermarkGauge
from xray_testing.services import ServiceProcess, running_services

SEED = 77
WINDOWS = 30  # 1.5 h of market, 12 symbols
RUNS_METRIC = re.compile(r'^xray_orchestrator_runs_total\{outcome="completed"\} (\S+)$', re.MULTILINE)


def owned(proc: ServiceProcess) -> set[int]:
    """The raw partitions the instance owns now, from its assignment and revocation log lines."""
    partitions: set[int] = set()
    for line in proc.events():
        if line.get("event") == "partitions_assigned":
            partitions |= {item[1] for item in line["partitions"]}
        elif line.get("event") == "partitions_revoked":
            partitions -= {item[1] for item in line["partitions"]}
    return partitions


def shared(a: ServiceProcess, b: ServiceProcess) -> bool:
    """Both instances own partitions, none twice, all of them between the two."""
    mine, theirs = owned(a), owned(b)
    return bool(mine) and bool(theirs) and not mine & theirs and mine | theirs == set(range(RAW.partitions))


def completed_runs(proc: ServiceProcess) -> float:
    """The instance's completed-run counter, from its /metrics."""
    _, body = proc.get("/metrics")
    match = RUNS_METRIC.search(body)
    return float(match.group(1)) if match else 0.0


def wait_until(
    condition: Callable[[], bool], what: str, timeout_s: float, procs: list[ServiceProcess]
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        for proc in procs:
            proc.check_running()
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s}s: {what}")
        time.sleep(0.2)


def test_two_instances_and_one_leaving_give_the_outputs_of_one(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    single, pair = f"{kafka_namespace}-one", kafka_namespace
    for namespace in (single, pair):
        create_namespace(kafka_bootstrap, namespace)
    recording = write_simulation(sim_config(SPREAD_SYMBOLS, WINDOWS, SEED), tmp_path / "series.dat")
    (tmp_path / "one").mkdir()
    (tmp_path / "pair").mkdir()
    gauge = WatermarkGauge(kafka_bootstrap)
    run_log_topic = catalogue.ORCHESTRATOR_RUN_LOG.topic(pair)
    with (
        running_services(kafka_bootstrap, single, tmp_path / "one") as one_services,
        running_services(kafka_bootstrap, pair, tmp_path / "pair") as pair_services,
    ):
        replay_recording(one_services, [recording])
        rows = raw_rows(kafka_bootstrap, single)
        assert {r.partition for r in rows} == set(range(RAW.partitions)), "some raw partition has no symbol"
        events, bad = decode_raw(rows)
        assert not bad
        cuts = expected_cuts(events)
        want_records = 2 * len(cuts)
        solo = start_orchestrator(one_services, "solo-0")

        a = start_orchestrator(pair_services, "orchestrator-0")
        a.wait_for_event("partitions_assigned", timeout_s=60)
        b = start_orchestrator(pair_services, "orchestrator-1")
        wait_until(lambda: shared(a, b), "the two instances share the 6 partitions", 90, [a, b])
        print(f"partitions: a {sorted(owned(a))}, b {sorted(owned(b))}")

        feed = threading.Thread(
            target=copy_raw, args=(kafka_bootstrap, rows, pair), kwargs={"chunks": 30, "pace_s": 0.5}
        )
        feed.start()
        try:
            # One of the two leaves at a seeded point in the middle of the stream, work still to do.
            leave_at = random.Random(SEED).uniform(0.35, 0.55)
            wait_until(
                lambda: (
                    gauge.total(run_log_topic, catalogue.ORCHESTRATOR_RUN_LOG.partitions)
                    >= leave_at * want_records
                ),
                f"{leave_at:.0%} of the runs",
                120,
                [a, b],
            )
            feeding = feed.is_alive()
            assert committed_count(kafka_bootstrap, pair, catalogue.ORCHESTRATOR_RUN_LOG) < want_records
            assert completed_runs(a) > 0
            assert completed_runs(b) > 0  # both did share the work
            leaver, survivor = random.Random(SEED).sample([a, b], 2)
            assert leaver.stop(signal.SIGTERM, timeout_s=60) == 0, leaver.log_tail()
            wait_until(
                lambda: owned(survivor) == set(range(RAW.partitions)), "the survivor owns all", 90, [survivor]
            )
        finally:
            feed.join()
            gauge.close()
        wait_for_runs(kafka_bootstrap, pair, len(cuts), check=survivor.check_running, timeout_s=120)
        wait_for_runs(kafka_bootstrap, single, len(cuts), check=solo.check_running, timeout_s=120)
        assert survivor.stop() == 0, survivor.log_tail()
        assert solo.stop() == 0, solo.log_tail()

    assert_same_placement(rows, raw_rows(kafka_bootstrap, pair))
    diffs = compare_outputs(kafka_bootstrap, single, pair)
    for diff in diffs:
        print(diff.describe())
    assert all(d.equal for d in diffs), [d.describe() for d in diffs if not d.equal]
    published = [e for _, e in orchestrator_events(kafka_bootstrap, pair)]
    records = [r for _, r in run_log(kafka_bootstrap, pair)]
    assert_each_run_once(published, records, [c.run_id() for c in cuts])
    print(
        f"{len(SPREAD_SYMBOLS)} symbols, {len(events)} raw events, {len(cuts)} runs; one left at "
        f"{leave_at:.0%} of the runs ({'while the input still arrived' if feeding else 'input all written'})"
    )
