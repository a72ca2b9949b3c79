"""The generic decoder: payloads whose keys already are the canonical `normalized` names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson

from market_data.contracts import RawMarketEvent
from market_data.pipeline import IngestionPipeline
from market_data.values import FieldError, to_bool, to_float, to_int

_MISSING: Final = object()
Mapper = Callable[[Mapping[str, Any]], dict[str, Any]]


def _required(payload: Mapping[str, Any], key: str) -> Any:
    value = payload.get(key, _MISSING)
    if value is _MISSING:
        raise FieldError("missing_required_field", f"missing {key}")
    return value


def _number(payload: Mapping[str, Any], key: str) -> float:
    parsed = to_float(_required(payload, key))
    if parsed is None:
        raise FieldError("parse_error", f"invalid {key}")
    return parsed


def _integer(payload: Mapping[str, Any], key: str) -> int:
    value = _required(payload, key)
    parsed = None if isinstance(value, bool) else to_int(value)
    if parsed is None or (isinstance(value, str) and not value.strip().lstrip("+-").isdigit()):
        raise FieldError("parse_error", f"invalid {key}")
    return parsed


def _optional_bool(payload: Mapping[str, Any], key: str) -> bool | None:
    value = payload.get(key)
    if value is None:
        return None
    parsed = to_bool(value)
    if parsed is None:
        raise FieldError("parse_error", f"invalid {key}")
    return parsed


def _side(payload: Mapping[str, Any]) -> str | None:
    value = payload.get("side")
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in ("buy", "sell"):
        return value.lower()
    raise FieldError("parse_error", "invalid side")


def _levels(payload: Mapping[str, Any], key: str) -> list[list[float]]:
    value = _required(payload, key)
    if not isinstance(value, list):
        raise FieldError("parse_error", f"invalid {key}")
    out: list[list[float]] = []
    for entry in value:
        if not isinstance(entry, list) or len(entry) != 2:
            raise FieldError("parse_error", f"invalid {key}")
        price, quantity = to_float(entry[0]), to_float(entry[1])
        if price is None:
            raise FieldError("parse_error", f"invalid {key}.price")
        if quantity is None:
            raise FieldError("parse_error", f"invalid {key}.quantity")
        out.append([price, quantity])
    return out


def _trade(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"price": _number(p, "price"), "quantity": _number(p, "quantity"), "side": _side(p)}


def _book_top(p: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity")
    return {k: _number(p, k) for k in keys}


def _book_delta(p: Mapping[str, Any]) -> dict[str, Any]:
    return {"bids": _levels(p, "bids"), "asks": _levels(p, "asks")}


def _candle(p: Mapping[str, Any]) -> dict[str, Any]:
    is_final = _optional_bool(p, "is_final")
    out: dict[str, Any] = {k: _number(p, k) for k in ("open", "high", "low", "close", "volume")}
    out["interval_ms"] = _integer(p, "interval_ms")
    out["is_final"] = is_final
    return out


def _single(key: str) -> Mapper:
    def mapper(p: Mapping[str, Any]) -> dict[str, Any]:
        return {key: _number(p, key)}

    return mapper


def _snapshot(p: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"timestamp_ms": _integer(p, "timestamp_ms")}
    for key in ("market", "derivatives", "flow", "context"):
        value = p.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise FieldError("parse_error", f"invalid {key}")
        out[key] = value
    return out


MAPPERS: Final[Mapping[str, Mapper]] = {
    "TradeTick": _trade,
    "BookTop": _book_top,
    "BookDelta": _book_delta,
    "Candle": _candle,
    "FundingRate": _single("funding_rate"),
    "OpenInterest": _single("open_interest"),
    "MarkPrice": _single("mark_price"),
    "IndexPrice": _single("index_price"),
    "LiquidationPrint": _trade,
    "SnapshotInputs": _snapshot,
}


def map_payload(
    event_type: str, raw_payload: bytes, payload_content_type: str | None
) -> dict[str, Any] | FieldError:
    """Pure part of the generic decoder: normalized keys, or the error that makes a DecodeFailure."""
    if payload_content_type is not None and "json" not in payload_content_type:
        return FieldError("decode_error", "unsupported content type")
    try:
        parsed = orjson.loads(raw_payload)
    except orjson.JSONDecodeError as exc:
        return FieldError("decode_error", str(exc))
    if not isinstance(parsed, dict):
        return FieldError("schema_mismatch", "payload must be an object")
    mapper = MAPPERS.get(event_type)
    if mapper is None:
        return FieldError("schema_mismatch", "unsupported event_type")
    try:
        return mapper(parsed)
    except FieldError as err:
        return err


def decode_and_ingest(
    *,
    pipeline: IngestionPipeline,
    event_type: str,
    source_id: str,
    symbol: str,
    exchange_ts_ms: int | None,
    raw_payload: bytes,
    payload_content_type: str | None = None,
    source_event_id: str | None = None,
    source_seq: int | None = None,
    channel: str | None = None,
    payload_hash: str | None = None,
    recv_ts_ms: int | None = None,
) -> RawMarketEvent:
    """Decode a canonical-shaped payload and ingest it, or ingest exactly one DecodeFailure."""
    mapped = map_payload(event_type, raw_payload, payload_content_type)
    if isinstance(mapped, FieldError):
        event_type = "DecodeFailure"
        normalized: dict[str, Any] = {"error_kind": mapped.kind, "error_detail": mapped.detail}
    else:
        normalized = mapped
    return pipeline.ingest(
        event_type=event_type,
        source_id=source_id,
        symbol=symbol,
        exchange_ts_ms=exchange_ts_ms,
        raw_payload=raw_payload,
        normalized=normalized,
        source_event_id=source_event_id,
        source_seq=source_seq,
        channel=channel,
        payload_content_type=payload_content_type,
        payload_hash=payload_hash,
        recv_ts_ms=recv_ts_ms,
    )
