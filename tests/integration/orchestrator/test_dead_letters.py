"""Undecodable input (ARCHITECTURE §6): garbage bytes and a tombstone, keyed by BTCUSDT so they land on its
raw partition between its valid records while the orchestrator runs, go to `{ns}.orchestrator.dlq.v1` with
their key, bytes and provenance headers (service, source topic/partition/offset, error); the orchestrator
goes on, and BTCUSDT's cuts (the one holding the garbage, and the next ones) run with exactly its valid
events, as the independent reference cut from the raw topic says.

The garbage sits inside a window, and the orchestrator is SIGKILLed and restarted while that window is
still open (the restart re-reads it: the garbage must not be dead-lettered twice); the tombstone is the
last record before a boundary's closing record.
"""

from __future__ import annotations

import signal
from pathlib import Path

from orchestrator.harness import (
    DLQ,
    INTERVAL_MS,
    RAW,
    TERMINAL,
    copy_raw,
    create_namespace,
    decode_raw,
    expected_cuts,
    orchestrator_events,
    raw_rows,
    replay_recording,
    sim_config,
    start_orchestrator,
    wait_for_runs,
    write_simulation,
)
from xray_contracts.codec import codec_for
from xray_contracts.raw_market_event import RawMarketEvent
from xray_runtime.dlq import (
    H_ERROR_CLASS,
    H_ERROR_MESSAGE,
    H_SERVICE,
    H_SOURCE_OFFSET,
    H_SOURCE_PARTITION,
    H_SOURCE_TOPIC,
)
from xray_testing.records import produce_recorded, wait_committed
from xray_testing.services import running_services

SYMBOL = "BTCUSDT"
SYMBOLS = (SYMBOL, "ETHUSDT", "SOLUSDT")
WINDOWS = 8
GARBAGE = b"\x00\x01 not a raw_market_event"
AFTER = 5  # valid records after the garbage, in its window, before the kill


def test_bad_records_go_to_the_dlq_and_the_symbol_keeps_running(
    kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    staging = f"{kafka_namespace}-src"
    create_namespace(kafka_bootstrap, staging, [RAW])
    create_namespace(kafka_bootstrap, kafka_namespace)
    config = sim_config(SYMBOLS, WINDOWS, seed=5)
    recording = write_simulation(config, tmp_path / "series.dat")
    raw_topic = RAW.topic(kafka_namespace)
    (tmp_path / "src").mkdir()
    with running_services(kafka_bootstrap, staging, tmp_path / "src") as stage:
        replay_recording(stage, [recording])
    rows = raw_rows(kafka_bootstrap, staging)
    codec = codec_for(RawMarketEvent)
    home = next(r.partition for r in rows if r.key == SYMBOL.encode())
    own = [r for r in rows if r.partition == home]
    others = [r for r in rows if r.partition != home]
    ts = [codec.decode(r.value or b"").recv_ts_ms for r in own]
    # Garbage half-way through window 4; the tombstone right before the record that closes boundary 6.
    garbage_at = next(
        i for i, t in enumerate(ts) if t >= config.start_ms + 3 * INTERVAL_MS + INTERVAL_MS // 2
    )
    tombstone_at = next(i for i, t in enumerate(ts) if t >= config.start_ms + 6 * INTERVAL_MS)

    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        orchestrator = start_orchestrator(services)
        orchestrator.wait_for_event("partitions_assigned", timeout_s=60)
        copy_raw(kafka_bootstrap, others + own[:garbage_at], kafka_namespace)
        (garbage,) = produce_recorded(kafka_bootstrap, raw_topic, [(SYMBOL.encode(), GARBAGE)])
        copy_raw(kafka_bootstrap, own[garbage_at : garbage_at + AFTER], kafka_namespace)
        # Killed once the garbage is dead-lettered and committed while its window is still open: the
        # restart re-reads that window from its first offset, garbage included, and must not write it to
        # the DLQ a second time.
        assert ts[garbage_at + AFTER] < (ts[garbage_at] // INTERVAL_MS + 1) * INTERVAL_MS
        wait_committed(
            kafka_bootstrap,
            DLQ.topic(kafka_namespace),
            DLQ.partitions,
            1,
            check=orchestrator.check_running,
            timeout_s=60,
        )
        orchestrator.proc.send_signal(signal.SIGKILL)
        assert orchestrator.proc.wait(30) == -signal.SIGKILL
        orchestrator = start_orchestrator(services)
        orchestrator.wait_for_event("partitions_assigned", timeout_s=60)
        copy_raw(kafka_bootstrap, own[garbage_at + AFTER : tombstone_at], kafka_namespace)
        (tombstone,) = produce_recorded(kafka_bootstrap, raw_topic, [(SYMBOL.encode(), None)])
        copy_raw(kafka_bootstrap, own[tombstone_at:], kafka_namespace)
        assert garbage.partition == tombstone.partition == home

        events, bad = decode_raw(raw_rows(kafka_bootstrap, kafka_namespace))
        assert [(r.partition, r.offset) for r in bad] == [(home, garbage.offset), (home, tombstone.offset)]
        cuts = expected_cuts(events)
        wait_for_runs(
            kafka_bootstrap, kafka_namespace, len(cuts), check=orchestrator.check_running, timeout_s=120
        )
        dlq = wait_committed(
            kafka_bootstrap,
            DLQ.topic(kafka_namespace),
            DLQ.partitions,
            2,
            check=orchestrator.check_running,
            timeout_s=60,
        )
        assert orchestrator.stop() == 0, orchestrator.log_tail()
        skipped = orchestrator.events("dead_letter_already_written")

    # Each bad record is in the DLQ once, key and bytes intact, headers naming exactly where it came from.
    assert len(dlq) == 2, [r.header(H_SOURCE_OFFSET) for r in dlq]
    assert [e["offset"] for e in skipped] == [garbage.offset]
    by_offset = {int(r.header(H_SOURCE_OFFSET) or b"-1"): r for r in dlq}
    for sent in (garbage, tombstone):
        row = by_offset[sent.offset]
        assert (row.key, row.value) == (SYMBOL.encode(), sent.value)
        assert row.header(H_SERVICE) == b"orchestrator"
        assert row.header(H_SOURCE_TOPIC) == raw_topic.encode()
        assert row.header(H_SOURCE_PARTITION) == str(home).encode()
        assert row.header(H_ERROR_CLASS)
        assert row.header(H_ERROR_MESSAGE) is not None

    # The symbol kept running: every expected cut ran, with the valid events only.
    published = [e for _, e in orchestrator_events(kafka_bootstrap, kafka_namespace)]
    started = {(e.symbol, e.engine_timestamp_ms): e for e in published if e.event_type == "EngineRunStarted"}
    terminal = {e.run_id: e for e in published if e.event_type in TERMINAL}
    assert sorted(started) == sorted((c.symbol, c.engine_timestamp_ms) for c in cuts)
    for cut in cuts:
        event = started[(cut.symbol, cut.engine_timestamp_ms)]
        assert (event.cut_start_ingest_seq, event.cut_end_ingest_seq) == (cut.cut_start, cut.cut_end)
        assert dict(terminal[event.run_id].counts_by_event_type or {}) == dict(cut.counts)
    mine = [c for c in cuts if c.symbol == SYMBOL]
    holding = next(i for i, c in enumerate(mine) if c.cut_start <= garbage.offset <= c.cut_end)
    closed_by_tombstone = next(i for i, c in enumerate(mine) if c.cut_end == tombstone.offset - 1)
    assert holding < closed_by_tombstone < len(mine) - 1  # cuts after both bad records ran too
    for cut in mine[holding:]:
        done = terminal[started[(SYMBOL, cut.engine_timestamp_ms)].run_id]
        assert done.event_type == "EngineRunCompleted", (cut, done.payload)
    print(
        f"dlq: {len(dlq)} records; {SYMBOL} cuts {len(mine)}, garbage in cut {holding}, tombstone before "
        f"the closing record of cut {closed_by_tombstone}"
    )
