"""Mutated frames: each yields exactly one DecodeFailure with its bytes, and nothing raises."""

from __future__ import annotations

import random

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from market_data.binance.frames import FrameDecoder
from market_data.contracts import RawMarketEvent
from market_data.testing_fuzz import BASE_FRAMES, MUTATORS, mutated_frames


def assert_one_failure(raw: bytes, events: list[RawMarketEvent]) -> None:
    failures = [e for e in events if e.event_type == "DecodeFailure"]
    assert len(failures) == 1, (raw, events)
    assert all(e.raw_payload == raw for e in events)
    assert failures[0].normalized["error_kind"] in ("decode_error", "schema_mismatch")
    assert isinstance(failures[0].normalized["error_detail"], str)


def test_base_frames_decode_cleanly() -> None:
    dec = FrameDecoder()
    for stream, data in BASE_FRAMES.items():
        events = dec.decode(orjson.dumps({"stream": stream, "data": data}), 1)
        assert events, stream
        assert all(e.event_type != "DecodeFailure" for e in events), stream


def test_ten_thousand_mutated_frames_each_give_one_failure() -> None:
    dec = FrameDecoder(fallback_symbol="BTCUSDT")
    frames = mutated_frames(12_000)
    for raw in frames:
        assert_one_failure(raw, dec.decode(raw, 42))


@settings(max_examples=300, deadline=None)
@given(stream=st.sampled_from(sorted(BASE_FRAMES)), seed=st.integers(0, 2**32), kind=st.integers(0, 4))
def test_property_every_mutation_is_one_failure(stream: str, seed: int, kind: int) -> None:
    raw = MUTATORS[kind](random.Random(seed), stream)
    assert_one_failure(raw, FrameDecoder().decode(raw, 1))


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_property_arbitrary_bytes_never_raise(raw: bytes) -> None:
    events = FrameDecoder().decode(raw, 1)
    assert events
    assert all(e.raw_payload == raw for e in events)
