"""The Kafka shell: state_gate_event in, analysis_engine_event (+ alerts) out, exactly once.

Per input record, inside the runtime's transaction: `engine.process` decides against a view over the
restored partition stores; then its events go to `analysis_engine_event` (and `output.alerts` events to
`alerts`), its state records / tombstones to `analysis_engine.module_state`, the new ledger to
`analysis_engine.run_ledger`; the input offset commits with them. Webhook deliveries run before the commit
(at-least-once, deduplicated by receivers on `Idempotency-Key`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, Final

from consumers.analysis_engine.config import AnalysisEngineConfig, ModuleConfig
from consumers.analysis_engine.contracts import (
    AnalysisEngineEvent,
    AnalysisModuleStateRecord,
    AnalysisRunLedger,
    ArtifactEmittedPayload,
    module_state_key,
)
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.engine import DEFAULT_RECENT_RUN_LIMIT, AnalysisEngine, RunOutcome, StageTimer
from consumers.analysis_engine.engine_processor import EngineProcessor
from consumers.analysis_engine.modules.base import OutputModule
from consumers.analysis_engine.observability import EngineMetrics
from consumers.analysis_engine.registry import ModuleRegistry
from prometheus_client import Counter, Gauge, Histogram
from pydantic import BaseModel, ConfigDict, Field
from xray_contracts import catalogue
from xray_contracts.catalogue import TopicSpec
from xray_contracts.codec import CodecSet, codecs_for_registry
from xray_contracts.state_gate import StateGateEvent
from xray_runtime.config import ServiceSettings, load_settings
from xray_runtime.context import Context, Record
from xray_runtime.logs import get_logger, setup_logging
from xray_runtime.processor import InputTopic
from xray_runtime.state import PartitionStore, StoreSpec

SERVICE: Final = "analysis_engine"
LEDGER_STORE: Final = "run_ledger"
MODULE_STATE_STORE: Final = "module_state"
_log = get_logger("analysis_engine.service")


def topic_spec(name: str) -> TopicSpec:
    """The catalogue entry of a module's output topic (e.g. `alerts`)."""
    return catalogue.spec(name)


class EngineSection(AnalysisEngineConfig):
    """The engine config as a settings section: every key optional (empty = the default built-ins)."""

    enabled_modules: tuple[str, ...] = ()
    module_configs: tuple[ModuleConfig, ...] = ()


class AnalysisSection(BaseModel):
    """analysis_engine settings: the engine config (modules, per-symbol sets, module blobs)."""

    model_config = ConfigDict(extra="forbid")

    engine: EngineSection = EngineSection()
    recent_run_limit: int = Field(default=DEFAULT_RECENT_RUN_LIMIT, ge=1)


class AnalysisEngineSettings(ServiceSettings):
    """Runtime settings plus `analysis` (XRAY_ANALYSIS__..., or the [analysis] table of the TOML file)."""

    analysis: AnalysisSection = AnalysisSection()


class StoreView:
    """The engine's StateView over one partition's stores."""

    def __init__(
        self, ledgers: PartitionStore[AnalysisRunLedger], states: PartitionStore[AnalysisModuleStateRecord]
    ) -> None:
        """Wrap the two partition stores."""
        self._ledgers = ledgers
        self._states = states

    def ledger(self, symbol: str) -> AnalysisRunLedger | None:
        """The symbol's ledger."""
        return self._ledgers.get(symbol)

    def module_state(self, symbol: str, module_id: str) -> AnalysisModuleStateRecord | None:
        """The latest state of (symbol, module)."""
        return self._states.get(module_state_key(symbol, module_id))


class PrometheusMirror:
    """Mirrors EngineMetrics increments to Prometheus counters in the processor's registry."""

    def __init__(self, registry: Any) -> None:
        """Declare the counters."""
        self._counters: dict[str, Counter] = {}
        specs = {
            "analysis_engine.artifacts": ("Artifacts emitted", ["module_id", "artifact_kind"]),
            "analysis_engine.module_failures": ("Modules failed in a run", ["module_id", "error_kind"]),
            "analysis_engine.run_status": ("Runs finished, by status", ["status"]),
            "analysis_engine.idempotency_skips": ("Inputs not run, by reason", ["reason"]),
        }
        for name, (doc, labels) in specs.items():
            self._counters[name] = Counter(name.replace(".", "_"), doc, labels, registry=registry)
        self.deliveries = Counter(
            "analysis_engine_deliveries",
            "External deliveries by module and outcome",
            ["module_id", "outcome"],
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "analysis_engine_stage_seconds",
            "Time per stage of a run (measurement only)",
            ["stage"],
            buckets=(0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0),
            registry=registry,
        )
        self.halted = Gauge(
            "analysis_engine_halted",
            "1 while the symbol is halted (recomputed from the owned ledgers after restore and commit)",
            ["symbol"],
            registry=registry,
        )

    def halted_changed(self, halted: set[str], lifted: set[str]) -> None:
        """Set the per-symbol halted gauge from the recomputed set and log the change."""
        for symbol in halted:
            self.halted.labels(symbol=symbol).set(1)
        for symbol in lifted:
            self.halted.labels(symbol=symbol).set(0)
        _log.info("analysis_engine.halted_symbols", symbols=sorted(halted), lifted=sorted(lifted))

    def __call__(self, name: str, tags: dict[str, str]) -> None:
        """Increment the mirrored counter."""
        counter = self._counters.get(name)
        if counter is not None:
            counter.labels(**tags).inc()


def _headers(codecs: CodecSet, event: AnalysisEngineEvent) -> list[tuple[str, str | bytes | None]]:
    """Contract headers plus idempotency_key, event_key and run_id."""
    base = codecs.for_type(AnalysisEngineEvent).headers(event)
    return [
        *base,
        ("idempotency_key", event.idempotency_key.encode()),
        ("event_key", event.event_key.encode()),
        ("run_id", event.run_id.encode()),
    ]


def build_engine(
    settings: AnalysisEngineSettings,
    registry: ModuleRegistry | None = None,
    metrics: EngineMetrics | None = None,
    stage_timer: StageTimer | None = None,
) -> AnalysisEngine:
    """The pure engine from settings (registry from the entry-point group unless given)."""
    return AnalysisEngine(
        registry=registry if registry is not None else discover_registry(),
        config=settings.analysis.engine,
        recent_run_limit=settings.analysis.recent_run_limit,
        metrics=metrics,
        stage_timer=stage_timer,
    )


def build(settings: AnalysisEngineSettings, registry: ModuleRegistry | None = None) -> EngineProcessor:
    """Wire the engine into the runtime's exactly-once Processor."""
    codecs = codecs_for_registry(settings.schema_registry_url)
    event_codec = codecs.for_type(AnalysisEngineEvent)
    state_codec = codecs.for_type(AnalysisModuleStateRecord)
    ledger_codec = codecs.for_type(AnalysisRunLedger)
    input_codec = codecs.for_type(StateGateEvent)
    stores: list[StoreSpec[Any]] = [
        StoreSpec(
            LEDGER_STORE,
            catalogue.spec("analysis_engine.run_ledger"),
            ledger_codec.encode,
            ledger_codec.decode,
        ),
        StoreSpec(
            MODULE_STATE_STORE,
            catalogue.spec("analysis_engine.module_state"),
            state_codec.encode,
            state_codec.decode,
        ),
    ]
    # Outcomes handled in the open transaction: counted and logged once it commits, dropped on a rewind
    # (the runtime calls on_revoked before redoing the batch), so metrics count each outcome once.
    uncommitted: list[RunOutcome] = []
    processor = EngineProcessor(
        service=SERVICE,
        settings=settings,
        inputs=[InputTopic(catalogue.spec("state_gate_event"), input_codec.decode)],
        handler=lambda record, ctx: None,
        stores=stores,
        on_revoked=lambda _partitions: uncommitted.clear(),
        ledger_store=LEDGER_STORE,
    )
    mirror = PrometheusMirror(processor.metrics.registry)
    processor.on_halted_changed = mirror.halted_changed
    engine = build_engine(
        settings,
        registry,
        EngineMetrics(listener=mirror),
        lambda stage, seconds: mirror.stage_seconds.labels(stage=stage).observe(seconds),
    )
    events_topic = catalogue.spec("analysis_engine_event").topic(settings.namespace)
    output_topics: Mapping[str, str] = {
        m.definition.module_id: topic_spec(m.output_topic).topic(settings.namespace)
        for m in engine.registry.modules()
        if isinstance(m, OutputModule) and m.output_topic is not None
    }

    def write(outcome: RunOutcome, ctx: Context) -> None:
        """Put an outcome's events, alerts, state records/tombstones and ledger into the transaction."""
        ledgers: PartitionStore[AnalysisRunLedger] = ctx.store(LEDGER_STORE)
        states: PartitionStore[AnalysisModuleStateRecord] = ctx.store(MODULE_STATE_STORE)
        for event in outcome.events:
            value = event_codec.encode(event)
            headers = _headers(codecs, event)
            ctx.emit(events_topic, event.symbol, value, headers)
            payload = event.payload
            if isinstance(payload, ArtifactEmittedPayload) and payload.module_id in output_topics:
                ctx.emit(output_topics[payload.module_id], event.symbol, value, headers)
        for module_id in outcome.cleared_modules:
            key = module_state_key(outcome.symbol, module_id)
            if key in states:
                states.delete(key)
        for record in outcome.state_records:
            states.put(module_state_key(record.symbol, record.module_id), record)
        if outcome.ledger is not None:
            ledgers.put(outcome.symbol, outcome.ledger)

    def deliver(event: StateGateEvent, outcome: RunOutcome) -> None:
        """External deliveries of output modules (webhook); failures are logged and counted only."""
        context = engine.run_context(event)
        for out in outcome.events:
            payload = out.payload
            if not isinstance(payload, ArtifactEmittedPayload) or payload.artifact_kind != "output":
                continue
            module = engine.registry.get(payload.module_id)
            if not isinstance(module, OutputModule) or type(module).deliver is OutputModule.deliver:
                continue  # nothing external to do (e.g. output.alerts: its topic write is in the transaction)
            try:
                ok = module.deliver(
                    context, payload, engine.module_settings(payload.module_id), out.event_key
                )
            except Exception as exc:  # delivery never changes what was computed
                _log.warning(
                    "analysis_engine.delivery_error", module_id=payload.module_id, error=str(exc)[:300]
                )
                ok = False
            mirror.deliveries.labels(module_id=payload.module_id, outcome="ok" if ok else "failed").inc()
            if not ok:
                _log.warning(
                    "analysis_engine.delivery_failed",
                    module_id=payload.module_id,
                    run_id=out.run_id,
                    event_key=out.event_key,
                )

    def handle(record: Record[StateGateEvent], ctx: Context) -> None:
        """One input record: decide, write, deliver, count."""
        event = record.value
        view = StoreView(ctx.store(LEDGER_STORE), ctx.store(MODULE_STATE_STORE))
        outcome = engine.process(event, view)
        write(outcome, ctx)
        deliver(event, outcome)
        uncommitted.append(outcome)

    def observe_committed() -> None:
        """Count and log the outcomes of the transaction that just committed."""
        for outcome in uncommitted:
            engine.observe(outcome)
        uncommitted.clear()

    processor.handler = handle
    processor.on_committed = observe_committed
    return processor


def main() -> int:
    """Entry point: validate settings and the module config (fatal on error), run until SIGTERM."""
    settings = load_settings(AnalysisEngineSettings)
    setup_logging(SERVICE, settings.log_level)
    try:
        processor = build(settings)
    except ValueError as exc:
        _log.error("analysis_engine.config_invalid", error=str(exc))
        return 2
    return processor.run()


if __name__ == "__main__":
    sys.exit(main())
