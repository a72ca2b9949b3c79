"""state_gate pure-step throughput, printed as ratios to ceilings measured in the same run.

Rows: input validation alone (the ceiling of any gate step), the pure gate step, the in-memory processor
(step + store + logs + metrics), and the service's per-record path (decode + step + encode outputs, log
records and snapshot) next to Avro decode alone (its ceiling).
Run: `.venv/bin/python bench/bench_state_gate.py`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace

from consumers.state_gate import StateGateProcessor
from consumers.state_gate.contracts import StateGateEvent, StateGateSnapshot, StateGateStateRecord
from consumers.state_gate.harness import gate_config, workload
from consumers.state_gate.inputs import is_gating_input, read_run_input
from consumers.state_gate.transitions import StepResult, bootstrap_snapshot, gate_step
from xray_contracts.codec import codec_for
from xray_contracts.orchestrator_event import OrchestratorEvent

SYMBOLS = tuple(f"SYM{i:02d}USDT" for i in range(20))


def _rate(label: str, n: int, run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    rate = n / elapsed
    print(f"{label:<44} {rate:>12,.0f} inputs/s")
    return rate


def main() -> None:
    """Measure and print the table."""
    logging.disable(logging.INFO)
    events = workload(SYMBOLS, runs=150, seed=11)
    n = len(events)
    config = gate_config()
    in_codec = codec_for(OrchestratorEvent)
    raw = [in_codec.encode(e) for e in events]
    event_codec = codec_for(StateGateEvent)
    record_codec = codec_for(StateGateStateRecord)
    snapshot_codec = codec_for(StateGateSnapshot)
    print(f"{n} orchestrator events, {len(SYMBOLS)} symbols")

    def validate_only() -> None:
        for e in events:
            if is_gating_input(e):
                read_run_input(e)

    def pure_step() -> None:
        snaps: dict[str, StateGateSnapshot] = {}
        for e in events:
            result = gate_step(snaps.get(e.symbol) or bootstrap_snapshot(e.symbol), e, config)
            snaps[e.symbol] = result.snapshot

    def processor() -> None:
        p = StateGateProcessor(config)
        for e in events:
            p.consume(e)

    def decode_only() -> None:
        for b in raw:
            in_codec.decode(b)

    def service_path() -> None:
        snaps: dict[str, StateGateSnapshot] = {}
        for b in raw:
            e = in_codec.decode(b)
            result: StepResult = gate_step(snaps.get(e.symbol) or bootstrap_snapshot(e.symbol), e, config)
            if result.state_changed:
                for ev, rec in zip(result.events, result.records, strict=True):
                    event_codec.encode(ev)
                    record_codec.encode(rec)
                snapshot_codec.encode(replace(result.snapshot, config_fingerprint="bench"))
            snaps[e.symbol] = result.snapshot

    ceiling = _rate("ceiling: input validation only", n, validate_only)
    step = _rate("pure gate_step", n, pure_step)
    proc = _rate("StateGateProcessor.consume (store+metrics)", n, processor)
    decode_ceiling = _rate("ceiling: Avro decode of the input only", n, decode_only)
    service = _rate("service path (decode+step+encode x3)", n, service_path)
    print(f"ratio gate_step / validation ceiling      {step / ceiling:.2f}")
    print(f"ratio processor / validation ceiling      {proc / ceiling:.2f}")
    print(f"ratio service path / decode ceiling       {service / decode_ceiling:.2f}")


if __name__ == "__main__":
    main()
