"""Pure builders for a single-node KRaft broker: its server.properties and a cluster id."""

from __future__ import annotations

import base64
import socket
import uuid
from collections.abc import Mapping
from pathlib import Path


def server_properties(
    port: int, controller_port: int, data_dir: Path, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The broker+controller settings: loopback listeners, RF 1 internals, transactions usable at once."""
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "num.partitions": "6",
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Fewer internal partitions than the default 50: quicker first commit/transaction on a test box.
        "offsets.topic.num.partitions": "6",
        "transaction.state.log.num.partitions": "6",
        "group.initial.rebalance.delay.ms": "0",
        "num.network.threads": "2",
        "num.io.threads": "4",
    }
    props.update(overrides or {})
    return props


def render_properties(props: Mapping[str, str]) -> str:
    """Java .properties text, one `key=value` a line."""
    return "".join(f"{key}={value}\n" for key, value in props.items())


def new_cluster_id() -> str:
    """A KRaft cluster id as Kafka prints it: URL-safe base64 of 16 random bytes, never starting with '-'."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):  # Kafka avoids these too: they read as command-line flags
            return text


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback TCP ports that were free a moment ago (held together, so distinct)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()
