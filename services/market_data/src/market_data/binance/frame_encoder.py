"""The frame path: a well-formed high-rate Binance frame straight to its Avro record, no event object.

bookTicker, trade, aggTrade and depth frames are one event each and make up nearly all of the traffic.
For them the record is written from the parsed frame with the encoder's constant pieces (envelope
prefix, union branch, channel tail): the floats go from the frame's strings into one `struct` call and
no `normalized` dict, level lists or RawMarketEvent are built. Everything else (other streams, REST
bodies, and any frame that is not exactly the expected shape) goes to `FrameDecoder`, which owns every
rule and every DecodeFailure. A writer either returns the exact bytes the encoder would write for the
decoder's event, or declines (None, or any exception) and the decoder takes the frame: tests compare
the two paths on every frame of the recordings and on the fuzz corpus.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any, Final

import orjson

from market_data.avro_encoder import (
    HIGH_PARTS,
    LOW13,
    NULL,
    VARINT_FINAL,
    RawMarketEventEncoder,
    encode_long,
    high_part,
    pack_levels,
)
from market_data.binance.frames import FrameDecoder
from market_data.binance.streams import classify_stream
from market_data.contracts import RawMarketEvent
from market_data.pipeline import EncodedEvent, IngestionPipeline, RecordTarget

TargetFactory = Callable[[str, str, str], RecordTarget]
# (data object, frame bytes, recv_ts_ms, its varint) -> the record, or None to let the decoder decide
Writer = Callable[[dict[str, Any], bytes, int, bytes], EncodedEvent | None]

# Timestamps and sequence numbers the writers take: n >= 8192 so that its long is LOW13[n % 8192]
# followed by the cached high part; anything else (tests' tiny values, negatives) takes the decoder.
_MIN_LONG: Final = 0x2000
_MAX_LONG: Final = (1 << 63) - 1
_high = HIGH_PARTS.get
_isfinite = math.isfinite
_join = b"".join
_loads = orjson.loads
_JSONDecodeError = orjson.JSONDecodeError
_VFINAL: Final = VARINT_FINAL
_LOW13: Final = LOW13
_STRING_LENGTHS: Final = tuple(bytes((2 * n,)) for n in range(64))  # zig-zag length of a short string
_SELL: Final = b"\x02\x08sell"  # side union: branch 1, string "sell"
_BUY: Final = b"\x02\x06buy"


def _book_ticker(encoder: RawMarketEventEncoder, prefix: bytes, channel: str, target: RecordTarget) -> Writer:
    # branch, 4 doubles, then: empty `extra` map, null source_event_id, source_seq present
    pack = struct.Struct("<BddddxxB").pack
    branch = encoder.branch("BookTop")
    head = prefix + b"\x02"  # exchange_ts_ms present
    tail = encoder.channel_tail(channel)

    def write(d: dict[str, Any], frame: bytes, recv: int, recv_bytes: bytes) -> EncodedEvent | None:
        b = d["b"]
        bq = d["B"]
        a = d["a"]
        aq = d["A"]
        e = d["E"]
        u = d["u"]
        if type(b) is not str or type(bq) is not str or type(a) is not str or type(aq) is not str:
            return None
        if type(e) is not int or type(u) is not int:
            return None
        if not (_MIN_LONG <= e <= _MAX_LONG and _MIN_LONG <= u <= _MAX_LONG):
            return None
        bid = float(b)
        bid_qty = float(bq)
        ask = float(a)
        ask_qty = float(aq)
        if not _isfinite(bid + bid_qty + ask + ask_qty):
            return None
        size = len(frame)
        e_hi, e_lo = divmod(e, 0x2000)
        u_hi, u_lo = divmod(u, 0x2000)
        value = _join(
            (
                head,
                _LOW13[e_lo],
                _high(e_hi) or high_part(e_hi),
                recv_bytes,
                _VFINAL[size + size] if size < 0x2000 else encode_long(size),
                frame,
                pack(branch, bid, bid_qty, ask, ask_qty, 2),
                _LOW13[u_lo],
                _high(u_hi) or high_part(u_hi),
                tail,
            )
        )
        return (value, target, recv, e)

    return write


def _trade(
    encoder: RawMarketEventEncoder, prefix: bytes, channel: str, target: RecordTarget, id_key: str
) -> Writer:
    pack = struct.Struct("<Bdd").pack
    branch = encoder.branch("TradeTick")
    head = prefix + b"\x02"
    # after the side: empty `extra` map, then source_event_id present (its string follows)
    sell = _SELL + b"\x00\x02"
    buy = _BUY + b"\x00\x02"
    tail = NULL + encoder.channel_tail(channel)  # null source_seq, then channel, null, null

    def write(d: dict[str, Any], frame: bytes, recv: int, recv_bytes: bytes) -> EncodedEvent | None:
        t = d["T"]
        p = d["p"]
        q = d["q"]
        m = d["m"]
        trade_id = d[id_key]
        if type(p) is not str or type(q) is not str or type(t) is not int or type(trade_id) is not int:
            return None
        if not _MIN_LONG <= t <= _MAX_LONG:
            return None
        if m is True:
            side = sell
        elif m is False:
            side = buy
        else:
            return None
        price = float(p)
        quantity = float(q)
        if not _isfinite(price + quantity):
            return None
        sid = b"%d" % trade_id  # the decoder's str(int), as ASCII
        size = len(frame)
        t_hi, t_lo = divmod(t, 0x2000)
        value = _join(
            (
                head,
                _LOW13[t_lo],
                _high(t_hi) or high_part(t_hi),
                recv_bytes,
                _VFINAL[size + size] if size < 0x2000 else encode_long(size),
                frame,
                pack(branch, price, quantity),
                side,
                _STRING_LENGTHS[len(sid)],
                sid,
                tail,
            )
        )
        return (value, target, recv, t)

    return write


def _string_levels(value: Any) -> bytes:
    """`[[price, qty], ...]` as the typed levels; raises when the decoder might see it differently.

    Only for frames without a JSON `true`/`false` (the caller checks): then `float()` takes exactly
    what the decoder takes (decimal strings and numbers, same values) and refuses everything else.
    Entries longer than two (which the decoder accepts) fail the unpacking: the decoder takes those.
    """
    if type(value) is not list:
        raise TypeError
    if not value:
        return NULL
    flat: list[float] = []
    extend = flat.extend
    for level in value:
        if type(level) is not list:
            raise TypeError
        p, q = level
        extend((4, float(p), float(q)))
    if not _isfinite(sum(flat)):
        raise ValueError
    return pack_levels(flat, len(value))


def _depth(encoder: RawMarketEventEncoder, prefix: bytes, channel: str, target: RecordTarget) -> Writer:
    branch = bytes((encoder.branch("BookDelta"),))
    head = prefix + b"\x02"
    seq_head = b"\x00\x00\x02"  # empty `extra` map, null source_event_id, source_seq present
    tail = encoder.channel_tail(channel)

    def write(d: dict[str, Any], frame: bytes, recv: int, recv_bytes: bytes) -> EncodedEvent | None:
        e = d["E"]
        u = d["u"]
        if type(e) is not int or type(u) is not int:
            return None
        if not (_MIN_LONG <= e <= _MAX_LONG and _MIN_LONG <= u <= _MAX_LONG):
            return None
        if b"true" in frame or b"false" in frame:  # no booleans: float() would take them as 1.0 / 0.0
            return None
        bids = _string_levels(d["b"])
        asks = _string_levels(d["a"])
        size = len(frame)
        e_hi, e_lo = divmod(e, 0x2000)
        value = _join(
            (
                head,
                _LOW13[e_lo],
                _high(e_hi) or high_part(e_hi),
                recv_bytes,
                _VFINAL[size + size] if size < 0x2000 else encode_long(size),
                frame,
                branch,
                bids,
                asks,
                seq_head,
                encode_long(u),
                tail,
            )
        )
        return (value, target, recv, e)

    return write


class FrameEncoder:
    """Frame -> one encoded record (the fast path) or the decoder's events (everything else)."""

    def __init__(
        self, decoder: FrameDecoder, encoder: RawMarketEventEncoder, target_for: TargetFactory
    ) -> None:
        self.decoder = decoder
        self.encoder = encoder
        self.target_for = target_for
        self._writers: dict[str, Writer | None] = {}
        self._last_recv = 0
        self._last_recv_bytes = encode_long(0)

    @classmethod
    def for_pipeline(cls, pipeline: IngestionPipeline, decoder: FrameDecoder) -> FrameEncoder | None:
        """The frame path into this pipeline, or None when its sink only takes events."""
        encoder = pipeline.record_encoder()
        if encoder is None:
            return None
        return cls(decoder, encoder, pipeline.record_target)

    def _writer(self, stream: str) -> Writer | None:
        info = classify_stream(stream)
        writer: Writer | None = None
        if info is not None:
            symbol, kind, channel, _ = info
            source = self.decoder.source_id
            if kind == "bookTicker":
                target = self.target_for("BookTop", source, symbol)
                prefix = self.encoder.prefix("BookTop", source, symbol)
                writer = _book_ticker(self.encoder, prefix, channel, target)
            elif kind in ("trade", "aggTrade"):
                target = self.target_for("TradeTick", source, symbol)
                prefix = self.encoder.prefix("TradeTick", source, symbol)
                writer = _trade(self.encoder, prefix, channel, target, "t" if kind == "trade" else "a")
            elif kind == "depth":
                target = self.target_for("BookDelta", source, symbol)
                prefix = self.encoder.prefix("BookDelta", source, symbol)
                writer = _depth(self.encoder, prefix, channel, target)
        if len(self._writers) < 10_000:  # a hostile peer must not grow the cache without bound
            self._writers[stream] = writer
        return writer

    def encode(self, frame: bytes, recv_ts_ms: int) -> EncodedEvent | list[RawMarketEvent]:
        """One websocket frame: its encoded record, or (any other case) the decoder's events."""
        try:
            obj = _loads(frame)
        except _JSONDecodeError:
            return self.decoder.decode(frame, recv_ts_ms)
        if type(obj) is dict:
            stream = obj.get("stream")
            data = obj.get("data")
            if type(stream) is str and type(data) is dict:
                writers = self._writers
                writer = writers[stream] if stream in writers else self._writer(stream)
                if writer is not None:
                    if recv_ts_ms != self._last_recv:
                        self._last_recv = recv_ts_ms
                        self._last_recv_bytes = encode_long(recv_ts_ms)  # once per ms, not per frame
                    try:
                        record = writer(data, frame, recv_ts_ms, self._last_recv_bytes)
                    except Exception:  # any surprise: the decoder decides
                        record = None
                    if record is not None:
                        return record
        return self.decoder.decode_parsed(frame, obj, recv_ts_ms)
