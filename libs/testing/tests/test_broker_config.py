"""The pure parts of the local broker: its config, cluster ids, ports, java version parsing."""

from __future__ import annotations

import base64
from pathlib import Path

from xray_testing.broker_config import free_ports, new_cluster_id, render_properties, server_properties
from xray_testing.kafka_jars import parse_java_major


def test_server_properties_single_node_kraft_with_transactions() -> None:
    props = server_properties(40001, 40002, Path("/data"))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:40002"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:40001"
    assert props["log.dirs"] == "/data"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ):
        assert props[key] == "1"
    assert props["num.partitions"] == "6"


def test_overrides_win_and_render_is_one_line_per_key() -> None:
    props = server_properties(1, 2, Path("/d"), {"num.partitions": "3", "extra.key": "x"})
    text = render_properties(props)
    assert "num.partitions=3\n" in text
    assert text.endswith("extra.key=x\n")
    assert len(text.splitlines()) == len(props)


def test_cluster_id_is_16_random_bytes_in_url_safe_base64() -> None:
    ids = {new_cluster_id() for _ in range(500)}
    assert len(ids) == 500
    for cid in ids:
        assert len(cid) == 22
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_free_ports_are_distinct() -> None:
    ports = free_ports(4)
    assert len(set(ports)) == 4
    assert all(1024 <= p <= 65535 for p in ports)


def test_parse_java_major() -> None:
    assert parse_java_major('openjdk version "17.0.15" 2025-04-15') == 17
    assert parse_java_major('java version "1.8.0_392"') == 8
    assert parse_java_major('openjdk version "21" 2023-09-19') == 21
    assert parse_java_major("garbage") is None
