"""Admin I/O for the topic catalogue: idempotent create with verification, describe, delete a namespace."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.cimpl import NewTopic
from xray_contracts.catalogue import ALL_TOPICS, TopicSpec

BootstrapOrConf = str | Mapping[str, str]
_METADATA_WAIT_S = 15.0


class TopicMismatchError(RuntimeError):
    """An existing topic's partition count or cleanup policy differs from the catalogue."""


@dataclass(frozen=True, slots=True)
class TopicState:
    """What the broker says about one catalogue topic (exists=False: not created yet)."""

    topic: str
    spec: TopicSpec
    exists: bool
    partitions: int | None = None
    config: Mapping[str, str] = field(default_factory=dict)

    def mismatches(self) -> list[str]:
        """Differences from the spec that matter (partitions, cleanup policy); empty when fine."""
        if not self.exists:
            return [f"{self.topic}: missing"]
        out = []
        if self.partitions != self.spec.partitions:
            out.append(f"{self.topic}: {self.partitions} partitions, catalogue says {self.spec.partitions}")
        policy = self.config.get("cleanup.policy")
        if policy != self.spec.cleanup_policy:
            out.append(f"{self.topic}: cleanup.policy={policy}, catalogue says {self.spec.cleanup_policy}")
        return out


def admin_client(bootstrap_or_conf: BootstrapOrConf) -> AdminClient:
    """An AdminClient from bootstrap servers or a full librdkafka config (security settings etc.)."""
    if isinstance(bootstrap_or_conf, str):
        return AdminClient({"bootstrap.servers": bootstrap_or_conf})
    return AdminClient(dict(bootstrap_or_conf))


def _new_topic(spec: TopicSpec, namespace: str, replication_factor: int) -> NewTopic:
    return NewTopic(
        spec.topic(namespace),
        num_partitions=spec.partitions,
        replication_factor=replication_factor,
        config=spec.config(),
    )


def ensure_topics(
    bootstrap_or_conf: BootstrapOrConf,
    namespace: str,
    specs: Iterable[TopicSpec] = ALL_TOPICS,
    *,
    replication_factor: int = -1,
    timeout_s: float = 30.0,
) -> list[str]:
    """Create the specs' topics in a namespace (existing ones are kept), then verify them all.

    Returns the physical names created by this call. `replication_factor=-1` uses the broker default.
    Raises TopicMismatchError when an existing topic has another partition count or cleanup policy.
    """
    spec_list = list(specs)
    admin = admin_client(bootstrap_or_conf)
    created: list[str] = []
    if spec_list:
        requests = [_new_topic(s, namespace, replication_factor) for s in spec_list]
        futures = admin.create_topics(requests, operation_timeout=timeout_s, request_timeout=timeout_s)
        for name, future in futures.items():
            try:
                future.result(timeout=timeout_s)
                created.append(name)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise RuntimeError(f"creating topic {name}: {exc}") from exc
    # Every topic exists now (created or already there); wait until metadata shows them all.
    states = _describe(
        admin, namespace, spec_list, timeout_s, wait_for={s.topic(namespace) for s in spec_list}
    )
    problems = [m for s in states for m in s.mismatches()]
    if problems:
        raise TopicMismatchError("topics differ from the catalogue:\n  " + "\n  ".join(problems))
    return sorted(created)


def describe_topics(
    bootstrap_or_conf: BootstrapOrConf,
    namespace: str,
    specs: Iterable[TopicSpec] = ALL_TOPICS,
    *,
    timeout_s: float = 30.0,
) -> list[TopicState]:
    """The broker's view (existence, partitions, configs) of every spec's topic in a namespace."""
    return _describe(admin_client(bootstrap_or_conf), namespace, list(specs), timeout_s, wait_for=set())


def _describe(
    admin: AdminClient, namespace: str, specs: list[TopicSpec], timeout_s: float, wait_for: set[str]
) -> list[TopicState]:
    deadline = time.monotonic() + min(timeout_s, _METADATA_WAIT_S)
    while True:  # freshly created topics can take a moment to show up in metadata
        metadata = admin.list_topics(timeout=timeout_s).topics
        if wait_for <= set(metadata) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    existing = [s.topic(namespace) for s in specs if s.topic(namespace) in metadata]
    configs = _topic_configs(admin, existing, timeout_s)
    states = []
    for spec in specs:
        name = spec.topic(namespace)
        topic = metadata.get(name)
        if topic is None or topic.error is not None:
            states.append(TopicState(name, spec, exists=False))
        else:
            states.append(TopicState(name, spec, True, len(topic.partitions), configs.get(name, {})))
    return states


def _topic_configs(admin: AdminClient, topics: list[str], timeout_s: float) -> dict[str, dict[str, str]]:
    if not topics:
        return {}
    resources = [ConfigResource("TOPIC", t) for t in topics]
    out: dict[str, dict[str, str]] = {}
    for resource, future in admin.describe_configs(resources, request_timeout=timeout_s).items():
        entries: Mapping[str, Any] = future.result(timeout=timeout_s)
        out[resource.name] = {k: str(v.value) for k, v in entries.items() if v.value is not None}
    return out


def delete_namespace(
    bootstrap_or_conf: BootstrapOrConf, namespace: str, *, timeout_s: float = 30.0
) -> list[str]:
    """Delete every topic named `{namespace}.*` (a backtest's or a test's); return the deleted names."""
    admin = admin_client(bootstrap_or_conf)
    prefix = f"{namespace}."
    names = sorted(t for t in admin.list_topics(timeout=timeout_s).topics if t.startswith(prefix))
    if not names:
        return []
    for name, future in admin.delete_topics(
        names, operation_timeout=timeout_s, request_timeout=timeout_s
    ).items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                raise RuntimeError(f"deleting topic {name}: {exc}") from exc
    return names
