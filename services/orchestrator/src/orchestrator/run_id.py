"""The deterministic run identifier."""

from __future__ import annotations

import hashlib


def derive_run_id(symbol: str, engine_timestamp_ms: int, cut_end_ingest_seq: int, engine_mode: str) -> str:
    """SHA-256 hex of `symbol|engine_timestamp_ms|cut_end_ingest_seq|engine_mode` (fact sheet §2.5)."""
    pre_image = f"{symbol}|{engine_timestamp_ms}|{cut_end_ingest_seq}|{engine_mode}"
    return hashlib.sha256(pre_image.encode("utf-8")).hexdigest()
