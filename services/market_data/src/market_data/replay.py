"""The recording feed: recorded frames through the live adapter's decoder into the pipeline, paced."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from market_data.binance.frame_encoder import FrameEncoder
from market_data.binance.frames import UNKNOWN_SYMBOL, FrameDecoder
from market_data.contracts import BackpressureError, RawMarketEvent
from market_data.pipeline import EncodedEvent, IngestionPipeline
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
        self.frame_encoder = FrameEncoder.for_pipeline(pipeline, self.decoder)
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

    def _publish_after_backpressure(self, event: RawMarketEvent | EncodedEvent) -> None:
        """The live adapter's `pause` reaction: wait, retry the same event, until it is accepted."""
        while True:
            self.stats.overflows += 1
            if self.stopped:
                raise BackpressureError("stopped while the sink refused an event")
            self.sleep(self.backpressure_pause_s)
            try:
                if isinstance(event, RawMarketEvent):
                    self.pipeline.publish(event)
                else:
                    self.pipeline.publish_encoded(event)
                return
            except BackpressureError:
                continue

    def run(self, frames: Iterable[RecordedFrame]) -> ReplayStats:
        """Replay every frame; returns the counts."""
        try:
            self._replay(frames)
        finally:
            self.pipeline.flush_metrics()
        return self.stats

    def _replay(self, frames: Iterable[RecordedFrame]) -> None:
        first_recv: int | None = None
        started = self.monotonic()
        last_ws = b""
        stats = self.stats
        counts = stats.by_event_type
        decode: Callable[[bytes, int], EncodedEvent | list[RawMarketEvent]] = (
            self.frame_encoder.encode if self.frame_encoder is not None else self.decoder.decode
        )
        publish = self.pipeline.publish
        publish_encoded = self.pipeline.publish_encoded
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
                decoded = decode(frame.payload, frame.recv_ns // 1_000_000)
                if isinstance(decoded, tuple):  # the frame path: one record, already encoded
                    try:
                        publish_encoded(decoded)
                    except BackpressureError:
                        self._publish_after_backpressure(decoded)
                    event_type = decoded[1].event_type
                    counts[event_type] = counts.get(event_type, 0) + 1
                    stats.events += 1
                    continue
                events = decoded
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


def replay_files(feed: RecordingFeed, paths: Sequence[Path], limit: int | None = None) -> ReplayStats:
    """Replay files as one feed, merged by receive time, as the live adapter would have received them.

    Played one after another, a second symbol's frames would reach a shared partition with receive
    times below the first file's last one, and the orchestrator would cut them as late data. Equal
    receive times keep the order of `paths`; each file is read lazily and is expected in time order.
    """
    streams = [read_frames(path, limit) for path in paths]
    feed.run(streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_recv_ns))
    return feed.stats


def _recv_ns(frame: RecordedFrame) -> int:
    return frame.recv_ns


def parse_speed(text: str) -> float | None:
    """`1`, `10`, ... -> factor; `max` -> None (no pacing)."""
    if text == "max":
        return None
    value = float(text)
    if value <= 0:
        raise ValueError("speed must be > 0 or 'max'")
    return value
