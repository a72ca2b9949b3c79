"""Frames broken in exactly one way each (truncated, wrong types, missing fields, not JSON, huge or
non-finite numbers), built from one well-formed frame per Binance stream kind. Used by the fuzz tests."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

import orjson

# One well-formed frame per stream kind, in Binance's documented shapes.
BASE_FRAMES: dict[str, dict[str, Any]] = {
    "btcusdt@aggTrade": {
        "e": "aggTrade",
        "E": 1,
        "a": 5,
        "s": "BTCUSDT",
        "p": "100.0",
        "q": "0.5",
        "f": 1,
        "l": 2,
        "T": 2,
        "m": True,
    },
    "btcusdt@trade": {
        "e": "trade",
        "E": 1,
        "T": 2,
        "s": "BTCUSDT",
        "t": 9,
        "p": "28145.10",
        "q": "0.002",
        "X": "MARKET",
        "m": True,
    },
    "btcusdt@bookTicker": {
        "e": "bookTicker",
        "u": 1,
        "s": "BTCUSDT",
        "b": "1.0",
        "B": "2",
        "a": "1.1",
        "A": "3",
        "T": 1,
        "E": 1,
    },
    "btcusdt@depth@0ms": {
        "e": "depthUpdate",
        "E": 1,
        "T": 1,
        "s": "BTCUSDT",
        "U": 1,
        "u": 2,
        "pu": 0,
        "b": [["1.0", "2.0"], ["0.9", "1"]],
        "a": [["1.1", "0.000"]],
    },
    "btcusdt@markPrice@1s": {
        "e": "markPriceUpdate",
        "E": 1,
        "s": "BTCUSDT",
        "p": "1.1",
        "P": "1.0",
        "i": "1.2",
        "r": "0.0001",
        "T": 2,
    },
    "btcusdt@forceOrder": {
        "e": "forceOrder",
        "E": 1,
        "o": {
            "s": "BTCUSDT",
            "S": "SELL",
            "o": "LIMIT",
            "q": "0.01",
            "p": "100",
            "ap": "100",
            "X": "FILLED",
            "T": 1,
        },
    },
    "btcusdt@kline_3m": {
        "e": "kline",
        "E": 1,
        "s": "BTCUSDT",
        "k": {
            "t": 0,
            "T": 179999,
            "s": "BTCUSDT",
            "i": "3m",
            "o": "1",
            "c": "2",
            "h": "3",
            "l": "0.5",
            "v": "10",
            "x": False,
        },
    },
}

# (path inside `data`, bad values) whose replacement always breaks that stream's decoding.
BAD_NUMBER: list[Any] = [
    None,
    True,
    False,
    [],
    {},
    "abc",
    "",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1e999",
    "0x1p3",
]
BAD_INT: list[Any] = [None, True, [], {}, "abc", 1.5, "1" + "0" * 25, "9.0", 2**64 - 1]
BAD_OPT_INT: list[Any] = [True, [], {}, "abc", 1.5, "1" + "0" * 25]
BAD_LEVELS: list[Any] = [
    None,
    "x",
    5,
    {},
    [["1"]],
    [["a", "b"]],
    [[None, "1"]],
    [["1", "inf"]],
    ["12"],
    [[True, "1"]],
]
REQUIRED: dict[str, list[tuple[tuple[str, ...], list[Any]]]] = {
    "btcusdt@aggTrade": [(("T",), BAD_INT), (("p",), BAD_NUMBER), (("q",), BAD_NUMBER)],
    "btcusdt@trade": [(("T",), BAD_INT), (("p",), BAD_NUMBER), (("q",), BAD_NUMBER)],
    "btcusdt@bookTicker": [
        (("b",), BAD_NUMBER),
        (("B",), BAD_NUMBER),
        (("a",), BAD_NUMBER),
        (("A",), BAD_NUMBER),
        (("E",), BAD_OPT_INT),
        (("u",), BAD_OPT_INT),
    ],
    "btcusdt@depth@0ms": [(("b",), BAD_LEVELS), (("a",), BAD_LEVELS), (("E",), BAD_OPT_INT)],
    "btcusdt@markPrice@1s": [
        (("p",), BAD_NUMBER),
        (("i",), BAD_NUMBER),
        (("r",), BAD_NUMBER),
        (("E",), BAD_OPT_INT),
    ],
    "btcusdt@forceOrder": [
        (("o",), [None, [], "x", 1]),
        (("o", "p"), BAD_NUMBER),
        (("o", "q"), BAD_NUMBER),
        (("o", "T"), BAD_OPT_INT),
    ],
    "btcusdt@kline_3m": [
        (("k",), [None, [], "x"]),
        (("k", "i"), [None, 1, "1m", "5m"]),
        (("k", "o"), BAD_NUMBER),
        (("k", "v"), BAD_NUMBER),
        (("k", "T"), BAD_OPT_INT),
        (("k", "x"), [1, 0, "yes", []]),
    ],
}
_DELETE = object()


def _mutate_field(rng: random.Random, stream: str) -> bytes:
    data = copy.deepcopy(BASE_FRAMES[stream])
    path, bad_values = rng.choice(REQUIRED[stream])
    # Deleting an optional field (E, u, k.T, k.x, o.T) is legal, so only required ones may vanish.
    optional = path[-1] in ("E", "u", "x") or path in (("k", "T"), ("o", "T"))
    value = rng.choice(bad_values if optional else [*bad_values, _DELETE])
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return orjson.dumps({"stream": stream, "data": data})


def _truncate(rng: random.Random, stream: str) -> bytes:
    good = orjson.dumps({"stream": stream, "data": BASE_FRAMES[stream]})
    return good[: rng.randrange(0, len(good))]


def _not_json(rng: random.Random, stream: str) -> bytes:
    choices = [
        b"",
        b"nope",
        b"{bad-json}",
        b"\xff\xfe\x00",
        b"NaN",
        b'{"stream":"btcusdt@trade","data":{"p":NaN}}',
        b'{"stream":"btcusdt@trade","data":{"p":1e400}}',
        bytes(rng.randrange(256) for _ in range(20)) + b"\x80",
    ]
    return rng.choice(choices)


def _wrapper(rng: random.Random, stream: str) -> bytes:
    data = BASE_FRAMES[stream]
    choices: list[Any] = [
        [1],
        "text",
        12,
        None,
        {"data": data},
        {"stream": 5, "data": data},
        {"stream": "btcusdt@unknown", "data": data},
        {"stream": "nosymbol", "data": data},
        {"stream": stream, "data": None},
        {"stream": stream, "data": [data]},
        {"stream": stream},
    ]
    return orjson.dumps(rng.choice(choices))


MUTATORS: list[Callable[[random.Random, str], bytes]] = [
    _mutate_field,
    _mutate_field,
    _truncate,
    _not_json,
    _wrapper,
]


def mutated_frames(count: int, seed: int = 20240808) -> list[bytes]:
    """`count` frames, each broken in exactly one way."""
    rng = random.Random(seed)
    streams = sorted(BASE_FRAMES)
    return [rng.choice(MUTATORS)(rng, rng.choice(streams)) for _ in range(count)]


# ---- the generic decoder (`decode_and_ingest`): canonical payloads, each broken in one way ----------
# One well-formed payload per event type, in the canonical `normalized` key names.
CANONICAL_PAYLOADS: dict[str, bytes] = {
    "TradeTick": b'{"price":1,"quantity":2,"side":"sell"}',
    "BookTop": b'{"best_bid_price":1,"best_bid_quantity":2,"best_ask_price":3,"best_ask_quantity":4}',
    "BookDelta": b'{"bids":[[1,2]],"asks":[]}',
    "Candle": b'{"open":1,"high":2,"low":0.5,"close":1.5,"volume":10,"interval_ms":60000}',
    "FundingRate": b'{"funding_rate":"0.0001"}',
    "OpenInterest": b'{"open_interest":"12.5"}',
    "MarkPrice": b'{"mark_price":1}',
    "IndexPrice": b'{"index_price":1}',
    "LiquidationPrint": b'{"price":1,"quantity":2}',
    "SnapshotInputs": b'{"timestamp_ms":123,"market":{}}',
}
_BAD_SIDE: list[Any] = [1, True, [], {}, "long", "BUYER", ""]
_BAD_FLAG: list[Any] = [1, 0, "yes", [], {}, "t"]
_BAD_SECTION: list[Any] = [1, "x", [], True]
# (key, bad values, required) per event type; a required key may also vanish.
GENERIC_FIELDS: dict[str, list[tuple[str, list[Any], bool]]] = {
    "TradeTick": [("price", BAD_NUMBER, True), ("quantity", BAD_NUMBER, True), ("side", _BAD_SIDE, False)],
    "LiquidationPrint": [("price", BAD_NUMBER, True), ("quantity", BAD_NUMBER, True)],
    "BookTop": [
        (k, BAD_NUMBER, True)
        for k in ("best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity")
    ],
    "BookDelta": [("bids", BAD_LEVELS, True), ("asks", BAD_LEVELS, True)],
    "Candle": [
        *((k, BAD_NUMBER, True) for k in ("open", "high", "low", "close", "volume")),
        ("interval_ms", BAD_INT[:-1], True),  # 2**64-1 parses as a float, so it is no bad int here
        ("is_final", _BAD_FLAG, False),
    ],
    "FundingRate": [("funding_rate", BAD_NUMBER, True)],
    "OpenInterest": [("open_interest", BAD_NUMBER, True)],
    "MarkPrice": [("mark_price", BAD_NUMBER, True)],
    "IndexPrice": [("index_price", BAD_NUMBER, True)],
    "SnapshotInputs": [
        ("timestamp_ms", BAD_INT[:-1], True),
        ("market", _BAD_SECTION, False),
        ("flow", _BAD_SECTION, False),
    ],
}
JSON_CONTENT = "application/json"


def _payload_field(rng: random.Random, event_type: str) -> tuple[str, bytes, str | None]:
    data = orjson.loads(CANONICAL_PAYLOADS[event_type])
    key, bad, required = rng.choice(GENERIC_FIELDS[event_type])
    if required and rng.random() < 0.2:
        data.pop(key, None)
    else:
        data[key] = rng.choice(bad)
    return event_type, orjson.dumps(data), rng.choice((None, JSON_CONTENT))


def _payload_truncated(rng: random.Random, event_type: str) -> tuple[str, bytes, str | None]:
    good = CANONICAL_PAYLOADS[event_type]
    return event_type, good[: rng.randrange(0, len(good))], None


def _payload_not_an_object(rng: random.Random, event_type: str) -> tuple[str, bytes, str | None]:
    choices = [b"[]", b"1", b'"text"', b"null", b"true", b"nope", b"\xff\xfe", rng.randbytes(12) + b"\x80"]
    return event_type, rng.choice(choices), None


def _payload_wrong_content_type(rng: random.Random, event_type: str) -> tuple[str, bytes, str | None]:
    content = rng.choice(("application/avro", "text/plain", "application/x-protobuf", ""))
    return event_type, CANONICAL_PAYLOADS[event_type], content


def _payload_unknown_type(rng: random.Random, event_type: str) -> tuple[str, bytes, str | None]:
    return rng.choice(("Trade", "tradetick", "OrderBook", "")), CANONICAL_PAYLOADS[event_type], None


PAYLOAD_MUTATORS: list[Callable[[random.Random, str], tuple[str, bytes, str | None]]] = [
    _payload_field,
    _payload_field,
    _payload_field,
    _payload_truncated,
    _payload_not_an_object,
    _payload_wrong_content_type,
    _payload_unknown_type,
]


def mutated_payloads(count: int, seed: int = 20240808) -> list[tuple[str, bytes, str | None]]:
    """`count` (event_type, payload, content type) inputs of the generic decoder, each broken one way."""
    rng = random.Random(seed)
    types = sorted(CANONICAL_PAYLOADS)
    return [rng.choice(PAYLOAD_MUTATORS)(rng, rng.choice(types)) for _ in range(count)]


def bit_flipped(frames: list[bytes], count: int, seed: int = 20240808) -> list[bytes]:
    """`count` copies of the given frames with 1-3 random bits flipped (some still decode: a digit)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    for _ in range(count):
        data = bytearray(rng.choice(frames))
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        out.append(bytes(data))
    return out


def base_frame_bytes() -> list[bytes]:
    """BASE_FRAMES as the combined-stream frames the websocket delivers."""
    return [orjson.dumps({"stream": s, "data": d}) for s, d in sorted(BASE_FRAMES.items())]
