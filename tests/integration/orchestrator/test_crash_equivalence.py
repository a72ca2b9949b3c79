"""Crash equivalence (ARCHITECTURE §7 b): the orchestrator SIGKILLed at 5 seeded random points of a 3-hour
simulator series (6 symbols, one per partition) and restarted each time under the same instance id gives,
read_committed, exactly the outputs of an uninterrupted run over the same raw topic (wall-clock fields
masked): every run id once, none missing, none duplicated; hysteresis and cursor state equal too.

The uninterrupted reference runs in its own namespace at the same time. The killed run gets the raw topic
as a paced copy (same partitions, same offsets) while it works, and commits small transactions, so kills
land while input arrives, mid-transaction, and during restores.
"""

from __future__ import annotations

import threading
from pathlib import Path

from orchestrator.harness import (
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
from xray_testing.chaos import ServiceSpec, Supervisor, chaos_plan, run_plan
from xray_testing.records import WatermarkGauge
from xray_testing.services import running_services

SEED = 607
WINDOWS = 60  # 3 h of market
KILLS = 5
ORCHESTRATOR = "orchestrator"


def test_killed_orchestrator_gives_the_uninterrupted_outputs(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    reference, chaos = f"{kafka_namespace}-ref", kafka_namespace
    for namespace in (reference, chaos):
        create_namespace(kafka_bootstrap, namespace)
    config = sim_config(SPREAD_SYMBOLS[::2], WINDOWS, SEED)
    recording = write_simulation(config, tmp_path / "series.dat")
    (tmp_path / "ref").mkdir()
    (tmp_path / "chaos").mkdir()
    run_log_topic = catalogue.ORCHESTRATOR_RUN_LOG.topic(chaos)
    gauge = WatermarkGauge(kafka_bootstrap)
    with (
        running_services(kafka_bootstrap, reference, tmp_path / "ref") as ref_services,
        running_services(kafka_bootstrap, chaos, tmp_path / "chaos") as chaos_services,
    ):
        replay_recording(ref_services, [recording])
        rows = raw_rows(kafka_bootstrap, reference)
        events, bad = decode_raw(rows)
        assert not bad
        cuts = expected_cuts(events)
        want_records = 2 * len(cuts)

        uninterrupted = start_orchestrator(ref_services, "reference-0")
        supervisor = Supervisor(
            chaos_services,
            {
                ORCHESTRATOR: ServiceSpec(
                    ORCHESTRATOR,
                    ["-m", "orchestrator"],
                    # Many small transactions: more commit points for the kills to fall between. Static
                    # membership: a restarted incarnation takes its partitions back at once, not after the
                    # dead one's session timeout (the dynamic rejoin is in test_dead_letters/test_scaling).
                    env={
                        "XRAY_PROCESSING__BATCH_MAX_RECORDS": "1500",
                        "XRAY_PROCESSING__STATIC_MEMBERSHIP": "true",
                    },
                )
            },
        )
        supervisor.start(ORCHESTRATOR).wait_for_event("partitions_assigned", timeout_s=60)
        feed = threading.Thread(
            target=copy_raw, args=(kafka_bootstrap, rows, chaos), kwargs={"chunks": 30, "pace_s": 0.5}
        )
        feed.start()
        try:
            plan = chaos_plan(SEED, kills={ORCHESTRATOR: KILLS}, span=(0.05, 0.9))
            done = run_plan(
                plan,
                supervisor,
                # Run-log records written so far (aborted ones included) over those a full run commits.
                lambda _service: (
                    gauge.total(run_log_topic, catalogue.ORCHESTRATOR_RUN_LOG.partitions) / want_records
                ),
                broker=None,
                seed=SEED,
                finished=lambda: (
                    committed_count(kafka_bootstrap, chaos, catalogue.ORCHESTRATOR_RUN_LOG) >= want_records
                ),
                timeout_s=300,
            )
        finally:
            feed.join()
            gauge.close()
        print("\n".join(done))
        last = supervisor.running(ORCHESTRATOR)
        assert len(last) == 1
        wait_for_runs(kafka_bootstrap, chaos, len(cuts), check=last[0].check_running, timeout_s=60)
        wait_for_runs(kafka_bootstrap, reference, len(cuts), check=uninterrupted.check_running, timeout_s=120)
        codes = supervisor.stop_all()
        assert uninterrupted.stop() == 0, uninterrupted.log_tail()
        incarnations = [p for p in chaos_services.processes if p.name == ORCHESTRATOR]

    assert supervisor.kills[ORCHESTRATOR] == KILLS, supervisor.log
    assert not supervisor.crashes, supervisor.crashes
    assert set(codes.values()) == {0}, codes
    assert_same_placement(rows, raw_rows(kafka_bootstrap, chaos))

    diffs = compare_outputs(kafka_bootstrap, reference, chaos)
    for diff in diffs:
        print(diff.describe())
    assert all(d.equal for d in diffs), [d.describe() for d in diffs if not d.equal]
    run_ids = [c.run_id() for c in cuts]
    for namespace in (chaos, reference):
        published = [e for _, e in orchestrator_events(kafka_bootstrap, namespace)]
        records = [r for _, r in run_log(kafka_bootstrap, namespace)]
        assert_each_run_once(published, records, run_ids)

    # The restarts resumed from persisted state: some incarnation restored a cursor and rebuilt history.
    restored = [e for p in incarnations[1:] for e in p.events("partition_restored")]
    assert any(e["open_boundary_ms"] is not None and e["history_offsets"] > 0 for e in restored)
    print(f"{len(events)} raw events, {len(cuts)} runs, {len(incarnations)} incarnations")
