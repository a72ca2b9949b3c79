"""Read a recording (`<recv ns> <frame>` lines) into RawMarketEvents via market_data's decoder."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from xray_contracts.raw_market_event import RawMarketEvent


def recording_events(paths: Sequence[Path]) -> Iterator[RawMarketEvent]:
    """Every event the live adapter would have emitted for the recorded frames, in file order."""
    from market_data.binance.frames import UNKNOWN_SYMBOL, FrameDecoder
    from market_data.recording import read_frames
    from market_data.replay import events_of_frame

    decoder = FrameDecoder("binance", UNKNOWN_SYMBOL)
    last_symbol = ""
    for path in paths:
        for frame in read_frames(path):
            events = events_of_frame(decoder, frame, last_symbol)
            for ev in events or ():
                if ev.symbol and ev.symbol != UNKNOWN_SYMBOL:
                    last_symbol = ev.symbol
                yield ev
