"""The frame path writes exactly what the decoder + encoder (and the contracts codec) write, or defers.

Compared frame by frame on the real recordings, on the fuzz corpus lifted to realistic timestamps,
and on generated frames whose fields take valid, odd and wrong values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from market_data.avro_encoder import RawMarketEventEncoder
from market_data.binance.frame_encoder import FrameEncoder
from market_data.binance.frames import FrameDecoder
from market_data.contracts import RawMarketEvent
from market_data.observability import EventTally
from market_data.pipeline import RecordTarget
from market_data.recording import read_frames
from market_data.testing_fuzz import BASE_FRAMES, mutated_frames
from xray_contracts.codec import codec_for

CODEC = codec_for(RawMarketEvent)
ENCODER = RawMarketEventEncoder()
FAST_STREAMS = ("bookTicker", "trade", "aggTrade", "depth")
RECORDINGS = [
    "binance_usdm_hftbacktest/2023-04-05_btcusdt_markprice/btcusdt_20230405.dat.gz",
    "binance_usdm_hftbacktest/2023-04-05_btcusdt_markprice/btcusdt_20230404.dat.gz",
    "binance_usdm_hftbacktest/2024-08-08_btc_eth/btcusdt_20240808.gz",
    "binance_usdm_hftbacktest/2024-08-08_btc_eth/ethusdt_20240808.gz",
    "binance_usdm_cryptofeed_2021/BINANCE_FUTURES.ws.1.0",
]
E = 1_723_161_256_359  # realistic values: the writers leave tiny timestamps to the decoder
U = 5_123_107_843_710


def target(event_type: str, source_id: str, symbol: str) -> RecordTarget:
    return RecordTarget(
        event_type, source_id, symbol, symbol.encode(), [], EventTally(lambda n: None, lambda v: None)
    )


def paths() -> tuple[FrameEncoder, FrameDecoder]:
    return FrameEncoder(FrameDecoder(), ENCODER, target), FrameDecoder()


def same_as_decoder(fast: FrameEncoder, dec: FrameDecoder, frame: bytes, recv: int, codec: bool) -> bool:
    """True when the frame path took the frame; asserts it equals the decoder + encoder either way."""
    out = fast.encode(frame, recv)
    expected = dec.decode(frame, recv)
    if not isinstance(out, tuple):
        assert out == expected, frame
        return False
    value, where, recv_ts, exchange_ts = out
    assert len(expected) == 1, frame
    event = expected[0]
    assert value == ENCODER.encode(event), frame
    if codec:
        assert value == CODEC.encode(event), frame
        assert CODEC.decode(value) == event, frame
    assert (where.event_type, where.source_id, where.symbol, where.key) == (
        event.event_type,
        event.source_id,
        event.symbol,
        event.symbol.encode(),
    )
    assert (recv_ts, exchange_ts) == (event.recv_ts_ms, event.exchange_ts_ms)
    return True


def test_real_recordings_take_the_frame_path_with_identical_bytes(sample_data: Path) -> None:
    for name in RECORDINGS:
        fast, dec = paths()
        taken = eligible = 0
        for n, recorded in enumerate(read_frames(sample_data / name, limit=20_000)):
            if recorded.kind != "ws":
                continue
            stream = orjson.loads(recorded.payload)["stream"]
            kind = stream.split("@")[1]
            took = same_as_decoder(fast, dec, recorded.payload, recorded.recv_ts_ms, codec=n % 5 == 0)
            if kind in FAST_STREAMS:
                eligible += 1
                taken += took
            else:
                assert not took, stream
        assert eligible > 1000, name
        assert taken == eligible, (name, taken, eligible)  # every real high-rate frame is fast


def realistic(frame: bytes) -> bytes:
    """A fuzz frame with its small integer timestamps and ids raised to real magnitudes."""
    try:
        obj = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return frame
    data = obj.get("data") if type(obj) is dict else None
    if type(data) is dict:
        for key, value in (("E", E), ("T", E), ("u", U), ("t", 42), ("a", 43)):
            if type(data.get(key)) is int and data[key] < 8192:
                data[key] = value
    return orjson.dumps(obj)


def test_fuzz_corpus_gives_the_decoders_failures() -> None:
    fast, dec = paths()
    frames = [realistic(f) for f in mutated_frames(10_000, seed=11)]
    taken = sum(same_as_decoder(fast, dec, f, E + 5, codec=False) for f in frames)
    # Broken frames never fit: each one goes to the decoder and becomes its DecodeFailure.
    assert taken == 0
    healthy = [realistic(orjson.dumps({"stream": s, "data": d})) for s, d in BASE_FRAMES.items()]
    # the four high-rate kinds (aggTrade, trade, bookTicker, depth) are fast; the other three not
    assert sum(same_as_decoder(fast, dec, f, E + 5, codec=True) for f in healthy) == 4


def test_small_values_and_odd_shapes_defer_to_the_decoder() -> None:
    fast, dec = paths()
    cases: list[dict[str, Any]] = [
        {"stream": "btcusdt@bookTicker", "data": {**BASE_FRAMES["btcusdt@bookTicker"]}},  # E = 1
        {"stream": "btcusdt@bookTicker", "data": {"b": "1", "B": "1", "a": "1", "A": "1", "u": U}},  # no E
        {"stream": "btcusdt@trade", "data": {"T": E, "t": 1, "p": "1", "q": "1", "m": "true"}},
        {"stream": "btcusdt@trade", "data": {"T": E, "t": "1", "p": "1", "q": "1", "m": True}},
        {"stream": "btcusdt@depth@0ms", "data": {"E": E, "u": U, "b": [["1", "2", "3"]], "a": []}},
        {"stream": "btcusdt@depth@0ms", "data": {"E": E, "u": U, "b": [[1.5, 2]], "a": []}},
        {
            "stream": "btcusdt@depth@0ms",
            "data": {"E": E, "u": U, "b": [["-0", "1e308"]], "a": [["1", "1e309"]]},
        },
        {"stream": "btcusdt@depth@0ms", "data": {"E": E, "u": U, "b": [], "a": []}},
        {"stream": "btcusdt@depth@0ms", "data": {"E": E, "u": U, "b": [[True, "1"]], "a": []}},
        {"stream": "btcusdt@depth@0ms", "data": {"E": E, "u": U, "b": [["1", "2"]], "a": [], "x": False}},
        {"stream": "btcusdt@depth@0ms", "data": {"E": E, "u": U, "b": [["1", None]], "a": []}},
    ]
    taken = [same_as_decoder(fast, dec, orjson.dumps(c), E, codec=True) for c in cases]
    # numbers in levels are what the decoder accepts too (same values): those stay on the frame path
    assert taken == [False, False, False, False, False, True, False, True, False, False, False]


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
    st.integers(-(10**20), 10**20).map(str),
    st.sampled_from(["-0", "0.000", "1e308", "1e309", "nan", "-inf", " 1.5", "1_0", "", "0x10", "١٢"]),
)
ODD_VALUE = st.one_of(
    NUMBER_TEXT, st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(), st.just([])
)
FIELD = st.one_of(NUMBER_TEXT, NUMBER_TEXT, ODD_VALUE)
STAMP = st.one_of(st.just(E), st.integers(-(2**63), 2**63 - 1), st.integers(0, 10**4), ODD_VALUE)
LEVEL = st.one_of(st.lists(FIELD, min_size=2, max_size=2), st.lists(FIELD, max_size=3), ODD_VALUE)
LEVELS = st.one_of(
    st.lists(st.lists(NUMBER_TEXT, min_size=2, max_size=2), max_size=8), st.lists(LEVEL, max_size=4)
)


def frames_of(stream: str, data: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return data.map(lambda d: orjson.dumps({"stream": stream, "data": d}))


VALID = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False, places=8).map(str),
)
STAMP_OK = st.integers(8192, 2**63 - 1)
VALID_LEVELS = st.lists(st.lists(VALID, min_size=2, max_size=2), max_size=30)
WELL_FORMED = st.one_of(
    frames_of(
        "btcusdt@bookTicker",
        st.fixed_dictionaries({"b": VALID, "B": VALID, "a": VALID, "A": VALID, "E": STAMP_OK, "u": STAMP_OK}),
    ),
    frames_of(
        "ethusdt@trade",
        st.fixed_dictionaries(
            {"T": STAMP_OK, "t": st.integers(-(2**63), 2**63 - 1), "p": VALID, "q": VALID, "m": st.booleans()}
        ),
    ),
    frames_of(
        "btcusdt@depth@0ms",
        st.fixed_dictionaries({"E": STAMP_OK, "u": STAMP_OK, "b": VALID_LEVELS, "a": VALID_LEVELS}),
    ),
)
GENERATED = st.one_of(
    WELL_FORMED,
    frames_of(
        "btcusdt@bookTicker",
        st.fixed_dictionaries({"b": FIELD, "B": FIELD, "a": FIELD, "A": FIELD, "E": STAMP, "u": STAMP}),
    ),
    frames_of(
        "ethusdt@trade",
        st.fixed_dictionaries(
            {"T": STAMP, "t": STAMP, "p": FIELD, "q": FIELD, "m": st.one_of(st.booleans(), ODD_VALUE)}
        ),
    ),
    frames_of(
        "btcusdt@aggTrade",
        st.fixed_dictionaries({"T": STAMP, "a": STAMP, "p": FIELD, "q": FIELD, "m": st.booleans()}),
    ),
    frames_of(
        "btcusdt@depth@100ms", st.fixed_dictionaries({"E": STAMP, "u": STAMP, "b": LEVELS, "a": LEVELS})
    ),
)


@settings(max_examples=1500, deadline=None)
@given(frame=GENERATED, recv=st.integers(0, 2**62))
def test_property_generated_frames_match_the_decoder(frame: bytes, recv: int) -> None:
    fast, dec = paths()
    same_as_decoder(fast, dec, frame, recv, codec=True)


@pytest.mark.parametrize("header", [None, b"\x00\x00\x00\x00\x07"])
def test_framing_header_is_the_codecs(header: bytes | None) -> None:
    from xray_contracts.codec import InMemoryResolver, build_codecs

    codec = CODEC if header is None else build_codecs(resolver=InMemoryResolver(7)).for_type(RawMarketEvent)
    encoder = RawMarketEventEncoder(header=codec.framing_prefix())
    assert header is None or codec.framing_prefix() == header
    fast = FrameEncoder(FrameDecoder(), encoder, target)
    frame = orjson.dumps(
        {"stream": "btcusdt@bookTicker", "data": {**BASE_FRAMES["btcusdt@bookTicker"], "E": E, "u": U}}
    )
    record = fast.encode(frame, E)
    assert isinstance(record, tuple)
    event = FrameDecoder().decode(frame, E)[0]
    assert record[0] == encoder.encode(event) == codec.encode(event)
    assert codec.decode(record[0]) == event
