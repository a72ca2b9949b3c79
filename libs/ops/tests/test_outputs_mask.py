"""Masking wall-clock fields and the compacted view used to compare two replays' topics."""

from __future__ import annotations

from xray_ops.outputs import MASK, TopicRecord, latest_per_key, mask


def test_mask_replaces_only_wall_clock_fields_at_any_depth() -> None:
    value = {
        "published_ts_ms": 5,
        "engine_timestamp_ms": 7,
        "payload": {"hysteresis_state": {"last_commit_timestamp_ms": 9, "progress_current": 1}},
        "list": [{"started_ts_ms": 1, "planned_ts_ms": None}],
    }
    assert mask(value) == {
        "published_ts_ms": MASK,
        "engine_timestamp_ms": 7,
        "payload": {"hysteresis_state": {"last_commit_timestamp_ms": MASK, "progress_current": 1}},
        "list": [{"started_ts_ms": MASK, "planned_ts_ms": None}],
    }


def test_latest_per_key_is_independent_of_compaction() -> None:
    full = [
        TopicRecord(0, "A", (), 1),
        TopicRecord(1, "B", (), 2),
        TopicRecord(0, "A", (), 3),
        TopicRecord(0, "C", (), None),
    ]
    compacted = [full[1], full[2], full[3]]
    assert latest_per_key(full) == latest_per_key(compacted) == [full[2], full[3], full[1]]
