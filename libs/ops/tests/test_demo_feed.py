"""The demo feed: a backfill before `live_from_ms` and a live part after it, one simulation."""

from __future__ import annotations

from pathlib import Path

from xray_ops.demo import write_demo_feed
from xray_simulator.config import WINDOW_MS


def _times(path: Path) -> list[int]:
    return [int(line.split(b" ", 1)[0]) // 1_000_000 for line in path.read_bytes().splitlines()]


def test_backfill_and_live_split_at_live_from(tmp_path: Path) -> None:
    now = 1_750_000_000_000
    feed = write_demo_feed(
        tmp_path,
        symbols=("BTCUSDT", "ETHUSDT"),
        now_ms=now,
        live_from_ms=now + 20_000,
        backfill_windows=3,
        live_windows=2,
    )
    early, late = _times(feed.backfill), _times(feed.live)
    assert (len(early), len(late)) == (feed.backfill_frames, feed.live_frames)
    assert early
    assert late
    assert max(early) < now + 20_000 <= min(late)
    assert early == sorted(early)
    assert late == sorted(late)
    # The simulation starts on a window boundary, `backfill_windows` windows before the one holding now.
    assert min(early) >= (now // WINDOW_MS - 3) * WINDOW_MS
    assert feed.labels.read_text().count("\n") == 2 * 5
