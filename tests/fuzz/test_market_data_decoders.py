"""market_data's decoders fed generated bad input: the Binance frame decoder and `decode_and_ingest`.

CI form: some thousands of inputs each; `make fuzz` (XRAY_FUZZ=full): at least 100,000 each. No input
raises; every input broken for certain becomes exactly one DecodeFailure carrying its bytes; a bit-flipped
frame that still parses (a flipped digit) yields events that keep the frame's bytes; and every event,
DecodeFailure or not, encodes as a raw_market_event record and decodes back equal (nothing is lost on
the way to the topic). Counts are printed (pytest -s).
"""

from __future__ import annotations

import random
from collections import Counter

from market_data.binance.frames import FrameDecoder
from market_data.contracts import RawMarketEvent
from market_data.decoder import decode_and_ingest
from market_data.testing import RecordingSink, make_pipeline
from market_data.testing_fuzz import base_frame_bytes, bit_flipped, mutated_frames, mutated_payloads
from xray_contracts.codec import codec_for
from xray_testing.fuzz_avro import fuzz_count

SEED = 20261204
FRAMES = fuzz_count(ci=6_000)
PAYLOADS = fuzz_count(ci=4_000)
CODEC = codec_for(RawMarketEvent)


def reaches_the_topic_intact(event: RawMarketEvent) -> None:
    """The event encodes as a raw_market_event record and decodes back equal."""
    assert CODEC.decode(CODEC.encode(event)) == event


def test_binance_frame_decoder_turns_every_bad_frame_into_a_decode_failure() -> None:
    decoder = FrameDecoder(fallback_symbol="BTCUSDT")
    rng = random.Random(SEED)
    certain = mutated_frames(FRAMES // 2, seed=SEED)
    certain += [rng.randbytes(rng.randrange(0, 120)) for _ in range(FRAMES // 4)]
    flipped = bit_flipped(base_frame_bytes(), FRAMES - len(certain), seed=SEED)
    kinds: Counter[str] = Counter()
    for raw in certain:
        events = decoder.decode(raw, 42)
        failures = [e for e in events if e.event_type == "DecodeFailure"]
        assert len(failures) == 1, (raw, events)
        assert all(e.raw_payload == raw for e in events), raw
        assert failures[0].normalized["error_kind"] in ("decode_error", "schema_mismatch")
        reaches_the_topic_intact(failures[0])
        kinds["DecodeFailure"] += 1
    for raw in flipped:
        events = decoder.decode(raw, 42)
        assert events, raw
        assert all(e.raw_payload == raw for e in events), raw
        for event in events:
            reaches_the_topic_intact(event)
            kinds["flipped:" + ("DecodeFailure" if event.event_type == "DecodeFailure" else "decoded")] += 1
    print(
        f"fuzz market_data FrameDecoder: {len(certain) + len(flipped)} inputs, {dict(sorted(kinds.items()))}"
    )
    assert kinds["DecodeFailure"] == len(certain)
    assert kinds["flipped:DecodeFailure"] > 0


def test_generic_decoder_turns_every_bad_payload_into_one_decode_failure() -> None:
    sink = RecordingSink()
    pipeline = make_pipeline(sink)
    kinds: Counter[str] = Counter()
    for event_type, raw, content_type in mutated_payloads(PAYLOADS, seed=SEED):
        event = decode_and_ingest(
            pipeline=pipeline,
            event_type=event_type,
            source_id="fuzz",
            symbol="BTCUSDT",
            exchange_ts_ms=1,
            raw_payload=raw,
            payload_content_type=content_type,
        )
        assert event.event_type == "DecodeFailure", (event_type, raw, content_type, event.normalized)
        assert event.raw_payload == raw
        assert isinstance(event.normalized["error_detail"], str)
        kinds[event.normalized["error_kind"]] += 1
        reaches_the_topic_intact(event)
    assert len(sink.events) == PAYLOADS  # exactly one event per input reached the sink
    print(f"fuzz market_data decode_and_ingest: {PAYLOADS} inputs, DecodeFailure kinds {dict(kinds)}")
