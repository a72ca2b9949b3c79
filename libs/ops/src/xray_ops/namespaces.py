"""Remove a namespace from a broker: its topics and its services' consumer groups."""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import KafkaException
from xray_runtime.topics import admin_client, delete_namespace


@dataclass(frozen=True, slots=True)
class Removed:
    """What a clean removed."""

    topics: list[str]
    groups: list[str]


def namespace_groups(bootstrap: str, namespace: str, timeout_s: float = 30.0) -> list[str]:
    """Consumer groups of a namespace's services (`{namespace}.{service}`)."""
    admin = admin_client(bootstrap)
    listing = admin.list_consumer_groups(request_timeout=timeout_s).result(timeout=timeout_s)
    prefix = f"{namespace}."
    return sorted(g.group_id for g in listing.valid if g.group_id.startswith(prefix))


def remove_namespace(bootstrap: str, namespace: str, timeout_s: float = 30.0) -> Removed:
    """Delete every `{namespace}.*` topic and consumer group (a stopped stack's or a replay's)."""
    groups = namespace_groups(bootstrap, namespace, timeout_s)
    if groups:
        admin = admin_client(bootstrap)
        for group, future in admin.delete_consumer_groups(groups, request_timeout=timeout_s).items():
            try:
                future.result(timeout=timeout_s)
            except KafkaException as exc:
                raise RuntimeError(f"deleting consumer group {group}: {exc}") from exc
    topics = delete_namespace(bootstrap, namespace, timeout_s=timeout_s)
    _wait_topics_gone(bootstrap, set(topics), timeout_s)
    return Removed(topics, groups)


def _wait_topics_gone(bootstrap: str, names: set[str], timeout_s: float) -> None:
    """Deletion is asynchronous: wait until metadata no longer lists the topics (so they can be re-made)."""
    admin = admin_client(bootstrap)
    deadline = time.monotonic() + timeout_s
    while names & set(admin.list_topics(timeout=timeout_s).topics):
        if time.monotonic() > deadline:
            raise RuntimeError(f"topics still listed {timeout_s:.0f}s after deletion: {sorted(names)}")
        time.sleep(0.2)
