"""pytest fixtures for tests against a real Kafka broker (load with `pytest_plugins` in the root conftest).

Broker choice for `kafka_bootstrap`, in order (ARCHITECTURE §3): $KAFKA_BOOTSTRAP_SERVERS; an
apache/kafka container when a Docker engine answers (XRAY_TEST_DOCKER=never skips that probe); the
local broker of .cache/kafka/run/default if it is up; else a local broker this session starts and stops.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from xray_contracts.catalogue import TopicSpec

from xray_testing.broker_probe import is_answering
from xray_testing.container_broker import container_broker, docker_engine_answers
from xray_testing.local_broker import LocalBroker, down, running_broker, up
from xray_testing.namespaces import namespace_for
from xray_testing.topics import create_topics

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
KAFKA_FIXTURES = frozenset({"kafka_bootstrap", "kafka_admin", "kafka_create_topics"})


def pytest_configure(config: pytest.Config) -> None:
    """Register the `kafka` marker (also declared in pyproject, so --strict-markers passes either way)."""
    config.addinivalue_line("markers", "kafka: needs a real Kafka broker (started by the fixture)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses a broker fixture gets the `kafka` marker (`-m "not kafka"` skips them)."""
    for item in items:
        if KAFKA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap servers of a real broker for the whole session (see the module doc for the order)."""
    from_env = os.environ.get(KAFKA_ENV, "").strip()
    if from_env:
        if not is_answering(from_env, timeout_s=15.0):
            raise RuntimeError(f"{KAFKA_ENV}={from_env} does not answer (unset it to use a local broker)")
        yield from_env
        return
    if os.environ.get("XRAY_TEST_DOCKER", "auto") != "never" and docker_engine_answers():
        with container_broker() as bootstrap:
            yield bootstrap
        return
    alive = running_broker()
    if alive is not None:  # someone else's broker (make kafka-up): use it, never stop it
        yield alive.bootstrap
        return
    broker, started = up()
    try:
        yield broker.bootstrap
    finally:
        if started:
            down()


@pytest.fixture
def kafka_namespace(request: pytest.FixtureRequest) -> str:
    """A fresh topic namespace for this test: `t-<short test name>-<8 hex>`."""
    return namespace_for(request.node.name)


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> AdminClient:
    """An AdminClient on the session's broker."""
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


@pytest.fixture
def kafka_create_topics(
    kafka_admin: AdminClient, kafka_namespace: str
) -> Callable[[Iterable[TopicSpec]], list[str]]:
    """`kafka_create_topics(specs)` creates those catalogue topics in this test's namespace; returns names."""

    def create(specs: Iterable[TopicSpec]) -> list[str]:
        return create_topics(kafka_admin, kafka_namespace, specs)

    return create


@pytest.fixture
def private_local_broker(tmp_path: Path) -> Iterator[LocalBroker]:
    """A local broker of this test alone (for kill/restart chaos), destroyed afterwards."""
    broker = LocalBroker(tmp_path / "broker")
    broker.start()
    try:
        yield broker
    finally:
        broker.destroy()
