"""RawMarketEvent v1: the immutable envelope market_data writes to `raw_market_event`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

SCHEMA: Final = "raw_market_event"
SCHEMA_VERSION: Final = "1"

# event_type -> keys that must be present in `normalized` (values may be null where the fact sheet allows).
REQUIRED_NORMALIZED_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "TradeTick": ("price", "quantity", "side"),
    "BookTop": ("best_bid_price", "best_bid_quantity", "best_ask_price", "best_ask_quantity"),
    "BookDelta": ("bids", "asks"),
    "Candle": ("open", "high", "low", "close", "volume", "interval_ms", "is_final"),
    "FundingRate": ("funding_rate",),
    "OpenInterest": ("open_interest",),
    "MarkPrice": ("mark_price",),
    "IndexPrice": ("index_price",),
    "LiquidationPrint": ("price", "quantity", "side"),
    "SnapshotInputs": ("timestamp_ms",),
    "DecodeFailure": ("error_kind", "error_detail"),
}
EVENT_TYPES: Final[tuple[str, ...]] = tuple(REQUIRED_NORMALIZED_KEYS)


@dataclass(frozen=True, slots=True)
class RawMarketEvent:
    """One received market datum: envelope, untouched payload bytes and direct-mapped fields."""

    schema: str
    schema_version: str
    event_type: str
    source_id: str
    symbol: str
    exchange_ts_ms: int | None
    recv_ts_ms: int
    raw_payload: bytes
    normalized: Mapping[str, Any]
    source_event_id: str | None = None
    source_seq: int | None = None
    channel: str | None = None
    payload_content_type: str | None = None
    payload_hash: str | None = None
