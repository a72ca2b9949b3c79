"""The v1 symbol universe: USDT-quoted perpetual contracts that are trading (from `/fapi/v1/exchangeInfo`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson


def eligible_symbols(exchange_info: bytes) -> set[str] | None:
    """Symbols of an exchangeInfo body that pass the rule; None when the body is not usable."""
    try:
        parsed: Any = orjson.loads(exchange_info)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("symbols"), list):
        return None
    return {
        entry["symbol"]
        for entry in parsed["symbols"]
        if isinstance(entry, dict)
        and isinstance(entry.get("symbol"), str)
        and entry.get("quoteAsset") == "USDT"
        and entry.get("contractType") == "PERPETUAL"
        and entry.get("status") == "TRADING"
    }


def split_universe(configured: Iterable[str], eligible: set[str]) -> tuple[list[str], list[str]]:
    """(kept, rejected) configured symbols, in configuration order."""
    kept: list[str] = []
    rejected: list[str] = []
    for symbol in configured:
        (kept if symbol in eligible else rejected).append(symbol)
    return kept, rejected
