"""The state_gate service on the exactly-once runtime: orchestrator_event (+ control) in, gate events out.

Per input record, in the batch's transaction: the symbol's snapshot is read from the `state` store
(restored from the compacted `state_gate.state` topic for exactly the assigned partitions), the pure
step runs, and its events (→ `state_gate_event`), their log records (→ `state_gate.state_log`) and the
new snapshot (→ `state_gate.state`) are produced to the input record's partition. The runtime commits
them together with the input offsets, so persistence and publication are one atomic act.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from confluent_kafka import KafkaException
from consumers.state_gate.config import config_fingerprint
from consumers.state_gate.contracts import (
    CONTROL_RESUME,
    ERROR_MALFORMED_INPUT,
    StateGateControl,
    StateGateEvent,
    StateGateSnapshot,
    StateGateStateRecord,
    output_idempotency_key,
)
from consumers.state_gate.encoding import GateEncoder
from consumers.state_gate.gate_processor import GateHooks, GateProcessor
from consumers.state_gate.limits import InputHealth, KafkaLimits, TransactionFailures, kafka_limits
from consumers.state_gate.observability import GateObserver
from consumers.state_gate.processor import brief_error
from consumers.state_gate.prometheus import PrometheusGateMetrics
from consumers.state_gate.settings import SERVICE, StateGateSettings
from consumers.state_gate.transitions import StepResult, bootstrap_snapshot, gate_step, halt_step, resume_step
from xray_contracts import catalogue
from xray_contracts.codec import CodecSet, ContractCodec, codecs_for_registry
from xray_contracts.orchestrator_event import OrchestratorEvent
from xray_runtime.clients import PRODUCER_DEFAULTS
from xray_runtime.config import load_settings
from xray_runtime.context import Context, HeaderList, Record
from xray_runtime.dlq import dlq_headers
from xray_runtime.logs import get_logger, setup_logging
from xray_runtime.metrics import RuntimeMetrics
from xray_runtime.processor import InputTopic
from xray_runtime.state import StoreSpec

STATE_STORE: Final = "state"
UNDECODABLE_RUN_PREFIX: Final = "undecodable"

_log = get_logger("state_gate.service")


@dataclass(frozen=True, slots=True)
class Undecodable:
    """An orchestrator_event record whose bytes did not decode (it halts its symbol and goes to the DLQ)."""

    error: Exception


GateInput = OrchestratorEvent | StateGateControl | Undecodable


def tolerant(
    decode: Callable[[bytes], OrchestratorEvent],
) -> Callable[[bytes], OrchestratorEvent | Undecodable]:
    """Wrap a decoder so a bad record reaches the handler (to halt its symbol) instead of only the DLQ."""

    def decode_or_mark(raw: bytes) -> OrchestratorEvent | Undecodable:
        try:
            return decode(raw)
        except Exception as error:
            return Undecodable(error)

    return decode_or_mark


def _symbol_of(key: bytes | None) -> str | None:
    if not key:
        return None
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _headers(base: Sequence[tuple[str, str | bytes | None]], run_id: str, event_type: str) -> HeaderList:
    headers: HeaderList = list(base)
    headers.append(("idempotency_key", output_idempotency_key(run_id, event_type).encode()))
    headers.append(("run_id", run_id.encode()))
    return headers


class GateService:
    """Wires the pure gate into a runtime Processor."""

    def __init__(self, settings: StateGateSettings, codecs: CodecSet | None = None) -> None:
        """Resolve topics and codecs and build the metrics; call `processor()` to run."""
        self.settings = settings
        self.config = settings.gate.to_config()
        self.fingerprint = config_fingerprint(self.config)
        codecs = codecs or codecs_for_registry(settings.schema_registry_url)
        self._input_codec: ContractCodec[OrchestratorEvent] = codecs.for_type(OrchestratorEvent)
        self._control_codec: ContractCodec[StateGateControl] = codecs.for_type(StateGateControl)
        self._event_codec: ContractCodec[StateGateEvent] = codecs.for_type(StateGateEvent)
        self._record_codec: ContractCodec[StateGateStateRecord] = codecs.for_type(StateGateStateRecord)
        self._snapshot_codec: ContractCodec[StateGateSnapshot] = codecs.for_type(StateGateSnapshot)
        # Encodes the outputs with the payloads they share written once (the burst's main CPU cost).
        self._encoder = GateEncoder(codecs)
        ns = settings.namespace
        self.event_topic = catalogue.STATE_GATE_EVENT.topic(ns)
        self.log_topic = catalogue.STATE_GATE_STATE_LOG.topic(ns)
        self.dlq_topic = catalogue.dlq_spec(SERVICE).topic(ns)
        self.input_topic = catalogue.ORCHESTRATOR_EVENT.topic(ns)
        self.state_topic = catalogue.STATE_GATE_STATE.topic(ns)
        self.runtime_metrics = RuntimeMetrics()
        self.observer = GateObserver(PrometheusGateMetrics(self.runtime_metrics.registry))
        self._warned_fingerprints: set[str] = set()
        self.limits: KafkaLimits = kafka_limits(self.config, settings.processing.max_consecutive_aborts)
        self.failures = TransactionFailures(self.limits)
        self.input_health = InputHealth(self.limits.input_max_failures, self.limits.input_max_block_ms)
        self._processor: GateProcessor | None = None

    def processor(self) -> GateProcessor:
        """The runtime processor: two co-partitioned inputs and one compacted state store."""
        inputs: list[InputTopic[GateInput]] = [
            InputTopic(catalogue.ORCHESTRATOR_EVENT, tolerant(self._input_codec.decode)),
            InputTopic(catalogue.STATE_GATE_CONTROL, self._control_codec.decode),
        ]
        store: StoreSpec[StateGateSnapshot] = StoreSpec(
            name=STATE_STORE,
            topic=catalogue.STATE_GATE_STATE,
            encode=self._encoder.snapshot,
            decode=self._snapshot_codec.decode,
        )
        hooks = GateHooks(
            store=STATE_STORE,
            event_topic=self.event_topic,
            failures=self.failures,
            input_health=self.input_health,
            on_halted_changed=self.observer.halted_now,
        )
        self._processor = GateProcessor(
            service=SERVICE,
            settings=self._settings_with_limits(),
            inputs=inputs,
            handler=self.handle,
            stores=[store],
            metrics=self.runtime_metrics,
            txn_timeout_s=self._txn_timeout_s(),
            hooks=hooks,
        )
        return self._processor

    def _settings_with_limits(self) -> StateGateSettings:
        """Map the limits onto runtime settings (see limits.py and the spec's Service section)."""
        settings = self.settings
        processing = settings.processing
        updates: dict[str, int] = {}
        if processing.max_consecutive_aborts < self.limits.needed_aborts:
            # The runtime must let the failure streak reach the halt instead of exiting first.
            updates["max_consecutive_aborts"] = self.limits.needed_aborts
        input_block = self.limits.input_max_block_ms
        if input_block is not None and processing.batch_timeout_ms > input_block:
            updates["batch_timeout_ms"] = input_block  # no consume call blocks longer than the limit
        if updates:
            settings = settings.model_copy(update={"processing": processing.model_copy(update=updates)})
        return self._with_publish_block(settings)

    def _with_publish_block(self, settings: StateGateSettings) -> StateGateSettings:
        """publish_limits.max_block_ms bounds an output's wait for delivery (message.timeout.ms)."""
        block_ms = self.config.publish_limits.max_block_ms
        kafka = settings.kafka
        overrides = kafka.producer_overrides()
        if block_ms is None or "message.timeout.ms" in overrides:
            return settings
        txn_timeout = int(
            overrides.get("transaction.timeout.ms", PRODUCER_DEFAULTS["transaction.timeout.ms"])
        )
        # librdkafka requires message.timeout.ms <= transaction.timeout.ms for a transactional producer.
        producer = {**kafka.producer, "message_timeout_ms": min(block_ms, txn_timeout)}
        return settings.model_copy(update={"kafka": kafka.model_copy(update={"producer": producer})})

    def _txn_timeout_s(self) -> float:
        # persistence_limits.max_block_ms bounds how long a commit/abort (the persistence step) may block.
        block_ms = self.config.persistence_limits.max_block_ms
        return 30.0 if block_ms is None else block_ms / 1000.0

    def handle(self, record: Record[GateInput], ctx: Context) -> None:
        """One input record → events, log records and the symbol's new snapshot, in the open transaction."""
        value = record.value
        if isinstance(value, StateGateControl):
            self._control(value, ctx)
            return
        symbol = _symbol_of(record.key)
        if isinstance(value, Undecodable):
            self._dead_letter(record, ctx, value.error)
            if symbol is None:
                return  # cannot be attributed to a symbol; it cannot open anything either
            snapshot = self._snapshot(symbol, ctx)
            result = halt_step(
                snapshot,
                error_kind=ERROR_MALFORMED_INPUT,
                error_detail=f"undecodable record: {type(value.error).__name__}",
                run_id=f"{UNDECODABLE_RUN_PREFIX}:{record.partition}:{record.offset}",
            )
        else:
            snapshot = self._snapshot(symbol or value.symbol, ctx)
            due = self.failures.halt_for(snapshot.symbol)
            if due is not None:
                # This symbol's outputs kept failing to publish/persist: write only its halt.
                result = halt_step(
                    snapshot,
                    error_kind=due[0],
                    error_detail=due[1],
                    run_id=value.run_id or None,
                    engine_timestamp_ms=value.engine_timestamp_ms,
                    input_event_type=value.event_type,
                )
                self.failures.applied(snapshot.symbol)
            else:
                try:
                    result = gate_step(snapshot, value, self.config)
                except Exception as error:  # a bug must close the symbol, not crash-loop the service
                    _log.error("gate_step_failed", exc_info=True, symbol=snapshot.symbol)
                    result = halt_step(
                        snapshot, error_kind=ERROR_MALFORMED_INPUT, error_detail=brief_error(error)
                    )
        self._write(result, ctx)

    def _snapshot(self, symbol: str, ctx: Context) -> StateGateSnapshot:
        snapshot: StateGateSnapshot | None = ctx.store(STATE_STORE).get(symbol)
        if snapshot is None:
            return bootstrap_snapshot(symbol)
        seen = snapshot.config_fingerprint
        if seen is not None and seen != self.fingerprint and symbol not in self._warned_fingerprints:
            self._warned_fingerprints.add(symbol)
            _log.warning("config_fingerprint_changed", symbol=symbol, stored=seen, running=self.fingerprint)
        return snapshot

    def _write(self, result: StepResult, ctx: Context) -> None:
        symbol = result.snapshot.symbol
        if self._processor is not None:
            self._processor.note_symbol(symbol)
        if result.state_changed:
            topic = self.event_topic
            try:
                for event, log_record in zip(result.events, result.records, strict=True):
                    topic = self.event_topic
                    event_headers = _headers(self._event_codec.headers(event), event.run_id, event.event_type)
                    ctx.emit(topic, symbol, self._encoder.event(event), event_headers)
                    topic = self.log_topic
                    log_headers = _headers(
                        self._record_codec.headers(log_record), event.run_id, event.event_type
                    )
                    ctx.emit(topic, symbol, self._encoder.record(log_record), log_headers)
                topic = self.state_topic
                snapshot = replace(result.snapshot, config_fingerprint=self.fingerprint)
                ctx.store(STATE_STORE).put(symbol, snapshot)
            except KafkaException as error:
                if self._processor is not None:
                    self._processor.note_produce_error(symbol, topic, error)
                raise
        self.observer.step(result)

    def _control(self, command: StateGateControl, ctx: Context) -> None:
        if command.command != CONTROL_RESUME:
            _log.warning("unknown_control_command", command=command.command, symbol=command.symbol)
            return
        snapshot = self._snapshot(command.symbol, ctx)
        result = resume_step(snapshot)
        _log.info(
            "resume_requested", symbol=command.symbol, was_halted=snapshot.halted, operator=command.operator
        )
        if result.state_changed:
            self.observer.resumed(command.symbol)
        self._write(result, ctx)

    def _dead_letter(self, record: Record[GateInput], ctx: Context, error: Exception) -> None:
        headers = dlq_headers(
            SERVICE, record.topic, record.partition, record.offset, error=error, original=record.headers
        )
        ctx.emit(self.dlq_topic, record.key, record.raw_value, headers)
        self.runtime_metrics.dlq_records.labels(record.topic).inc()
        _log.warning(
            "record_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error_class=type(error).__name__,
        )


def main() -> int:
    """Entry point of `python -m consumers.state_gate`."""
    settings = load_settings(StateGateSettings)
    setup_logging(SERVICE, settings.log_level)
    return GateService(settings).processor().run()


if __name__ == "__main__":
    sys.exit(main())
