"""The fast encoder writes exactly the bytes of the contracts codec, for every event shape."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from market_data.avro_encoder import RawMarketEventEncoder, encode_long
from market_data.contracts import SCHEMA, SCHEMA_VERSION, RawMarketEvent
from xray_contracts.codec import codec_for

CODEC = codec_for(RawMarketEvent)
ENCODER = RawMarketEventEncoder()


def event(event_type: str, normalized: dict[str, Any], **kw: Any) -> RawMarketEvent:
    fields: dict[str, Any] = {
        "exchange_ts_ms": 1_700_000_000_123,
        "recv_ts_ms": 1_700_000_000_456,
        "raw_payload": b'{"x":1}',
        "source_event_id": None,
        "source_seq": None,
        "channel": "c",
        "payload_content_type": None,
        "payload_hash": None,
    }
    fields.update(kw)
    return RawMarketEvent(
        SCHEMA, SCHEMA_VERSION, event_type, "binance", "BTCUSDT", normalized=normalized, **fields
    )


CASES = [
    event("TradeTick", {"price": 1.5, "quantity": 2.0, "side": "buy"}, source_event_id="99"),
    event("TradeTick", {"price": 1.5, "quantity": 2.0, "side": None}, exchange_ts_ms=None),
    event("LiquidationPrint", {"price": 1.5, "quantity": 2.0, "side": "sell"}),
    event(
        "BookTop",
        {"best_bid_price": 1.0, "best_bid_quantity": 2.0, "best_ask_price": 3.0, "best_ask_quantity": 4.0},
        source_seq=2**62,
    ),
    event("BookDelta", {"bids": [[1.0, 2.0]] * 70, "asks": []}),
    event("BookDelta", {"bids": [], "asks": [[1.0, 0.0]], "is_snapshot": True}, channel="book_snapshot"),
    event(
        "Candle",
        {
            "open": 1.0,
            "high": 2.0,
            "low": 0.5,
            "close": 1.5,
            "volume": 10.0,
            "interval_ms": 180000,
            "is_final": True,
        },
    ),
    event(
        "Candle",
        {
            "open": 1.0,
            "high": 2.0,
            "low": 0.5,
            "close": 1.5,
            "volume": 10.0,
            "interval_ms": 60000,
            "is_final": None,
        },
    ),
    event("FundingRate", {"funding_rate": -0.0001}),
    event(
        "OpenInterest", {"open_interest": 123.5}, payload_content_type="application/json", payload_hash="ab"
    ),
    event("MarkPrice", {"mark_price": 1.0}),
    event("IndexPrice", {"index_price": 1.0}),
    event("SnapshotInputs", {"timestamp_ms": 5, "market": {"price": 1.0, "levels": [1, "a", None, True]}}),
    event(
        "DecodeFailure",
        {"error_kind": "decode_error", "error_detail": "unexpected character"},
        raw_payload=b"\xff" * 300,
        exchange_ts_ms=None,
    ),
    # Values that do not fit the typed record take the generic branch.
    event("TradeTick", {"price": 1, "quantity": 2.0, "side": "buy"}),
    event("MarkPrice", {"mark_price": None}),
    event("Candle", {"open": 1.0}),
    event("Unknown", {"a": {"b": [1.5, -(2**63)]}}),
    event("TradeTick", {"price": 1.0, "quantity": 2.0, "side": "buy", "extra_key": {"nested": [1, 2.5]}}),
]


def test_every_case_matches_the_codec_and_round_trips() -> None:
    for case in CASES:
        encoded = ENCODER.encode(case)
        assert encoded == CODEC.encode(case), case
        if case.event_type != "Unknown" and not (
            case.event_type == "TradeTick" and type(case.normalized["price"]) is int
        ):
            assert CODEC.decode(encoded) == case


def test_encode_long_matches_zigzag_varint() -> None:
    for n in (0, 1, -1, 63, 64, -65, 8191, 8192, 2**31, -(2**31), 1_723_161_256_313, 2**63 - 1, -(2**63)):
        z = (n << 1) ^ (n >> 63)
        out = bytearray()
        while z > 0x7F:
            out.append((z & 0x7F) | 0x80)
            z >>= 7
        out.append(z)
        assert encode_long(n) == bytes(out), n


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(
    price=finite,
    qty=finite,
    side=st.sampled_from(["buy", "sell", None]),
    ts=st.none() | st.integers(-(2**63), 2**63 - 1),
    recv=st.integers(0, 2**63 - 1),
    raw=st.binary(max_size=200),
    seq=st.none() | st.integers(-(2**63), 2**63 - 1),
    sid=st.none() | st.text(max_size=20),
    levels=st.lists(st.tuples(finite, finite).map(list), max_size=5),
)
def test_property_matches_codec(
    price: float,
    qty: float,
    side: str | None,
    ts: int | None,
    recv: int,
    raw: bytes,
    seq: int | None,
    sid: str | None,
    levels: list[list[float]],
) -> None:
    trade = event(
        "TradeTick",
        {"price": price, "quantity": qty, "side": side},
        exchange_ts_ms=ts,
        recv_ts_ms=recv,
        raw_payload=raw,
        source_seq=seq,
        source_event_id=sid,
    )
    delta = event("BookDelta", {"bids": levels, "asks": levels[::-1]}, recv_ts_ms=recv)
    for case in (trade, delta):
        assert ENCODER.encode(case) == CODEC.encode(case)
