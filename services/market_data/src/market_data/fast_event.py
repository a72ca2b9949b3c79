"""Build RawMarketEvents on the hot path without the frozen dataclass's per-field `__setattr__` detour.

The slot descriptors' own setters write the same slots the generated `__init__` writes, so the result
equals (==) a normally constructed event and stays frozen against later assignment.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

from market_data.contracts import RawMarketEvent

FIELD_NAMES: Final = tuple(f.name for f in dataclasses.fields(RawMarketEvent))
if FIELD_NAMES != (
    "schema",
    "schema_version",
    "event_type",
    "source_id",
    "symbol",
    "exchange_ts_ms",
    "recv_ts_ms",
    "raw_payload",
    "normalized",
    "source_event_id",
    "source_seq",
    "channel",
    "payload_content_type",
    "payload_hash",
):  # pragma: no cover - a contract change must revisit this module
    raise ImportError(f"RawMarketEvent fields changed: {FIELD_NAMES}")

_new = object.__new__
_d = RawMarketEvent.__dict__
_s0 = _d["schema"].__set__
_s1 = _d["schema_version"].__set__
_s2 = _d["event_type"].__set__
_s3 = _d["source_id"].__set__
_s4 = _d["symbol"].__set__
_s5 = _d["exchange_ts_ms"].__set__
_s6 = _d["recv_ts_ms"].__set__
_s7 = _d["raw_payload"].__set__
_s8 = _d["normalized"].__set__
_s9 = _d["source_event_id"].__set__
_s10 = _d["source_seq"].__set__
_s11 = _d["channel"].__set__
_s12 = _d["payload_content_type"].__set__
_s13 = _d["payload_hash"].__set__


def make_event(  # noqa: PLR0917 - positional on purpose: this is the hot path
    schema: str,
    schema_version: str,
    event_type: str,
    source_id: str,
    symbol: str,
    exchange_ts_ms: int | None,
    recv_ts_ms: int,
    raw_payload: bytes,
    normalized: dict[str, Any],
    source_event_id: str | None,
    source_seq: int | None,
    channel: str | None,
    payload_content_type: str | None,
    payload_hash: str | None,
) -> RawMarketEvent:
    """A RawMarketEvent from all 14 fields, positionally in contract order."""
    o: RawMarketEvent = _new(RawMarketEvent)
    _s0(o, schema)
    _s1(o, schema_version)
    _s2(o, event_type)
    _s3(o, source_id)
    _s4(o, symbol)
    _s5(o, exchange_ts_ms)
    _s6(o, recv_ts_ms)
    _s7(o, raw_payload)
    _s8(o, normalized)
    _s9(o, source_event_id)
    _s10(o, source_seq)
    _s11(o, channel)
    _s12(o, payload_content_type)
    _s13(o, payload_hash)
    return o
