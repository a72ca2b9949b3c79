"""Binance combined-stream frames -> events (fact-sheet behaviours 26-47, adapted to combined streams)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
from market_data.binance.frames import FrameDecoder
from market_data.contracts import REQUIRED_NORMALIZED_KEYS, RawMarketEvent
from market_data.fast_event import make_event
from market_data.recording import read_frames
from market_data.replay import events_of_frame


def frame(stream: str, data: object) -> bytes:
    return orjson.dumps({"stream": stream, "data": data})


def decode(stream: str, data: object, recv: int = 99) -> list[RawMarketEvent]:
    return FrameDecoder().decode(frame(stream, data), recv)


def only(events: list[RawMarketEvent]) -> RawMarketEvent:
    assert len(events) == 1, events
    return events[0]


def failure(events: list[RawMarketEvent]) -> tuple[str, str]:
    event = only(events)
    assert event.event_type == "DecodeFailure"
    return event.normalized["error_kind"], event.normalized["error_detail"]


def test_agg_trade() -> None:
    event = only(decode("btcusdt@aggTrade", {"T": 1, "p": "100.5", "q": "0.25", "m": False, "a": 123}))
    assert (event.event_type, event.exchange_ts_ms, event.source_event_id) == ("TradeTick", 1, "123")
    assert dict(event.normalized) == {"price": 100.5, "quantity": 0.25, "side": "buy"}
    assert (event.symbol, event.channel, event.source_id, event.recv_ts_ms) == (
        "BTCUSDT",
        "trades",
        "binance",
        99,
    )
    assert event.payload_content_type is None
    assert (
        only(decode("btcusdt@aggTrade", {"T": 1, "p": "1", "q": "1", "m": True})).normalized["side"] == "sell"
    )
    assert only(decode("btcusdt@aggTrade", {"T": 1, "p": "1", "q": "1"})).normalized["side"] is None
    assert failure(decode("btcusdt@aggTrade", {"T": 1, "q": "1.0"})) == ("schema_mismatch", "missing p")
    assert failure(decode("btcusdt@aggTrade", {"p": "1", "q": "1.0"})) == ("schema_mismatch", "missing T")
    assert failure(decode("btcusdt@aggTrade", {"T": 1.5, "p": "1", "q": "1"})) == (
        "schema_mismatch",
        "missing T",
    )


def test_raw_trade_uses_trade_id() -> None:
    event = only(decode("ethusdt@trade", {"T": 5, "t": 77, "p": "2", "q": "3", "m": True, "X": "MARKET"}))
    assert (event.event_type, event.source_event_id, event.channel, event.symbol) == (
        "TradeTick",
        "77",
        "trades_raw",
        "ETHUSDT",
    )


def test_kline() -> None:
    data = {
        "E": 2,
        "k": {"T": 3, "i": "3m", "o": "1.0", "h": "2.0", "l": "0.5", "c": "1.5", "v": "10.0", "x": True},
    }
    event = only(decode("btcusdt@kline_3m", data))
    assert (event.event_type, event.exchange_ts_ms, event.channel) == ("Candle", 3, "candle_3m")
    assert event.normalized["interval_ms"] == 180000
    assert event.normalized["is_final"] is True
    no_close = {**data, "k": {k: v for k, v in data["k"].items() if k != "T"}}  # type: ignore[attr-defined]
    assert only(decode("btcusdt@kline_3m", no_close)).exchange_ts_ms == 2
    assert failure(decode("btcusdt@kline_3m", {"k": no_close["k"]})) == ("schema_mismatch", "missing E")
    assert failure(decode("btcusdt@kline_3m", {**data, "k": {**data["k"], "i": "1m"}})) == (  # type: ignore[dict-item]
        "schema_mismatch",
        "unexpected interval: 1m",
    )
    assert failure(decode("btcusdt@kline_3m", {**data, "k": {**data["k"], "x": 1}})) == (  # type: ignore[dict-item]
        "schema_mismatch",
        "invalid k.x",
    )
    one_minute = only(decode("btcusdt@kline_1m", {**data, "k": {**data["k"], "i": "1m"}}))  # type: ignore[dict-item]
    assert (one_minute.normalized["interval_ms"], one_minute.channel) == (60000, "candle_1m")


def test_book_ticker_and_depth() -> None:
    top = only(decode("btcusdt@bookTicker", {"b": "1.0", "B": "2.0", "a": "1.1", "A": "3.0", "E": 4, "u": 8}))
    assert (top.event_type, top.exchange_ts_ms, top.normalized["best_bid_price"], top.source_seq) == (
        "BookTop",
        4,
        1.0,
        8,
    )
    assert only(decode("btcusdt@bookTicker", {"b": "1", "B": "2", "a": "1", "A": "3"})).exchange_ts_ms is None
    delta = only(decode("btcusdt@depth@100ms", {"b": [["1.0", "2.0"]], "a": [["3.0", "4.0", "x"]], "u": 9}))
    assert (delta.event_type, delta.source_seq, delta.channel) == ("BookDelta", 9, "book_delta")
    assert delta.normalized["bids"] == [[1.0, 2.0]]
    assert delta.normalized["asks"] == [[3.0, 4.0]]
    assert failure(decode("btcusdt@depth@0ms", {"b": None, "a": []})) == ("schema_mismatch", "invalid b")
    assert failure(decode("btcusdt@depth", {"b": [], "a": [["1"]]})) == ("schema_mismatch", "invalid a")
    assert failure(decode("btcusdt@depth", {"b": [["1", "inf"]], "a": []})) == (
        "schema_mismatch",
        "invalid b",
    )


def test_mark_price_triple_and_partial_failures() -> None:
    events = decode("btcusdt@markPrice@1s", {"p": "1.1", "i": "1.2", "r": "0.01", "E": 5})
    assert [e.event_type for e in events] == ["MarkPrice", "IndexPrice", "FundingRate"]
    assert {e.raw_payload for e in events} == {events[0].raw_payload}
    assert {e.recv_ts_ms for e in events} == {99}
    assert {e.channel for e in events} == {"mark_price"}
    partial = decode("btcusdt@markPrice@1s", {"E": 3, "p": "1.1", "i": "bad"})
    assert [(e.event_type, e.normalized.get("error_detail")) for e in partial] == [
        ("DecodeFailure", "invalid i"),
        ("DecodeFailure", "missing r"),
        ("MarkPrice", None),
    ]
    assert partial[0].exchange_ts_ms is None
    assert partial[2].exchange_ts_ms == 3
    assert failure(decode("btcusdt@markPrice@1s", {"E": "bad", "p": "1", "i": "1", "r": "1"})) == (
        "schema_mismatch",
        "invalid E",
    )


def test_force_order() -> None:
    event = only(decode("btcusdt@forceOrder", {"o": {"p": "1.0", "q": "2.0", "S": "SELL", "T": 6}}))
    assert (event.event_type, event.exchange_ts_ms, event.normalized["side"], event.channel) == (
        "LiquidationPrint",
        6,
        "sell",
        "liquidation",
    )
    assert (
        only(decode("btcusdt@forceOrder", {"o": {"p": "1", "q": "2", "S": "X"}})).normalized["side"] is None
    )
    assert failure(decode("btcusdt@forceOrder", {"o": []})) == ("schema_mismatch", "missing o")


def test_open_interest_and_depth_snapshot() -> None:
    dec = FrameDecoder()
    body = b'{"openInterest":"123.5","symbol":"BTCUSDT","time":7}'
    event = only(dec.decode_open_interest("BTCUSDT", body, 11))
    assert (event.event_type, event.normalized["open_interest"], event.exchange_ts_ms, event.raw_payload) == (
        "OpenInterest",
        123.5,
        7,
        body,
    )
    assert only(dec.decode_open_interest("BTCUSDT", b'{"openInterest":"1"}', 1)).exchange_ts_ms is None
    for bad, detail in (
        (b'{"openInterest":"abc"}', "invalid openInterest"),
        (b'{"openInterest":false}', "invalid openInterest"),
        (b'{"openInterest":null}', "missing openInterest"),
        (b'{"openInterest":[1]}', "missing openInterest"),
    ):
        assert failure(dec.decode_open_interest("BTCUSDT", bad, 1)) == ("schema_mismatch", detail)
    snap = only(
        dec.decode_depth_snapshot("BTCUSDT", b'{"lastUpdateId":5,"E":3,"bids":[["1","2"]],"asks":[]}', 1)
    )
    assert (snap.event_type, snap.channel, snap.source_seq, snap.normalized["is_snapshot"]) == (
        "BookDelta",
        "book_snapshot",
        5,
        True,
    )


def test_frame_level_failures_keep_bytes() -> None:
    dec = FrameDecoder(fallback_symbol="BTCUSDT")
    for raw, kind, detail in (
        (b"{bad-json}", "decode_error", None),
        (b"\xff", "decode_error", None),
        (b"[1]", "schema_mismatch", "payload is not a mapping"),
        (b'{"data":{}}', "schema_mismatch", "missing stream"),
        (b'{"stream":"btcusdt@nope","data":{}}', "schema_mismatch", "unsupported stream"),
        (b'{"stream":"btcusdt@trade","data":[]}', "schema_mismatch", "missing data"),
    ):
        event = only(dec.decode(raw, 3))
        assert event.event_type == "DecodeFailure"
        assert event.raw_payload == raw
        assert event.symbol == "BTCUSDT"
        assert event.normalized["error_kind"] == kind
        if detail:
            assert event.normalized["error_detail"] == detail


def test_every_event_has_its_required_keys_and_fast_events_equal_normal_ones() -> None:
    events = decode("btcusdt@markPrice@1s", {"p": "1", "i": "2", "r": "3", "E": 1})
    for event in events:
        assert set(REQUIRED_NORMALIZED_KEYS[event.event_type]) <= set(event.normalized)
        fields = [getattr(event, name) for name in event.__slots__]
        assert RawMarketEvent(*fields) == event == make_event(*fields)


def test_real_recordings_decode_without_failures(sample_data: Path) -> None:
    """Every frame of every recording (first 5,000 per file) decodes; one recv_ts_ms per frame."""
    files = sorted(p for p in sample_data.rglob("*") if p.is_file() and p.suffix != ".md")
    assert files
    dec = FrameDecoder()
    for path in files:
        types: Counter[str] = Counter()
        for recorded in read_frames(path, limit=5_000):
            events = events_of_frame(dec, recorded, "BTCUSDT")
            assert events, recorded.line_no
            assert {e.recv_ts_ms for e in events} == {recorded.recv_ns // 1_000_000}
            assert all(e.raw_payload == recorded.payload for e in events)
            types.update(e.event_type for e in events)
        assert "DecodeFailure" not in types, (path.name, types)
