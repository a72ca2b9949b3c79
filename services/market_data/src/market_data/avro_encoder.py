"""A RawMarketEvent Avro encoder compiled from the v1 schema, with the byte pieces the hot paths share.

Output is byte-identical to `xray_contracts.codec` (fastavro-compatible schemaless body), framed as Avro
single-object encoding (`C3 01` + CRC-64-AVRO fingerprint, little-endian) or with any other fixed
header (the Confluent `00` + schema id when a Schema Registry is used). Tests prove the equality.

Why it is fast: every string that is constant per (event type, source, symbol) is encoded once (the
envelope prefix) and so is the tail per channel; typed `normalized` records are one `struct` call with
the union branch and the empty `extra` map inside the format; price levels are packed in bulk (one
`struct` call per side, the per-level `[2 items] ... [end]` bytes written by slice assignment). The
frame path (`market_data.binance.frame_encoder`) builds records from parsed frames with the same pieces.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

import orjson
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from market_data.contracts import SCHEMA, SCHEMA_VERSION, RawMarketEvent
from market_data.fast_event import FIELD_NAMES

SCHEMA_FILE: Final = "raw_market_event.v1.avsc"
SINGLE_OBJECT_MAGIC: Final = b"\xc3\x01"
NULL: Final = b"\x00"
BRANCH1: Final = b"\x02"  # union branch 1 of ["null", X]: the value is present
EMPTY_MAP: Final = b"\x00"
_pack_double = struct.Struct("<d").pack
_CACHE_LIMIT: Final = 100_000
_I64: Final = 1 << 63


def schema_path() -> Path:
    """The v1 schema file: $XRAY_SCHEMAS_DIR, else the nearest `schemas/` above this package."""
    override = os.environ.get("XRAY_SCHEMAS_DIR")
    if override:
        return Path(override) / SCHEMA_FILE
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "schemas" / SCHEMA_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"cannot find schemas/{SCHEMA_FILE}")


def load_schema() -> dict[str, Any]:
    """The v1 schema as JSON."""
    loaded: dict[str, Any] = orjson.loads(schema_path().read_bytes())
    return loaded


# ---- primitives ------------------------------------------------------------------------------------


def _varint_table() -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """Final varints of 0..16383 and 14-bit groups with both continuation bits set."""
    final: list[bytes] = []
    cont: list[bytes] = []
    for z in range(0x4000):
        final.append(bytes([z]) if z < 0x80 else bytes([(z & 0x7F) | 0x80, z >> 7]))
        cont.append(bytes([(z & 0x7F) | 0x80, (z >> 7) | 0x80]))
    return tuple(final), tuple(cont)


VARINT_FINAL, VARINT_CONT = _varint_table()
_VFINAL = VARINT_FINAL
_VCONT = VARINT_CONT


# Non-negative longs n >= 8192 (timestamps, sequence numbers) are written as two pieces: the zig-zag
# low 14 bits from a table (`LOW13[n % 8192]`) and the rest, cached per `n >> 13` (it changes every
# 8 s for a ms timestamp). Python int arithmetic on 40-bit values is costly; this needs one divmod.
LOW13: Final = tuple(_VCONT[2 * i] for i in range(0x2000))
HIGH_PARTS: Final[dict[int, bytes]] = {}


def encode_unsigned(z: int) -> bytes:
    """Base-128 varint of a non-negative int (no zig-zag)."""
    parts = []
    while z >= 0x4000:
        parts.append(_VCONT[z & 0x3FFF])
        z >>= 14
    parts.append(_VFINAL[z])
    return b"".join(parts)


def high_part(hi: int) -> bytes:
    """The varint bytes after the first two of a long n >= 8192 whose `n >> 13` is `hi` (cached)."""
    found = HIGH_PARTS.get(hi)
    if found is None:
        if len(HIGH_PARTS) >= 0x10000:
            HIGH_PARTS.clear()
        found = HIGH_PARTS[hi] = encode_unsigned(hi)
    return found


def encode_long(n: int) -> bytes:
    """Avro long: zig-zag then base-128 varint (table lookups of 13/14 bits)."""
    if 0x2000 <= n < _I64:
        hi, lo = divmod(n, 0x2000)
        return LOW13[lo] + (HIGH_PARTS.get(hi) or high_part(hi))
    z = (n << 1) ^ (n >> 63)  # small and negative values
    return _VFINAL[z] if z < 0x4000 else encode_unsigned(z)


def encode_bytes(b: bytes) -> bytes:
    """Avro bytes/string: length then the bytes."""
    return encode_long(len(b)) + b


def encode_string(s: str) -> bytes:
    """Avro string."""
    return encode_bytes(s.encode())


def optional_string(s: str | None) -> bytes:
    """A `["null", "string"]` union value."""
    return NULL if s is None else BRANCH1 + encode_string(s)


def _json_value(value: Any, out: list[bytes]) -> None:
    """Avro `JsonValue` record: one union field v over null/boolean/long/double/string/array/map."""
    if value is None:
        out.append(b"\x00")
    elif value is True or value is False:
        out.append(b"\x02\x01" if value else b"\x02\x00")
    elif type(value) is int:
        if -(2**63) <= value < 2**63:
            out.append(b"\x04" + encode_long(value))
        else:
            out.append(b"\x06" + _pack_double(float(value)))
    elif type(value) is float:
        out.append(b"\x06" + _pack_double(value))
    elif isinstance(value, str):
        out.append(b"\x08" + encode_string(value))
    elif isinstance(value, (list, tuple)):
        out.append(b"\x0a")
        if value:
            out.append(encode_long(len(value)))
            for item in value:
                _json_value(item, out)
        out.append(b"\x00")
    elif isinstance(value, Mapping):
        out.append(b"\x0c")
        _json_map(value, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as JsonValue")


def _json_map(mapping: Mapping[str, Any], out: list[bytes]) -> None:
    if mapping:
        out.append(encode_long(len(mapping)))
        for key, item in mapping.items():
            out.append(encode_string(key))
            _json_value(item, out)
    out.append(b"\x00")


def json_map_bytes(mapping: Mapping[str, Any]) -> bytes:
    """A `map<JsonValue>` (the generic record's fields, a typed record's `extra`)."""
    out: list[bytes] = []
    _json_map(mapping, out)
    return b"".join(out)


# ---- price levels ----------------------------------------------------------------------------------

_FLOAT_ONLY: Final = frozenset((float,))
_LEVEL_STRUCTS: dict[int, Callable[..., bytes]] = {}


def level_packer(count: int) -> Callable[..., bytes]:
    """Packs `count` levels from (4, price, quantity) triples: per level the block count 2 (zig-zag 4),
    two doubles and the 0 that ends the inner array."""
    found = _LEVEL_STRUCTS.get(count)
    if found is None:
        found = struct.Struct("<" + "Bddx" * count).pack
        if len(_LEVEL_STRUCTS) < 4096:
            _LEVEL_STRUCTS[count] = found
    return found


def array_head(count: int) -> bytes:
    """The block count that opens a non-empty array of `count` items."""
    return _VFINAL[count + count] if count < 0x2000 else encode_long(count)


class NoFitError(Exception):
    """The value does not fit the typed record: the generic branch (or the slow path) takes it."""


def float_levels(value: Any) -> bytes:
    """Levels that are exactly `[[float, float], ...]` (what the codec writes in the typed record).

    A plain loop: most depth updates carry a handful of levels, where bulk builtins cost more than
    they save (measured on the recordings).
    """
    if type(value) is not list:
        raise NoFitError
    if not value:
        return NULL
    flat: list[float] = []
    extend = flat.extend
    for level in value:
        if type(level) is not list or len(level) != 2:
            raise NoFitError
        p, q = level
        if type(p) is not float or type(q) is not float:
            raise NoFitError
        extend((4, p, q))
    return pack_levels(flat, len(value))


def pack_levels(flat: list[float], count: int) -> bytes:
    """`count` > 0 levels from their flat (4, price, quantity, ...) triples: the array's bytes."""
    return b"".join((array_head(count), level_packer(count)(*flat), NULL))


# ---- typed normalized records: event -> (branch + record) bytes --------------------------------------

NormalizedWriter = Callable[[Mapping[str, Any]], bytes]
_SIDES: Final[dict[str | None, bytes]] = {None: NULL, "buy": b"\x02\x06buy", "sell": b"\x02\x08sell"}


def side_bytes(side: Any) -> bytes:
    """The `side` union value (`null` or a string)."""
    found = _SIDES.get(side) if type(side) is str or side is None else None
    if found is not None:
        return found
    if type(side) is str:
        return BRANCH1 + encode_string(side)
    raise NoFitError


def _extra(normalized: Mapping[str, Any], known: frozenset[str]) -> bytes:
    return json_map_bytes({k: v for k, v in normalized.items() if k not in known})


def _trade_writer(branch: int) -> NormalizedWriter:
    known = frozenset(("price", "quantity", "side"))
    pack = struct.Struct("<Bdd").pack

    def write(n: Mapping[str, Any]) -> bytes:
        p = n["price"]
        q = n["quantity"]
        if type(p) is not float or type(q) is not float:
            raise NoFitError
        head = pack(branch, p, q) + side_bytes(n["side"])
        return head + (EMPTY_MAP if len(n) == 3 else _extra(n, known))

    return write


def _book_top_writer(branch: int) -> NormalizedWriter:
    keys = ("best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity")
    known = frozenset(keys)
    pack_empty = struct.Struct("<Bddddx").pack  # the trailing 0: an empty `extra` map
    pack = struct.Struct("<Bdddd").pack

    def write(n: Mapping[str, Any]) -> bytes:
        a = n["best_bid_price"]
        b = n["best_bid_quantity"]
        c = n["best_ask_price"]
        d = n["best_ask_quantity"]
        if type(a) is not float or type(b) is not float or type(c) is not float or type(d) is not float:
            raise NoFitError
        if len(n) == 4:
            return pack_empty(branch, a, b, c, d)
        return pack(branch, a, b, c, d) + _extra(n, known)

    return write


def _book_delta_writer(branch: int) -> NormalizedWriter:
    known = frozenset(("bids", "asks"))
    head = bytes((branch,))

    def write(n: Mapping[str, Any]) -> bytes:
        bids = float_levels(n["bids"])
        asks = float_levels(n["asks"])
        return b"".join((head, bids, asks, EMPTY_MAP if len(n) == 2 else _extra(n, known)))

    return write


def _candle_writer(branch: int) -> NormalizedWriter:
    keys = ("open", "high", "low", "close", "volume")
    known = frozenset((*keys, "interval_ms", "is_final"))
    pack = struct.Struct("<Bddddd").pack

    def write(n: Mapping[str, Any]) -> bytes:
        values = [n[k] for k in keys]
        interval = n["interval_ms"]
        final = n["is_final"]
        if set(map(type, values)) != _FLOAT_ONLY or type(interval) is not int:
            raise NoFitError
        if not -(2**63) <= interval < 2**63:
            raise NoFitError
        if final is None:
            tail = NULL
        elif final is True:
            tail = b"\x02\x01"
        elif final is False:
            tail = b"\x02\x00"
        else:
            raise NoFitError
        body = pack(branch, *values) + encode_long(interval) + tail
        return body + (EMPTY_MAP if len(n) == 7 else _extra(n, known))

    return write


def _single_writer(branch: int, key: str) -> NormalizedWriter:
    known = frozenset((key,))
    pack_empty = struct.Struct("<Bdx").pack
    pack = struct.Struct("<Bd").pack

    def write(n: Mapping[str, Any]) -> bytes:
        v = n[key]
        if type(v) is not float:
            raise NoFitError
        if len(n) == 1:
            return pack_empty(branch, v)
        return pack(branch, v) + _extra(n, known)

    return write


def _failure_writer(branch: int) -> NormalizedWriter:
    known = frozenset(("error_kind", "error_detail"))
    head = bytes((branch,))

    def write(n: Mapping[str, Any]) -> bytes:
        kind = n["error_kind"]
        detail = n["error_detail"]
        if type(kind) is not str or type(detail) is not str:
            raise NoFitError
        body = head + encode_string(kind) + encode_string(detail)
        return body + (EMPTY_MAP if len(n) == 2 else _extra(n, known))

    return write


def _snapshot_writer(branch: int) -> NormalizedWriter:
    known = frozenset(("timestamp_ms",))
    head = bytes((branch,))

    def write(n: Mapping[str, Any]) -> bytes:
        ts = n["timestamp_ms"]
        if type(ts) is not int or not -(2**63) <= ts < 2**63:
            raise NoFitError
        return head + encode_long(ts) + _extra(n, known)

    return write


# event_type -> (the typed record's fields as the v1 schema declares them, writer factory)
_WRITERS: Final[dict[str, tuple[tuple[str, ...], Callable[[int], NormalizedWriter]]]] = {
    "TradeTick": (("price", "quantity", "side", "extra"), _trade_writer),
    "BookTop": (
        ("best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity", "extra"),
        _book_top_writer,
    ),
    "BookDelta": (("bids", "asks", "extra"), _book_delta_writer),
    "Candle": (
        ("open", "high", "low", "close", "volume", "interval_ms", "is_final", "extra"),
        _candle_writer,
    ),
    "FundingRate": (("funding_rate", "extra"), lambda b: _single_writer(b, "funding_rate")),
    "OpenInterest": (("open_interest", "extra"), lambda b: _single_writer(b, "open_interest")),
    "MarkPrice": (("mark_price", "extra"), lambda b: _single_writer(b, "mark_price")),
    "IndexPrice": (("index_price", "extra"), lambda b: _single_writer(b, "index_price")),
    "LiquidationPrint": (("price", "quantity", "side", "extra"), _trade_writer),
    "SnapshotInputs": (("timestamp_ms", "extra"), _snapshot_writer),
    "DecodeFailure": (("error_kind", "error_detail", "extra"), _failure_writer),
}


class RawMarketEventEncoder:
    """Encodes RawMarketEvent v1 exactly as the schema says, behind a fixed framing header."""

    def __init__(self, schema: Mapping[str, Any] | None = None, *, header: bytes | None = None) -> None:
        self.schema = dict(schema) if schema is not None else load_schema()
        parsed = parse_schema(self.schema)
        self.fingerprint = fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO")
        self.header = header if header is not None else SINGLE_OBJECT_MAGIC + bytes.fromhex(self.fingerprint)
        self._typed: dict[str, NormalizedWriter] = {}
        self._branches: dict[str, int] = {}
        self._generic_branch = b""
        self._prefixes: dict[tuple[str, str, str], bytes] = {}
        self._other_prefixes: dict[tuple[str, str, str, str, str], bytes] = {}
        self._tails: dict[str | None, bytes] = {}
        self._last_recv = 0
        self._last_recv_bytes = encode_long(0)
        self._compile()

    def _compile(self) -> None:
        fields = self.schema["fields"]
        names = tuple(f["name"] for f in fields)
        if names != FIELD_NAMES:  # the record's fields, in the contract's order
            raise ValueError(f"schema field order changed: {names}")
        branches = next(f for f in fields if f["name"] == "normalized")["type"]
        if len(branches) > 63:  # every branch index must stay a one-byte varint (struct "B")
            raise ValueError("too many normalized branches")
        for index, branch in enumerate(branches):
            name: str = branch["name"]
            if name == "GenericNormalized":
                self._generic_branch = encode_long(index)
                continue
            event_type = name.removesuffix("Normalized")
            declared = tuple(f["name"] for f in branch["fields"])
            known = _WRITERS.get(event_type)
            if known is None or known[0] != declared:
                raise ValueError(f"normalized record {name} is not the one this encoder was written for")
            self._typed[event_type] = known[1](index * 2)  # zig-zag of the index: one byte
            self._branches[event_type] = index * 2
        if not self._generic_branch:
            raise ValueError("schema has no GenericNormalized branch")

    # ---- constant pieces (shared with the frame path) ----------------------------------------------

    def prefix(
        self,
        event_type: str,
        source_id: str,
        symbol: str,
        schema: str = SCHEMA,
        schema_version: str = SCHEMA_VERSION,
    ) -> bytes:
        """Header and the five leading strings of a record (constant per event type, source, symbol)."""
        if schema == SCHEMA and schema_version == SCHEMA_VERSION:
            key = (event_type, source_id, symbol)
            found = self._prefixes.get(key)
            if found is None:
                found = self._encode_prefix(schema, schema_version, event_type, source_id, symbol)
                if len(self._prefixes) < _CACHE_LIMIT:
                    self._prefixes[key] = found
            return found
        other = (schema, schema_version, event_type, source_id, symbol)
        found = self._other_prefixes.get(other)
        if found is None:
            found = self._encode_prefix(*other)
            if len(self._other_prefixes) < _CACHE_LIMIT:
                self._other_prefixes[other] = found
        return found

    def _encode_prefix(self, *strings: str) -> bytes:
        return self.header + b"".join(encode_string(s) for s in strings)

    def branch(self, event_type: str) -> int:
        """The one-byte (zig-zag) union index of the event type's typed `normalized` record."""
        return self._branches[event_type]

    def channel_tail(self, channel: str | None) -> bytes:
        """The last three fields when content type and hash are null: channel, null, null."""
        found = self._tails.get(channel)
        if found is None:
            found = optional_string(channel) + NULL + NULL
            if len(self._tails) < _CACHE_LIMIT:
                self._tails[channel] = found
        return found

    # ---- events ---------------------------------------------------------------------------------------

    def _normalized(self, event_type: str, normalized: Mapping[str, Any]) -> bytes:
        writer = self._typed.get(event_type)
        if writer is not None:
            try:
                return writer(normalized)
            except (NoFitError, KeyError):
                pass
        return self._generic_branch + json_map_bytes(normalized)

    def encode(self, event: RawMarketEvent) -> bytes:
        """The framed encoding of one event."""
        event_type = event.event_type
        prefix = self.prefix(event_type, event.source_id, event.symbol, event.schema, event.schema_version)
        ts = event.exchange_ts_ms
        recv = event.recv_ts_ms
        # Events of one frame (and bursts of frames) share a receive ms: reuse its encoding.
        if recv != self._last_recv:
            self._last_recv = recv
            self._last_recv_bytes = encode_long(recv)
        raw = event.raw_payload
        size = len(raw)
        sid = event.source_event_id
        seq = event.source_seq
        if event.payload_content_type is None and event.payload_hash is None:
            tail = self.channel_tail(event.channel)
        else:
            tail = (
                optional_string(event.channel)
                + optional_string(event.payload_content_type)
                + optional_string(event.payload_hash)
            )
        return b"".join(
            (
                prefix,
                NULL if ts is None else BRANCH1 + encode_long(ts),
                self._last_recv_bytes,
                _VFINAL[size + size] if size < 0x2000 else encode_long(size),
                raw,
                self._normalized(event_type, event.normalized),
                NULL if sid is None else BRANCH1 + encode_string(sid),
                NULL if seq is None else BRANCH1 + encode_long(seq),
                tail,
            )
        )

    __call__ = encode
