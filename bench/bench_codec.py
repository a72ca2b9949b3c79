"""Codec throughput per contract type, next to fastavro's schemaless writer/reader (the ceiling).

    .venv/bin/python bench/bench_codec.py [--seconds 0.5]

For each contract: `encode` = contract -> framed bytes (to_avro + compiled writer + framing), `decode`
= framed bytes -> contract (fastavro reader + from_avro); `fa write` / `fa read` = fastavro's
schemaless_writer / schemaless_reader on the very same Avro datum, without the contract conversion.
Rates are records/s measured in this run; ratios are ours / fastavro's. Nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from xray_contracts import analysis_engine as ae
from xray_contracts import hysteresis_record as hr
from xray_contracts import orchestrator_event as oe
from xray_contracts import raw_market_event as rme
from xray_contracts import run_log as rl
from xray_contracts import state_gate as sg
from xray_contracts.codec import default_codecs

BELIEF = {r: 1 / 9 for r in oe.REGIME_VALUES}
REGIME_OUTPUT = oe.RegimeOutput(
    symbol="BTCUSDT",
    timestamp=1_700_000_100_000,
    regime="TREND_BUILD_UP",
    confidence=0.71,
    drivers=("composer:classical_regime_v1", "composer:flow_pressure_v1"),
    invalidations=("acceptance_lost",),
    permissions=("trend_follow", "pullback_entries"),
    belief_by_regime=BELIEF,
    driver_contributions=(
        oe.DriverContribution("cvd_slope", 0.4),
        oe.DriverContribution("oi_slope_short", 0.2),
    ),
    invalidation_conditions=(
        oe.InvalidationCondition("threshold", "atr_z", "<", 0.5, "volatility collapses"),
    ),
)
HYSTERESIS_STATE = oe.HysteresisState(
    schema="hysteresis_state",
    schema_version="1",
    symbol="BTCUSDT",
    engine_timestamp_ms=1_700_000_100_000,
    anchor_regime="CHOP_BALANCED",
    candidate_regime="TREND_BUILD_UP",
    progress_current=2,
    progress_required=3,
    last_commit_timestamp_ms=None,
    reason_codes=("CANDIDATE_SELECTED:TREND_BUILD_UP", "PROGRESS_INC"),
    debug=oe.HysteresisDebug(belief_by_regime=BELIEF),
)

SAMPLES: dict[str, Any] = {
    "RawMarketEvent TradeTick": rme.RawMarketEvent(
        schema="raw_market_event",
        schema_version="1",
        event_type="TradeTick",
        source_id="binance",
        symbol="BTCUSDT",
        exchange_ts_ms=1_700_000_000_000,
        recv_ts_ms=1_700_000_000_123,
        raw_payload=b'{"e":"aggTrade","E":1700000000000,"a":123456789,"s":"BTCUSDT","p":"37000.10",'
        b'"q":"0.005","f":1,"l":2,"T":1700000000000,"m":true}',
        normalized={"price": 37000.1, "quantity": 0.005, "side": "sell"},
        source_event_id="123456789",
        channel="trades",
    ),
    "RawMarketEvent BookDelta(20)": rme.RawMarketEvent(
        schema="raw_market_event",
        schema_version="1",
        event_type="BookDelta",
        source_id="binance",
        symbol="BTCUSDT",
        exchange_ts_ms=1_700_000_000_000,
        recv_ts_ms=1_700_000_000_123,
        raw_payload=b"x" * 600,
        normalized={
            "bids": [[37000.0 - i, 0.5 + i] for i in range(10)],
            "asks": [[37001.0 + i, 0.25 + i] for i in range(10)],
        },
        channel="depth",
    ),
    "OrchestratorEvent Completed": oe.OrchestratorEvent(
        schema="orchestrator_event",
        schema_version="1",
        event_type="EngineRunCompleted",
        run_id="a" * 64,
        symbol="BTCUSDT",
        engine_timestamp_ms=1_700_000_100_000,
        cut_start_ingest_seq=100,
        cut_end_ingest_seq=900,
        cut_kind="boundary",
        engine_mode="hysteresis",
        attempt=1,
        counts_by_event_type={"TradeTick": 700},
        payload=oe.OrchestratorPayload(regime_output=REGIME_OUTPUT, hysteresis_state=HYSTERESIS_STATE),
    ),
    "EngineRunRecord": rl.EngineRunRecord(
        run_id="a" * 64,
        symbol="BTCUSDT",
        engine_timestamp_ms=1_700_000_100_000,
        engine_mode="truth",
        cut_kind="boundary",
        cut_start_ingest_seq=100,
        cut_end_ingest_seq=900,
        planned_ts_ms=1_700_000_100_000,
        started_ts_ms=1_700_000_100_010,
        completed_ts_ms=1_700_000_100_020,
        status="completed",
        attempts=1,
    ),
    "HysteresisStoreRecord": hr.HysteresisStoreRecord(
        schema="hysteresis_store_record",
        schema_version="1",
        symbol="BTCUSDT",
        engine_timestamp_ms=1_700_000_100_000,
        anchor_regime="CHOP_BALANCED",
        candidate_regime=None,
        progress_current=0,
        last_commit_timestamp_ms=None,
    ),
    "StateGateEvent GateEvaluated": sg.StateGateEvent(
        schema="state_gate_event",
        schema_version="1",
        event_type="GateEvaluated",
        symbol="BTCUSDT",
        engine_timestamp_ms=1_700_000_100_000,
        run_id="a" * 64,
        state_status="READY",
        gate_status="OPEN",
        reasons=(),
        payload=sg.GateEvaluatedPayload(regime_output=REGIME_OUTPUT, hysteresis_state=HYSTERESIS_STATE),
        input_event_type="HysteresisStatePublished",
        engine_mode="hysteresis",
    ),
    "StateGateStateRecord": sg.StateGateStateRecord(
        symbol="BTCUSDT",
        engine_timestamp_ms=1_700_000_100_000,
        run_id="a" * 64,
        state_status="READY",
        gate_status="OPEN",
        reasons=(),
        engine_mode="truth",
        source_event_type="EngineRunCompleted",
        regime_output=REGIME_OUTPUT,
        event_type="GateEvaluated",
    ),
    "AnalysisEngineEvent Artifact": ae.AnalysisEngineEvent(
        event_type="ArtifactEmitted",
        symbol="BTCUSDT",
        run_id="a" * 64,
        engine_timestamp_ms=1_700_000_100_000,
        payload=ae.ArtifactEmittedPayload(
            artifact_kind="signal",
            module_id="signal.momentum",
            artifact_name="score",
            artifact_schema="momentum_score",
            artifact_schema_version="1",
            payload_json='{"score":0.42}',
        ),
        engine_mode="truth",
        source_gate_reasons=(),
    ),
    "AnalysisModuleStateRecord": ae.AnalysisModuleStateRecord(
        symbol="BTCUSDT",
        module_id="signal.momentum",
        run_id="a" * 64,
        engine_timestamp_ms=1_700_000_100_000,
        state_schema_id="momentum_state",
        state_schema_version="1",
        state_payload_json='{"ema":37000.5}',
    ),
}


def fastavro_datum(value: Any) -> Any:
    """The same datum as fastavro wants it: arrays as lists (it reads any tuple as union notation)."""
    if isinstance(value, tuple):
        if len(value) == 2 and isinstance(value[0], str) and value[0].startswith("io.xrayvision."):
            return (value[0], fastavro_datum(value[1]))
        return [fastavro_datum(v) for v in value]
    if isinstance(value, list):
        return [fastavro_datum(v) for v in value]
    if isinstance(value, dict):
        return {k: fastavro_datum(v) for k, v in value.items()}
    return value


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `fn`, best of three timed slices (the machine is shared)."""
    best = 0.0
    for _ in range(3):
        n = 0
        start = time.perf_counter()
        deadline = start + seconds / 3
        while True:
            for _ in range(200):
                fn()
            n += 200
            now = time.perf_counter()
            if now >= deadline:
                best = max(best, n / (now - start))
                break
    return best


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.6, help="time per measurement")
    args = parser.parse_args()
    codecs = default_codecs()
    header = (
        f"{'contract':<30} {'bytes':>6} {'encode/s':>10} {'fa write/s':>11} {'ratio':>6} "
        f"{'decode/s':>10} {'fa read/s':>10} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for label, value in SAMPLES.items():
        codec = codecs.for_type(type(value))
        data = codec.encode(value)
        assert codec.decode(data) == value
        datum = fastavro_datum(codec.binding.to_avro(value))
        parsed = codec.entry.parsed
        body = data[10:]

        def fa_write(datum: Any = datum, parsed: Any = parsed) -> None:
            schemaless_writer(io.BytesIO(), parsed, datum)

        def fa_read(body: bytes = body, parsed: Any = parsed) -> None:
            schemaless_reader(
                io.BytesIO(body), parsed, None, return_record_name=True, return_record_name_override=True
            )

        def encode(codec: Any = codec, value: Any = value) -> None:
            codec.encode(value)

        def decode(codec: Any = codec, data: bytes = data) -> None:
            codec.decode(data)

        enc = rate(encode, args.seconds)
        few = rate(fa_write, args.seconds)
        dec = rate(decode, args.seconds)
        far = rate(fa_read, args.seconds)
        print(
            f"{label:<30} {len(data):>6} {enc:>10,.0f} {few:>11,.0f} {enc / few:>6.2f} "
            f"{dec:>10,.0f} {far:>10,.0f} {dec / far:>6.2f}"
        )


if __name__ == "__main__":
    main()
