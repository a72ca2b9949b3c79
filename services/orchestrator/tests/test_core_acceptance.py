"""Fact-sheet acceptance behaviours 1-13 for the buffer, cuts, run_id, scheduler and sequencer."""

from __future__ import annotations

import dataclasses

import pytest
from orchestrator.buffer import RawInputBuffer
from orchestrator.cuts import CutSelector
from orchestrator.errors import BufferFullError, CutSelectionError, SequencingError
from orchestrator.run_id import derive_run_id
from orchestrator.scheduler import Scheduler
from orchestrator.sequencing import SymbolSequencer
from xray_contracts.raw_market_event import RawMarketEvent


def ev(symbol: str, payload: bytes = b'{"p":1}') -> RawMarketEvent:
    return RawMarketEvent(
        schema="raw_market_event",
        schema_version="1",
        event_type="TradeTick",
        source_id="source",
        symbol=symbol,
        exchange_ts_ms=None,
        recv_ts_ms=1,
        raw_payload=payload,
        normalized={"price": 1.0, "quantity": 1.0, "side": None},
    )


def test_seqs_start_at_one_and_increase() -> None:
    buffer = RawInputBuffer(max_records=10)
    assert buffer.last_ingest_seq() is None
    assert buffer.append(ev("A")).ingest_seq == 1
    assert buffer.append(ev("A")).ingest_seq == 2
    assert buffer.last_ingest_seq() == 2


def test_buffered_event_is_unaltered() -> None:
    event = ev("A", b"\x00\xffraw")
    record = RawInputBuffer(max_records=1).append(event)
    assert record.event == event
    assert record.event.raw_payload == b"\x00\xffraw"


def test_full_buffer_raises_and_uses_no_seq() -> None:
    buffer = RawInputBuffer(max_records=1)
    buffer.append(ev("A"))
    with pytest.raises(BufferFullError):
        buffer.append(ev("A"))
    assert buffer.last_ingest_seq() == 1
    with pytest.raises(ValueError, match="max_records"):
        RawInputBuffer(max_records=0)


def test_range_by_symbol() -> None:
    buffer = RawInputBuffer(max_records=10)
    for s in ("A", "B", "A"):
        buffer.append(ev(s))
    assert [r.ingest_seq for r in buffer.range_by_symbol("A", 1, 3)] == [1, 3]
    with pytest.raises(ValueError, match="start"):
        buffer.range_by_seq(3, 1)


def test_first_cut_starts_at_the_symbols_first_record() -> None:
    buffer = RawInputBuffer(max_records=10)
    for s in ("A", "B", "A"):
        buffer.append(ev(s))
    cut = CutSelector().next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=3, cut_kind="timer")
    assert (cut.cut_start_ingest_seq, cut.cut_end_ingest_seq) == (1, 3)


def test_second_cut_follows_the_first() -> None:
    buffer = RawInputBuffer(max_records=10)
    for _ in range(3):
        buffer.append(ev("A"))
    selector = CutSelector()
    selector.next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=2, cut_kind="timer")
    cut = selector.next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=3, cut_kind="timer")
    assert (cut.cut_start_ingest_seq, cut.cut_end_ingest_seq) == (3, 3)


def test_failed_selection_leaves_state_unchanged() -> None:
    buffer = RawInputBuffer(max_records=10)
    buffer.append(ev("B"))
    buffer.append(ev("A"))
    selector = CutSelector()
    with pytest.raises(CutSelectionError):
        selector.next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=0, cut_kind="timer")
    with pytest.raises(CutSelectionError):
        selector.next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=1, cut_kind="timer")
    assert selector.last_end("A") is None
    selector.next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=2, cut_kind="timer")
    with pytest.raises(CutSelectionError):
        selector.next_cut(buffer=buffer, symbol="A", cut_end_ingest_seq=2, cut_kind="timer")
    assert selector.last_end("A") == 2


def test_run_id_matches_the_fact_sheet() -> None:
    assert derive_run_id("TEST", 100, 10, "truth") == (
        "977204d4613841a755fc6ec57cf63f792c20c4e2f0d3c1e796291a529fec83d3"
    )
    assert derive_run_id("BTCUSDT", 180000, 42, "hysteresis") == (
        "d82522e5730a32ba824ea42244f381f953f14fbc89c0356652b3ecc140c0d8a2"
    )


def test_timer_ticks() -> None:
    scheduler = Scheduler(mode="timer", interval_ms=1000)
    ticks = [scheduler.next_tick(now) for now in (100, 200, 300)]
    assert [t.planned_ts_ms for t in ticks] == [100, 1100, 2100]
    assert all(t.engine_timestamp_ms == t.planned_ts_ms and t.cut_kind == "timer" for t in ticks)


@pytest.mark.parametrize(
    ("now", "expected"), [(1000, [3500, 6500]), (3500, [6500, 9500]), (200, [3500, 6500])]
)
def test_boundary_ticks(now: int, expected: list[int]) -> None:
    scheduler = Scheduler(mode="boundary", interval_ms=3000, delay_ms=500)
    ticks = [scheduler.next_tick(now), scheduler.next_tick(now + 1)]
    assert [t.planned_ts_ms for t in ticks] == expected
    assert [t.engine_timestamp_ms for t in ticks] == [e - 500 for e in expected]


def test_sequencer_accepts_equal_rejects_earlier_per_symbol() -> None:
    sequencer = SymbolSequencer()
    sequencer.check("TEST", 100)
    sequencer.check("TEST", 100)
    with pytest.raises(SequencingError):
        sequencer.check("TEST", 99)
    sequencer.check("OTHER", 90)


def test_records_are_immutable() -> None:
    record = RawInputBuffer(max_records=1).append(ev("A"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.ingest_seq = 5  # type: ignore[misc]
