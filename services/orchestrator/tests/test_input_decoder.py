"""The live decoder converts only the folded types, yet dead-letters exactly what the full decode rejects.

Counted-only records (book, mark, index, ...) are still read and checked against the schema in full; only
the conversion to a `RawMarketEvent` is skipped. So a malformed record of any type is Undecodable (and goes
to the DLQ) exactly when `codec.decode` raises, and a good one keeps the fields planning reads.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from composer.history import FOLDED_EVENT_TYPES
from orchestrator.partition import CountedEvent
from orchestrator.service import OrchestratorService, Undecodable
from orchestrator.settings import OrchestratorSettings
from xray_contracts.codec import DecodeError, codec_for, default_codecs
from xray_contracts.raw_market_event import RawMarketEvent
from xray_simulator.api import simulate
from xray_simulator.config import SimulatorConfig
from xray_testing.fuzz_avro import bad_inputs, valid_records

CODEC = codec_for(RawMarketEvent)


@pytest.fixture
def decode(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")  # never contacted
    (topic,) = OrchestratorService(OrchestratorSettings()).processor().inputs
    return topic.decode


def test_good_records_are_full_events_or_counted_with_the_planning_fields(decode) -> None:  # type: ignore[no-untyped-def]
    events = simulate(SimulatorConfig(seed=3, symbols=("BTCUSDT", "ETHUSDT"), windows=2)).events
    kinds: Counter[str] = Counter()
    for event in events:
        value = decode(CODEC.encode(event))
        if event.event_type in FOLDED_EVENT_TYPES:
            assert value == event
            kinds["full"] += 1
        else:
            assert value == CountedEvent(event.event_type, event.symbol, event.recv_ts_ms)
            kinds["counted"] += 1
    assert kinds["full"]
    assert kinds["counted"]


def test_a_bad_record_is_undecodable_exactly_when_the_full_decode_rejects_it(decode) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(2026)
    samples = [
        CODEC.encode(e) for e in simulate(SimulatorConfig(seed=4, symbols=("BTCUSDT",), windows=1)).events
    ]
    samples = samples[:: max(1, len(samples) // 40)]
    others = [
        r for c in default_codecs().by_schema.values() if c is not CODEC for r in valid_records(c, rng, 2)
    ]
    outcomes: Counter[str] = Counter()
    for bad in bad_inputs(CODEC, samples, others, rng, 3_000):
        value = decode(bad.data)
        try:
            full = CODEC.decode(bad.data)  # type: ignore[arg-type]
        except DecodeError as error:
            rejected: DecodeError | None = error
        else:
            rejected = None
        if rejected is not None:
            assert isinstance(value, Undecodable), bad.kind
            assert type(value.error) is type(rejected)
            outcomes["rejected"] += 1
            continue
        expected = (
            full
            if full.event_type in FOLDED_EVENT_TYPES
            else CountedEvent(full.event_type, full.symbol, full.recv_ts_ms)
        )
        assert value == expected, bad.kind
        outcomes["accepted"] += 1
    assert outcomes["rejected"] > 1_000
