"""The recording feed: recorded frames through the live adapter's decoder into the pipeline, paced."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from market_data.binance.frames import UNKNOWN_SYMBOL, FrameDecoder
from market_data.contracts import BackpressureError, RawMarketEvent
from market_data.pipeline import IngestionPipeline
from market_data.recording import RecordedFrame, read_frames, rest_endpoint, rest_symbol, stream_of


@dataclass
class ReplayStats:
    """What a replay did."""

    frames: int = 0
    rest_bodies: int = 0
    events: int = 0
    overflows: int = 0
    skipped_rest: int = 0
    by_event_type: dict[str, int] = field(default_factory=dict)


def events_of_frame(
    decoder: FrameDecoder, frame: RecordedFrame, last_symbol: str
) -> list[RawMarketEvent] | None:
    """What the live adapter emits for a recorded frame; None for a REST body it never requests."""
    recv_ms = frame.recv_ns // 1_000_000
    if frame.kind == "ws":
        return decoder.decode(frame.payload, recv_ms)
    endpoint = rest_endpoint(frame)
    symbol = rest_symbol(frame, last_symbol or decoder.fallback_symbol)
    if endpoint == "depth":
        return decoder.decode_depth_snapshot(symbol, frame.payload, recv_ms)
    if endpoint == "open_interest":
        return decoder.decode_open_interest(symbol, frame.payload, recv_ms)
    return None


class RecordingFeed:
    """Replays frames at `speed` x recorded pace (`None` = as fast as possible)."""

    def __init__(
        self,
        pipeline: IngestionPipeline,
        *,
        source_id: str = "binance",
        speed: float | None = None,
        backpressure_pause_s: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        catching_up: Callable[[], bool] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.decoder = FrameDecoder(source_id, UNKNOWN_SYMBOL)
        self.speed = speed
        self.backpressure_pause_s = backpressure_pause_s
        self.sleep = sleep
        self.monotonic = monotonic
        self.stats = ReplayStats()
        self.stopped = False
        # While this says True (a resumed replay skipping what was already written), frames are not
        # paced; pacing starts afresh at the first frame after it.
        self.catching_up = catching_up

    def stop(self) -> None:
        """End the replay after the current frame."""
        self.stopped = True

    def _publish_after_backpressure(self, event: RawMarketEvent) -> None:
        """The live adapter's `pause` reaction: wait, retry the same event, until it is accepted."""
        while True:
            self.stats.overflows += 1
            if self.stopped:
                raise BackpressureError("stopped while the sink refused an event")
            self.sleep(self.backpressure_pause_s)
            try:
                self.pipeline.publish(event)
                return
            except BackpressureError:
                continue

    def run(self, frames: Iterable[RecordedFrame]) -> ReplayStats:
        """Replay every frame; returns the counts."""
        first_recv: int | None = None
        started = self.monotonic()
        last_ws = b""
        stats = self.stats
        counts = stats.by_event_type
        decode = self.decoder.decode
        publish = self.pipeline.publish
        for frame in frames:
            if self.stopped:
                break
            if self.speed is not None and self.catching_up is not None and self.catching_up():
                first_recv = None
            elif self.speed is not None:
                if first_recv is None:
                    first_recv = frame.recv_ns
                    if self.catching_up is not None:
                        started = self.monotonic()
                due = started + (frame.recv_ns - first_recv) / 1e9 / self.speed
                delay = due - self.monotonic()
                if delay > 0:
                    self.sleep(delay)
            if frame.kind == "ws":
                stats.frames += 1
                last_ws = frame.payload
                events = decode(frame.payload, frame.recv_ns // 1_000_000)
            else:
                stats.rest_bodies += 1
                # A REST body without URL belongs to the symbol of the frames before it.
                stream = stream_of(last_ws) or ""
                rest_events = events_of_frame(self.decoder, frame, stream.partition("@")[0].upper())
                if rest_events is None:
                    stats.skipped_rest += 1
                    continue
                events = rest_events
            for event in events:
                try:
                    publish(event)
                except BackpressureError:
                    self._publish_after_backpressure(event)
                counts[event.event_type] = counts.get(event.event_type, 0) + 1
            stats.events += len(events)
        return self.stats


def replay_files(feed: RecordingFeed, paths: Sequence[Path], limit: int | None = None) -> ReplayStats:
    """Replay files one after another (each file's own pacing starts at its first frame)."""
    for path in paths:
        feed.run(read_frames(path, limit))
    return feed.stats


def parse_speed(text: str) -> float | None:
    """`1`, `10`, ... -> factor; `max` -> None (no pacing)."""
    if text == "max":
        return None
    value = float(text)
    if value <= 0:
        raise ValueError("speed must be > 0 or 'max'")
    return value
