"""Event-time cut planning: partitioning, gaps, late records and restart equivalence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from orchestrator.planner import PartitionCutPlanner, PlannedCut, plan_partition
from xray_contracts.raw_market_event import RawMarketEvent

WINDOW = 180_000


def ev(symbol: str, ts: int) -> RawMarketEvent:
    return RawMarketEvent(
        schema="raw_market_event",
        schema_version="1",
        event_type="TradeTick",
        source_id="t",
        symbol=symbol,
        exchange_ts_ms=None,
        recv_ts_ms=ts,
        raw_payload=b"{}",
        normalized={"price": 1.0, "quantity": 1.0, "side": None},
    )


def test_first_boundary_closes_with_the_first_record_at_or_after_it() -> None:
    log = [(0, ev("A", 10)), (1, ev("B", 20)), (2, ev("A", WINDOW - 1)), (3, ev("A", WINDOW))]
    cuts = plan_partition(log, WINDOW)
    assert [
        (c.symbol, c.engine_timestamp_ms, c.cut_start_ingest_seq, c.cut_end_ingest_seq) for c in cuts
    ] == [
        ("A", WINDOW, 0, 2),
        ("B", WINDOW, 1, 2),
    ]
    assert [e.recv_ts_ms for e in cuts[0].events] == [10, WINDOW - 1]


def test_a_gap_closes_every_boundary_crossed_and_later_ones_are_empty() -> None:
    cuts = plan_partition([(0, ev("A", 5)), (1, ev("A", 3 * WINDOW + 7))], WINDOW)
    assert [
        (c.engine_timestamp_ms, len(c.events), c.cut_start_ingest_seq, c.cut_end_ingest_seq) for c in cuts
    ] == [
        (WINDOW, 1, 0, 0),
        (2 * WINDOW, 0, 1, 0),
        (3 * WINDOW, 0, 1, 0),
    ]


def test_a_late_record_joins_the_open_window() -> None:
    cuts = plan_partition(
        [(0, ev("A", 5)), (1, ev("A", WINDOW + 1)), (2, ev("A", 7)), (3, ev("A", 2 * WINDOW))], WINDOW
    )
    assert [[e.recv_ts_ms for e in c.events] for c in cuts] == [[5], [WINDOW + 1, 7]]


def test_live_close_through_cuts_at_the_last_offset() -> None:
    planner = PartitionCutPlanner(WINDOW)
    planner.add(0, ev("A", 5))
    planner.add(1, ev("A", 6))
    assert planner.close_through(WINDOW - 1) == []
    (cut,) = planner.close_through(WINDOW)
    assert (cut.cut_start_ingest_seq, cut.cut_end_ingest_seq, len(cut.events)) == (0, 1, 2)
    assert planner.commit_offset() == 2


def _log(draw_ts: list[int], symbols: list[str]) -> list[tuple[int, RawMarketEvent]]:
    return [(i, ev(symbols[i % len(symbols)], ts)) for i, ts in enumerate(draw_ts)]


timestamps = st.lists(st.integers(min_value=0, max_value=12 * WINDOW), min_size=1, max_size=80).map(sorted)


@settings(max_examples=200, deadline=None)
@given(timestamps, st.lists(st.sampled_from(["A", "B", "C"]), min_size=1, max_size=3))
def test_cuts_partition_each_symbols_events(ts: list[int], symbols: list[str]) -> None:
    log = _log(ts, symbols)
    cuts = plan_partition(log, WINDOW)
    covered = [id(e) for c in cuts for e in c.events]
    assert len(covered) == len(set(covered)), "an event is in two cuts"
    last_boundary = cuts[-1].engine_timestamp_ms if cuts else -1
    # Every event before the last closed boundary is in exactly one cut.
    expected = {id(e) for _, e in log if e.recv_ts_ms < last_boundary}
    assert set(covered) == expected
    for c in cuts:
        assert all(e.symbol == c.symbol for e in c.events)
        assert all(e.recv_ts_ms < c.engine_timestamp_ms for e in c.events)


@settings(max_examples=200, deadline=None)
@given(timestamps, st.data())
def test_restart_from_cursor_reproduces_the_uninterrupted_plan(ts: list[int], data: st.DataObject) -> None:
    log = _log(ts, ["B", "A"])
    whole = plan_partition(log, WINDOW)
    stop = data.draw(st.integers(min_value=0, max_value=len(log)))
    first = PartitionCutPlanner(WINDOW)
    before: list[PlannedCut] = []
    for offset, event in log[:stop]:
        before.extend(first.add(offset, event))
    # A restart resumes from the committed offset with only the cursor; the open window is re-read.
    resume = first.commit_offset() if first.commit_offset() is not None else 0
    second = PartitionCutPlanner(WINDOW, cursor=first.cursor())
    after: list[PlannedCut] = []
    for offset, event in log[resume:]:
        after.extend(second.add(offset, event))
    assert before + after == whole
