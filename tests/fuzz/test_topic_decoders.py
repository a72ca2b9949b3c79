"""Every topic decoder fed generated bad records: each contract codec and each service's input decoders.

CI form: a few thousand inputs per decoder. `make fuzz` (XRAY_FUZZ=full): 100,000 per decoder. Every
input that is certain to be broken must raise a DecodeError (which the runtime turns into a DLQ record,
tests/integration/fuzz/test_dlq_services.py shows it on a real broker); an input that may by chance be
a valid record (bit flips in a body) must decode to a value that re-encodes, and for the analysis
engine's input must go through the pure engine without an exception. Counts are printed (pytest -s).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.harness import labelled_gate_series
from consumers.analysis_engine.service import AnalysisEngineSettings
from consumers.analysis_engine.service import build as build_analysis
from consumers.state_gate import StateGateProcessor
from consumers.state_gate.harness import workload
from consumers.state_gate.samples import sample_config
from consumers.state_gate.service import GateService, Undecodable
from consumers.state_gate.settings import StateGateSettings
from orchestrator.partition import CountedEvent
from orchestrator.service import OrchestratorService
from orchestrator.service import Undecodable as RawUndecodable
from orchestrator.settings import OrchestratorSettings
from xray_contracts import catalogue
from xray_contracts.analysis_engine import AnalysisEngineEvent
from xray_contracts.codec import ContractCodec, default_codecs
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_contracts.state_gate import StateGateEvent
from xray_testing.fuzz_avro import bad_inputs, fuzz_count, run_decoder, valid_records

SEED = 20261204
CODECS = default_codecs()
PER_CODEC = fuzz_count(ci=3_000)
PER_SERVICE_INPUT = fuzz_count(ci=3_000)


def real_values() -> dict[type, list[Any]]:
    """Contract values from the services' own builders, for contracts random datums rarely satisfy."""
    gate_inputs = workload(["BTCUSDT", "ETHUSDT"], runs=10, seed=3)
    gate_events = labelled_gate_series(["BTCUSDT", "ETHUSDT"], runs_per_symbol=10, seed=3)
    engine = AnalysisEngine(
        registry=discover_registry(), config=AnalysisEngineConfig(enabled_modules=[], module_configs=[])
    )
    analysis = [out for event in gate_events for out in engine.consume(event)]
    return {OrchestratorEvent: gate_inputs, StateGateEvent: gate_events, AnalysisEngineEvent: analysis}


def samples_by_schema() -> dict[str, list[bytes]]:
    """Well-formed records of every contract: random schema datums the contract accepts, plus real ones."""
    rng = random.Random(SEED)
    real = real_values()
    out: dict[str, list[bytes]] = {}
    for name, codec in CODECS.by_schema.items():
        records = valid_records(codec, rng, 30)
        records += [codec.encode(v) for v in real.get(codec.binding.contract, [])[:30]]
        assert records, f"no valid sample of {name}"
        out[name] = records
    return out


SAMPLES = samples_by_schema()


def others_than(name: str) -> list[bytes]:
    """Valid records of every other contract (valid Avro of the wrong type)."""
    return [r for other, records in SAMPLES.items() if other != name for r in records]


def reencodes(codec: ContractCodec[Any]) -> Callable[[Any], None]:
    """A decoded value must be a real contract value: the codec encodes it again."""

    def check(value: Any) -> None:
        codec.encode(value)

    return check


@pytest.mark.parametrize("schema_name", sorted(CODECS.by_schema), ids=lambda n: n.rsplit(".", 1)[-1])
def test_contract_codec_rejects_bad_records(schema_name: str) -> None:
    codec = CODECS.for_schema(schema_name)
    rng = random.Random(f"{SEED}:{schema_name}")
    inputs = bad_inputs(codec, SAMPLES[schema_name], others_than(schema_name), rng, PER_CODEC)
    tally = run_decoder(codec.decode, inputs, accept=reencodes(codec))
    print(tally.line(schema_name))
    assert tally.total == PER_CODEC
    assert sum(tally.rejected.values()) > PER_CODEC // 2


def input_decoders(monkeypatch: pytest.MonkeyPatch) -> Mapping[str, Callable[[bytes], Any]]:
    """The decoders each service's runtime Processor applies to its input topics (by logical name)."""
    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")  # never contacted
    orchestrator = OrchestratorService(OrchestratorSettings()).processor()
    gate = GateService(StateGateSettings()).processor()
    analysis = build_analysis(AnalysisEngineSettings())
    decoders: dict[str, Callable[[bytes], Any]] = {}
    services: tuple[tuple[str, Any], ...] = (
        ("orchestrator", orchestrator),
        ("state_gate", gate),
        ("analysis_engine", analysis),
    )
    for service, processor in services:
        for topic in processor.inputs:
            decoders[f"{service}<-{topic.spec.name}"] = topic.decode
    return decoders


def test_every_service_input_decoder_is_fuzzed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(input_decoders(monkeypatch)) == {
        "orchestrator<-raw_market_event",
        "state_gate<-orchestrator_event",
        "state_gate<-state_gate.control",
        "analysis_engine<-state_gate_event",
    }


def undecodable_error(value: Any) -> BaseException | None:
    """state_gate's orchestrator_event decoder returns bad records as Undecodable (to halt the symbol), the
    orchestrator's as its own Undecodable (dead-lettered once by the handler)."""
    return value.error if isinstance(value, Undecodable | RawUndecodable) else None


@pytest.mark.parametrize(
    "decoder_name",
    [
        "orchestrator<-raw_market_event",
        "state_gate<-orchestrator_event",
        "state_gate<-state_gate.control",
        "analysis_engine<-state_gate_event",
    ],
)
def test_service_input_decoders_turn_bad_records_into_decode_errors(
    decoder_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decode = input_decoders(monkeypatch)[decoder_name]
    topic = catalogue.spec(decoder_name.split("<-")[1])
    assert topic.value_schema is not None
    codec = CODECS.for_schema(topic.value_schema)
    engine = AnalysisEngine(
        registry=discover_registry(), config=AnalysisEngineConfig(enabled_modules=[], module_configs=[])
    )

    gate = StateGateProcessor(sample_config())

    def accept(value: Any) -> None:
        if isinstance(value, CountedEvent):
            return  # a raw type the orchestrator only counts: read and checked in full, never converted
        codec.encode(value)
        # A valid-by-chance input must not crash the pure core behind the decoder either.
        if isinstance(value, StateGateEvent):
            engine.consume(value)
        elif isinstance(value, OrchestratorEvent):
            gate.consume(value)

    rng = random.Random(f"{SEED}:{decoder_name}")
    inputs = bad_inputs(
        codec, SAMPLES[topic.value_schema], others_than(topic.value_schema), rng, PER_SERVICE_INPUT
    )
    tally = run_decoder(decode, inputs, accept=accept, rejected_as=undecodable_error)
    print(tally.line(decoder_name))
    assert tally.total == PER_SERVICE_INPUT


DASHBOARD_STREAMS = {
    "orchestrator_event": catalogue.ORCHESTRATOR_EVENT,
    "state_gate_event": catalogue.STATE_GATE_EVENT,
    "analysis_engine_event": catalogue.ANALYSIS_ENGINE_EVENT,
    "raw_market_event": catalogue.RAW_MARKET_EVENT,
}


@pytest.mark.parametrize("stream", sorted(DASHBOARD_STREAMS))
def test_dashboard_reader_survives_bad_records(stream: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dashboards read-only service has no DLQ: a bad record is counted as an ingest failure on its
    stream, and nothing (bad bytes or a by-chance valid value) raises out of the reader's ingest path."""
    from consumers.dashboards.service import DashboardService
    from consumers.dashboards.settings import DashboardSettings

    monkeypatch.setenv("XRAY_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:9")  # never contacted
    service = DashboardService(DashboardSettings())
    spec = DASHBOARD_STREAMS[stream]
    assert spec.value_schema is not None
    codec = CODECS.for_schema(spec.value_schema)
    count = PER_SERVICE_INPUT // 3
    rng = random.Random(f"{SEED}:dashboards:{stream}")
    counts = service.builder._streams[stream]  # the stream's telemetry: failures shown on screen
    certain = 0
    for bad in bad_inputs(codec, SAMPLES[spec.value_schema], others_than(spec.value_schema), rng, count):
        if bad.data is None:
            continue  # a tombstone has no value to ingest
        before = counts.failures
        service.feed._ingest(stream, bad.data, 1_700_000_000_000)
        if bad.certain:
            certain += 1
            assert counts.failures == before + 1, (bad.kind, bad.data[:60])
    print(f"fuzz dashboards<-{stream}: {count} inputs, {certain} certainly bad each counted, none raised")
    assert certain > count // 2
