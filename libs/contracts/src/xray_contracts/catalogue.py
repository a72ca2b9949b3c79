"""The topic catalogue: every topic the system uses, declared once. Nothing else hard-codes a name.

Physical name = f"{namespace}.{name}.v{major}" (default namespace "xray"; a backtest uses `bt-<id>`).
Every topic has the same partition count and nearly every one is keyed by symbol, so a symbol sits on
the same partition number everywhere. `key` says what the record key is: "symbol" (UTF-8 text), a
`json [...]` array of value fields, or "partition" (`orchestrator.cursor`: the raw_market_event
partition number as decimal text). `value_schema` is the Avro full name of the value's record schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

DEFAULT_NAMESPACE: Final = "xray"
DEFAULT_PARTITIONS: Final = 6

CleanupPolicy = Literal["delete", "compact"]

_DAY_MS: Final = 24 * 3600 * 1000
LONG_RETENTION_MS: Final = 30 * _DAY_MS  # raw input and run log: the replay horizon
EVENT_RETENTION_MS: Final = 7 * _DAY_MS
DLQ_RETENTION_MS: Final = 14 * _DAY_MS

# Compacted state topics: roll segments often (only closed segments are cleaned) and clean at a low
# dirty ratio, so a restore reads little more than one record per key.
COMPACT_CONFIG: Final[Mapping[str, str]] = {
    "segment.ms": str(15 * 60 * 1000),
    "min.cleanable.dirty.ratio": "0.1",
    "delete.retention.ms": str(_DAY_MS),
}

_V1: Final = "io.xrayvision.v1."


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic's logical name and settings; `topic(namespace)` gives its physical name."""

    name: str
    value_schema: str | None
    cleanup_policy: CleanupPolicy
    retention_ms: int | None = None
    major: int = 1
    key: str = "symbol"
    partitions: int = DEFAULT_PARTITIONS
    extra_config: Mapping[str, str] = field(default_factory=dict)

    def topic(self, namespace: str = DEFAULT_NAMESPACE) -> str:
        """Physical topic name: `{namespace}.{name}.v{major}`."""
        return f"{namespace}.{self.name}.v{self.major}"

    def config(self) -> dict[str, str]:
        """The broker-side topic configuration this spec asks for."""
        conf: dict[str, str] = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            conf["retention.ms"] = str(self.retention_ms)
        conf.update(self.extra_config)
        return conf


def dlq_spec(service: str) -> TopicSpec:
    """The dead-letter topic of one service: undecodable bytes plus provenance headers."""
    return TopicSpec(
        name=f"{service}.dlq", value_schema=None, cleanup_policy="delete", retention_ms=DLQ_RETENTION_MS
    )


def _compacted(name: str, value_schema: str, key: str = "symbol") -> TopicSpec:
    return TopicSpec(name, value_schema, "compact", key=key, extra_config=COMPACT_CONFIG)


RAW_MARKET_EVENT: Final = TopicSpec("raw_market_event", _V1 + "RawMarketEvent", "delete", LONG_RETENTION_MS)
ORCHESTRATOR_EVENT: Final = TopicSpec(
    "orchestrator_event", _V1 + "OrchestratorEvent", "delete", EVENT_RETENTION_MS
)
ORCHESTRATOR_RUN_LOG: Final = TopicSpec(
    "orchestrator.run_log", _V1 + "EngineRunRecord", "delete", LONG_RETENTION_MS
)
ORCHESTRATOR_HYSTERESIS_STATE: Final = _compacted(
    "orchestrator.hysteresis_state", _V1 + "HysteresisStoreRecord"
)
# The orchestrator's restart cursor: one record per raw_market_event partition, keyed by that partition.
ORCHESTRATOR_CURSOR: Final = _compacted("orchestrator.cursor", _V1 + "OrchestratorCursor", key="partition")
STATE_GATE_EVENT: Final = TopicSpec("state_gate_event", _V1 + "StateGateEvent", "delete", EVENT_RETENTION_MS)
# state_gate keeps its restart state (snapshot incl. its latest StateGateStateRecord) compacted by symbol;
# the full append-only transition log goes to state_gate.state_log.
STATE_GATE_STATE: Final = _compacted("state_gate.state", _V1 + "StateGateSnapshot")
STATE_GATE_STATE_LOG: Final = TopicSpec(
    "state_gate.state_log", _V1 + "StateGateStateRecord", "delete", LONG_RETENTION_MS
)
STATE_GATE_CONTROL: Final = TopicSpec(
    "state_gate.control", _V1 + "StateGateControl", "delete", EVENT_RETENTION_MS
)
ANALYSIS_ENGINE_EVENT: Final = TopicSpec(
    "analysis_engine_event", _V1 + "AnalysisEngineEvent", "delete", EVENT_RETENTION_MS
)
ANALYSIS_ENGINE_MODULE_STATE: Final = _compacted(
    "analysis_engine.module_state", _V1 + "AnalysisModuleStateRecord", key='json ["symbol","module_id"]'
)
ANALYSIS_ENGINE_RUN_LEDGER: Final = _compacted("analysis_engine.run_ledger", _V1 + "AnalysisRunLedger")
# The `output.alerts` module's ArtifactEmitted events, same value contract as analysis_engine_event.
ALERTS: Final = TopicSpec("alerts", _V1 + "AnalysisEngineEvent", "delete", EVENT_RETENTION_MS)

DLQ_SERVICES: Final[tuple[str, ...]] = (
    "market_data",
    "orchestrator",
    "state_gate",
    "analysis_engine",
    "dashboards",
)

TOPICS: Final[tuple[TopicSpec, ...]] = (
    RAW_MARKET_EVENT,
    ORCHESTRATOR_EVENT,
    ORCHESTRATOR_RUN_LOG,
    ORCHESTRATOR_HYSTERESIS_STATE,
    ORCHESTRATOR_CURSOR,
    STATE_GATE_EVENT,
    STATE_GATE_STATE,
    STATE_GATE_STATE_LOG,
    STATE_GATE_CONTROL,
    ANALYSIS_ENGINE_EVENT,
    ANALYSIS_ENGINE_MODULE_STATE,
    ANALYSIS_ENGINE_RUN_LEDGER,
    ALERTS,
)
DLQ_TOPICS: Final[tuple[TopicSpec, ...]] = tuple(dlq_spec(s) for s in DLQ_SERVICES)
ALL_TOPICS: Final[tuple[TopicSpec, ...]] = TOPICS + DLQ_TOPICS

_BY_NAME: Final[Mapping[str, TopicSpec]] = {s.name: s for s in ALL_TOPICS}
_PHYSICAL = re.compile(r"^(?P<ns>.+?)\.(?P<name>[A-Za-z0-9_.]+)\.v(?P<major>\d+)$")


def spec(name: str) -> TopicSpec:
    """The catalogue entry of a logical topic name (e.g. `orchestrator.run_log`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic {name!r}; known: {', '.join(sorted(_BY_NAME))}") from None


def topic_name(name: str, namespace: str = DEFAULT_NAMESPACE) -> str:
    """Physical topic name of a logical name in a namespace."""
    return spec(name).topic(namespace)


def specs(names: Iterable[str] | None = None) -> tuple[TopicSpec, ...]:
    """The named specs, or the whole catalogue (DLQs included) when `names` is None."""
    return ALL_TOPICS if names is None else tuple(spec(n) for n in names)


def resolve(topic: str, namespace: str = DEFAULT_NAMESPACE) -> tuple[str, TopicSpec]:
    """Accept a logical name or a physical `{ns}.{name}.v{major}` name; return (physical, spec)."""
    if topic in _BY_NAME:
        return _BY_NAME[topic].topic(namespace), _BY_NAME[topic]
    for known in sorted(_BY_NAME.values(), key=lambda s: -len(s.name)):
        suffix = f".{known.name}.v{known.major}"
        if topic.endswith(suffix) and len(topic) > len(suffix):
            return topic, known
    match = _PHYSICAL.match(topic)
    hint = f" (logical name {match.group('name')!r})" if match else ""
    raise KeyError(f"topic {topic!r} is not in the catalogue{hint}")
