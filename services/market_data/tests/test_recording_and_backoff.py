"""Recording line shapes, writer round trip, and the backoff schedule."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from market_data.backoff import backoff_delay_ms, retry_schedule
from market_data.config import RetryPolicy
from market_data.recording import (
    RecordingFormatError,
    format_line,
    parse_line,
    read_frames,
    rest_endpoint,
    rest_symbol,
    stream_of,
    url_symbol,
)

FRAME = b'{"stream":"btcusdt@trade","data":{"T":1,"p":"1","q":"1"}}'


def test_integer_time_units() -> None:
    assert parse_line(b"1680652700423575 " + FRAME).recv_ns == 1680652700423575000  # type: ignore[union-attr]
    assert parse_line(b"1723161255030314667 " + FRAME).recv_ns == 1723161255030314667  # type: ignore[union-attr]
    assert parse_line(b"1723161255030 " + FRAME).recv_ns == 1723161255030000000  # type: ignore[union-attr]


def test_all_line_shapes() -> None:
    ws = parse_line(b"1723161255030314667 " + FRAME)
    assert ws is not None
    assert ws.kind == "ws"
    assert ws.payload == FRAME
    assert ws.recv_ts_ms == 1723161255030
    rest = parse_line(b'1723161255030314667 {"lastUpdateId":1,"bids":[],"asks":[]}')
    assert rest is not None
    assert rest.kind == "rest"
    assert rest_endpoint(rest) == "depth"
    assert parse_line(b"wss://fstream.binance.com/stream?streams=a@b <-> 1626992740.179554") is None
    cf = parse_line(b"1626992741.06217: " + FRAME)
    assert cf is not None
    assert cf.kind == "ws"
    assert cf.recv_ns == 1626992741062170000
    assert cf.payload == FRAME
    http = parse_line(
        b"https://fapi.binance.com/fapi/v1/depth?symbol=SUSHIUSDT&limit=1000 -> 1626992741.301402: "
        b'{"lastUpdateId":1}'
    )
    assert http is not None
    assert http.kind == "rest"
    assert http.recv_ns == 1626992741301402000
    assert rest_endpoint(http) == "depth"
    assert url_symbol(http.url) == "SUSHIUSDT"
    oi = parse_line(b'1 {"symbol":"BTCUSDT","openInterest":"1","time":1}')
    assert oi is not None
    assert rest_endpoint(oi) == "open_interest"
    assert rest_symbol(oi, "FALLBACK") == "BTCUSDT"
    assert rest_symbol(http, "FALLBACK") == "SUSHIUSDT"
    assert rest_symbol(rest, "FALLBACK") == "FALLBACK"
    assert parse_line(b"") is None
    with pytest.raises(RecordingFormatError):
        parse_line(b"garbage line")


def test_stream_of() -> None:
    assert stream_of(FRAME) == "btcusdt@trade"
    assert stream_of(b'{"lastUpdateId":1}') is None


def test_writer_round_trip_plain_and_gzip(tmp_path: Path) -> None:
    lines = [(1723161255030314667 + i, FRAME) for i in range(3)]
    plain = tmp_path / "rec.txt"
    plain.write_bytes(b"".join(format_line(ns, f) for ns, f in lines))
    packed = tmp_path / "rec.gz"
    with gzip.open(packed, "wb") as fh:
        fh.write(plain.read_bytes())
    for path in (plain, packed):
        frames = list(read_frames(path))
        assert [(f.recv_ns, f.payload) for f in frames] == lines
    assert len(list(read_frames(plain, limit=2))) == 2
    with pytest.raises(RecordingFormatError):
        format_line(1, b"a\nb")


def test_backoff_caps_jitters_and_gives_up() -> None:
    policy = RetryPolicy(min_delay_ms=100, max_delay_ms=1000, max_attempts=6, jitter=0.5)
    assert [backoff_delay_ms(policy, n, 0.0) for n in range(1, 7)] == [100, 200, 400, 800, 1000, 1000]
    assert [backoff_delay_ms(policy, n, 0.999999) for n in (1, 5)] == [50, 500]
    assert backoff_delay_ms(policy, 7, 0.0) is None
    assert backoff_delay_ms(policy, 0, 0.0) is None


def test_deterministic_schedule_of_the_fact_sheet() -> None:
    assert retry_schedule(RetryPolicy(min_delay_ms=100, max_delay_ms=1000, max_attempts=4)) == [
        100,
        200,
        400,
        800,
    ]
    assert retry_schedule(RetryPolicy(min_delay_ms=250, max_delay_ms=5000, max_attempts=5)) == [
        250,
        500,
        1000,
        2000,
        4000,
    ]
    assert retry_schedule(
        RetryPolicy(min_delay_ms=100, max_delay_ms=1000, max_attempts=10, max_elapsed_ms=2000)
    ) == [100, 200, 400, 800]
