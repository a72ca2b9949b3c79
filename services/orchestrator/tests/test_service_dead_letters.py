"""Which re-read offsets an earlier owner already dead-lettered (so a restart does not write them twice)."""

from __future__ import annotations

from orchestrator.service import dead_lettered_offsets
from xray_runtime.context import HeaderList
from xray_runtime.dlq import dlq_headers

RAW = "ns.raw_market_event.v1"


def dead_letter(
    partition: int, offset: int, topic: str = RAW, original: HeaderList | None = None
) -> HeaderList:
    return dlq_headers("orchestrator", topic, partition, offset, error=ValueError("bad"), original=original)


def test_offsets_at_or_after_the_committed_offset_of_assigned_partitions() -> None:
    headers = [
        dead_letter(2, 9),  # before the committed offset: never re-read
        dead_letter(2, 10),
        dead_letter(2, 15),
        dead_letter(3, 40),  # partition not assigned here
        dead_letter(5, 0),
        dead_letter(2, 12, topic="other.raw_market_event.v1"),  # another namespace's input
    ]
    assert dead_lettered_offsets(headers, RAW, {2: 10, 5: 0}) == {2: {10, 15}, 5: {0}}


def test_provenance_headers_win_over_copied_original_headers() -> None:
    # A record that was itself re-fed from a DLQ carries old provenance headers; ours come last.
    original: HeaderList = [("dlq.source.offset", b"999"), ("dlq.source.partition", b"4")]
    assert dead_lettered_offsets([dead_letter(1, 7, original=original)], RAW, {1: 0, 4: 0}) == {
        1: {7},
        4: set(),
    }


def test_records_without_provenance_are_ignored() -> None:
    headers: list[HeaderList] = [[], [("dlq.source.topic", RAW.encode())], [("x", None)]]
    assert dead_lettered_offsets(headers, RAW, {0: 0}) == {0: set()}
