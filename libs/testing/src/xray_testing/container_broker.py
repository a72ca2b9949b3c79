"""An apache/kafka broker in Docker through testcontainers, used only when a Docker engine answers.

testcontainers-python's KafkaContainer drives Confluent's cp-kafka start scripts, which the
apache/kafka image lacks, so this runs the image as a generic container configured by KAFKA_*
variables. The host port is fixed before start so the advertised listener can name it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from xray_testing.broker_config import free_ports
from xray_testing.broker_probe import wait_until_ready

KAFKA_IMAGE = os.environ.get("XRAY_KAFKA_IMAGE", "apache/kafka:4.1.1")
DOCKER_PROBE_TIMEOUT_S = 5.0


def docker_engine_answers(timeout_s: float = DOCKER_PROBE_TIMEOUT_S) -> bool:
    """True when a Docker engine responds: the CLI's `docker info`, else the docker SDK's ping."""
    cli = shutil.which("docker")
    if cli is not None:
        try:
            result = subprocess.run(
                [cli, "info", "--format", "{{.ServerVersion}}"],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return result.returncode == 0 and bool(result.stdout.strip())
    try:
        import docker  # type: ignore[import-untyped]  # comes with testcontainers; imported lazily
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=int(timeout_s))
        return bool(client.ping())
    except Exception:  # any failure to reach the engine means "no Docker here"
        return False


def _docker_host() -> str:
    """The host name where published container ports are reachable."""
    url = urlparse(os.environ.get("DOCKER_HOST", ""))
    return url.hostname if url.scheme == "tcp" and url.hostname else "localhost"


@contextmanager
def container_broker(timeout_s: float = 180.0) -> Iterator[str]:
    """Run a single-node KRaft apache/kafka container; yield its bootstrap once a round trip succeeds."""
    from testcontainers.core.container import DockerContainer  # lazy: only when Docker is in play

    host = _docker_host()
    (port,) = free_ports(1)
    env = {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_LISTENERS": f"PLAINTEXT://0.0.0.0:{port},CONTROLLER://localhost:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_NUM_PARTITIONS": "6",
    }
    container = DockerContainer(KAFKA_IMAGE)
    for key, value in env.items():
        container.with_env(key, value)
    container.with_bind_ports(port, port)
    container.start()
    try:
        bootstrap = f"{host}:{port}"
        wait_until_ready(bootstrap, timeout_s)
        yield bootstrap
    finally:
        container.stop()
