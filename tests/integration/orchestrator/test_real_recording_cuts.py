"""Real Binance recordings ($XRAY_SAMPLE_DATA) through `python -m market_data` → `python -m orchestrator` on
a real broker: one run per symbol per 180 s boundary crossed, and each symbol's cuts partition its events
(none in two cuts, none left out), checked against the raw topic read back and cut here independently
(`orchestrator.harness.expected_cuts`, not the planner).

The last window of old data never closes (the live close only fires for a feed within 10 min of the wall
clock), so only the boundaries some later record crossed count.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from orchestrator.harness import (
    RAW,
    TERMINAL,
    ExpectedCut,
    create_namespace,
    decode_raw,
    expected_cuts,
    orchestrator_events,
    raw_rows,
    replay_recording,
    run_log,
    start_orchestrator,
    wait_for_runs,
)
from xray_testing.services import running_services

HFT = "binance_usdm_hftbacktest"
# name -> (files, --limit frames per file). The 2023 pair is whole (BTCUSDT with markPrice/funding frames,
# 23:58:20 → 00:06:54: boundaries 00:00, 00:03, 00:06). The 2024 pair (BTCUSDT + ETHUSDT on two
# partitions, from 23:54:15) is cut to its first 45,000 frames per file, ~30 s past its one boundary
# (23:57:00), to stay quick.
RECORDINGS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "btc-2023-04-05": (
        (
            f"{HFT}/2023-04-05_btcusdt_markprice/btcusdt_20230404.dat.gz",
            f"{HFT}/2023-04-05_btcusdt_markprice/btcusdt_20230405.dat.gz",
        ),
        None,
    ),
    "btc-eth-2024-08-08": (
        (f"{HFT}/2024-08-08_btc_eth/btcusdt_20240808.gz", f"{HFT}/2024-08-08_btc_eth/ethusdt_20240808.gz"),
        45_000,
    ),
}
INTERVAL_MS = 180_000


def sample_dir() -> Path:
    value = os.environ.get("XRAY_SAMPLE_DATA")
    if not value:
        pytest.skip("XRAY_SAMPLE_DATA is not set: the real Binance recordings are not available")
    path = Path(value)
    if not path.is_dir():
        pytest.skip(f"XRAY_SAMPLE_DATA={value} is not a directory")
    return path


@pytest.mark.parametrize("recording", sorted(RECORDINGS))
def test_one_run_per_symbol_per_boundary_and_cuts_partition_the_events(
    recording: str, kafka_bootstrap: str, kafka_namespace: str, tmp_path: Path
) -> None:
    root = sample_dir()
    files, limit = RECORDINGS[recording]
    create_namespace(kafka_bootstrap, kafka_namespace)
    with running_services(kafka_bootstrap, kafka_namespace, tmp_path) as services:
        # The whole recording is in the raw topic before the orchestrator starts.
        replay_recording(services, [root / f for f in files], limit=limit)
        events, bad = decode_raw(raw_rows(kafka_bootstrap, kafka_namespace))
        assert events
        assert not bad
        cuts = expected_cuts(events)
        orchestrator = start_orchestrator(services)
        wait_for_runs(
            kafka_bootstrap, kafka_namespace, len(cuts), check=orchestrator.check_running, timeout_s=180
        )
        assert orchestrator.stop() == 0, orchestrator.log_tail()

    # The reference itself, from recv_ts_ms alone: every symbol runs once per aligned boundary between
    # its partition's first record and the newest recv_ts_ms seen after the symbol's first record.
    symbols = sorted({e.symbol for e in events})
    for symbol in symbols:
        own = [e for e in events if e.symbol == symbol]
        partition_log = [e for e in events if e.partition == own[0].partition]
        newest_after = max(e.recv_ts_ms for e in partition_log if e.offset > own[0].offset)
        first_boundary = (partition_log[0].recv_ts_ms // INTERVAL_MS + 1) * INTERVAL_MS
        crossed = [b for b in range(first_boundary, newest_after + 1, INTERVAL_MS)]
        assert [c.engine_timestamp_ms for c in cuts if c.symbol == symbol] == crossed
        assert crossed, f"{recording}: {symbol} crosses no boundary"
    print(
        f"{recording}: {len(events)} raw events, runs per symbol "
        f"{dict(Counter(c.symbol for c in cuts))}, boundaries {sorted({c.engine_timestamp_ms for c in cuts})}"
    )

    published = orchestrator_events(kafka_bootstrap, kafka_namespace)
    started = {
        (e.symbol, e.engine_timestamp_ms): e for _, e in published if e.event_type == "EngineRunStarted"
    }
    starts = Counter(
        (e.symbol, e.engine_timestamp_ms) for _, e in published if e.event_type == "EngineRunStarted"
    )
    assert max(starts.values()) == 1, "a boundary ran twice for a symbol"
    want: dict[tuple[str, int], ExpectedCut] = {(c.symbol, c.engine_timestamp_ms): c for c in cuts}
    assert sorted(started) == sorted(want)

    raw_partition = {e.symbol: e.partition for e in events}
    terminal = {e.run_id: e for _, e in published if e.event_type in TERMINAL}
    records = run_log(kafka_bootstrap, kafka_namespace)
    log_by_run: dict[str, list[str]] = {}
    for _, record in records:
        log_by_run.setdefault(record.run_id, []).append(record.status)
    for key, cut in want.items():
        event = started[key]
        # Seqs are raw offsets; the run id is derived from them (fact sheet §2.5), recomputed here.
        assert (event.cut_start_ingest_seq, event.cut_end_ingest_seq) == (cut.cut_start, cut.cut_end), key
        assert event.run_id == cut.run_id(event.engine_mode or ""), key
        done = terminal[event.run_id]
        assert dict(done.counts_by_event_type or {}) == dict(cut.counts), key
        assert log_by_run[event.run_id][0] == "started"
        assert len(log_by_run[event.run_id]) == 2
    for row, event in published:
        assert row.partition == raw_partition[event.symbol]  # outputs stay on the symbol's partition
        assert row.key == event.symbol.encode()
    for _, record in records:
        cut = want[(record.symbol, record.engine_timestamp_ms)]
        assert (record.cut_start_ingest_seq, record.cut_end_ingest_seq) == (cut.cut_start, cut.cut_end)

    # The cuts the service reported partition each symbol's events up to its last closed cut: each such
    # event lies in exactly one run's [cut_start, cut_end], and the reported counts add up to them.
    for symbol in symbols:
        ranges = sorted(
            (e.cut_start_ingest_seq, e.cut_end_ingest_seq) for (s, _), e in started.items() if s == symbol
        )
        last_end = ranges[-1][1]
        own = [e for e in events if e.symbol == symbol]
        for raw in own:
            inside = sum(1 for lo, hi in ranges if lo <= raw.offset <= hi)
            assert inside == (1 if raw.offset <= last_end else 0), (symbol, raw.offset, inside)
        reported = sum(
            sum((terminal[e.run_id].counts_by_event_type or {}).values())
            for (s, _), e in started.items()
            if s == symbol
        )
        assert reported == sum(1 for e in own if e.offset <= last_end)
        left_open = sum(1 for e in own if e.offset > last_end)
        print(
            f"  {symbol} (raw partition {own[0].partition} of {RAW.partitions}): {len(ranges)} cuts, "
            f"{reported} events cut, {left_open} in the open window"
        )
