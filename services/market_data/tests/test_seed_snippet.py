"""The seed README's Market Data snippet runs unchanged (the text is read from the README itself)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


def _market_data_snippet() -> str:
    configured = os.environ.get("XRAY_SEED_README")
    readme = Path(configured) if configured else REPO_ROOT.parent / "shared" / "seed" / "README.md"
    if not readme.is_file():
        pytest.skip(f"seed README not found at {readme} (set XRAY_SEED_README)")
    text = readme.read_text(encoding="utf-8")
    section = text.split("## Market Data", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)\n```", section, flags=re.S)
    assert blocks, "no python block in the Market Data section"
    return str(blocks[0])


def test_seed_snippet_runs_unchanged() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_market_data_snippet(), "seed-market-data", "exec"), namespace)
    event = namespace["event"]
    pipeline = namespace["pipeline"]
    from market_data.contracts import RawMarketEvent

    assert isinstance(event, RawMarketEvent)
    assert event.event_type == "TradeTick"
    assert event.schema == "raw_market_event"
    assert event.schema_version == "1"
    assert event.normalized == {"price": 1.0, "quantity": 2.0, "side": "buy"}
    assert event.raw_payload == b'{"price": 1.0, "quantity": 2.0, "side": "buy"}'
    assert pipeline.sink.events == [event]  # type: ignore[attr-defined]
