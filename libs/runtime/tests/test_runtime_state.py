"""State restore folding, store undo on abort, DLQ headers, health, and the status server."""

from __future__ import annotations

import urllib.error
import urllib.request

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter
from xray_contracts.catalogue import TopicSpec
from xray_runtime.dlq import dlq_headers
from xray_runtime.health import Health
from xray_runtime.http_server import StatusServer
from xray_runtime.secrets import is_secret_key
from xray_runtime.state import PartitionStore, StoreSpec, fold_state

SPEC: StoreSpec[int] = StoreSpec(
    name="s", topic=TopicSpec("svc.s", None, "compact"), encode=lambda v: str(v).encode(), decode=int
)

keys = st.sampled_from([b"a", b"b", b"c", None])
values = st.one_of(st.none(), st.integers(0, 1000).map(lambda i: str(i).encode()))


@given(st.lists(st.tuples(keys, values), max_size=60))
def test_fold_is_last_write_wins_with_tombstones(records: list[tuple[bytes | None, bytes | None]]) -> None:
    model: dict[bytes, int] = {}
    for key, value in records:
        if key is None:
            continue
        if value is None:
            model.pop(key, None)
        else:
            model[key] = int(value)
    assert fold_state(records, int) == model


def test_fold_honours_a_custom_merge() -> None:
    records = [(b"k", b"5"), (b"k", b"3"), (b"k", b"9")]
    assert fold_state(records, int, merge=max) == {b"k": 9}
    assert fold_state(records[:2], int, merge=max) == {b"k": 5}


def test_store_writes_go_to_its_partition_and_roll_back_on_abort() -> None:
    sent: list[tuple[str, int, bytes, bytes | None]] = []
    store = PartitionStore(SPEC, "ns.svc.s.v1", 4, {b"a": 1}, lambda t, p, k, v: sent.append((t, p, k, v)))
    store.put("a", 2)
    store.put(b"b", 7)
    store.delete("a")
    assert sent == [
        ("ns.svc.s.v1", 4, b"a", b"2"),
        ("ns.svc.s.v1", 4, b"b", b"7"),
        ("ns.svc.s.v1", 4, b"a", None),
    ]
    assert store.get("a") is None
    assert store.get("b") == 7
    store.rollback()
    assert dict(store.items()) == {b"a": 1}
    store.put("c", 3)
    store.commit()
    store.rollback()
    assert dict(store.items()) == {b"a": 1, b"c": 3}


def test_dlq_headers_carry_provenance_after_the_originals() -> None:
    headers = dlq_headers("svc", "ns.in.v1", 2, 41, error=ValueError("x" * 2000), original=[("schema", b"s")])
    named = dict(headers)
    assert headers[0] == ("schema", b"s")
    assert named["dlq.source.topic"] == b"ns.in.v1"
    assert named["dlq.source.partition"] == b"2"
    assert named["dlq.source.offset"] == b"41"
    assert named["dlq.error.class"] == b"ValueError"
    assert len(named["dlq.error.message"]) == 512  # type: ignore[arg-type]


def test_secret_key_recognition() -> None:
    for key in (
        "sasl.password",
        "sasl_password",
        "ssl.key.pem",
        "oauth_client_secret",
        "api_token",
        "ssl.keystore.location",
    ):
        assert is_secret_key(key), key
    for key in ("bootstrap.servers", "linger.ms", "monkey", "keyed", "partition"):
        assert not is_secret_key(key), key


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_status_server_endpoints() -> None:
    registry = CollectorRegistry()
    Counter("xray_demo", "demo", registry=registry).inc()
    health = Health(stall_after_s=60)
    server = StatusServer("127.0.0.1", 0, registry, health)
    server.start()
    try:
        assert server.port > 0
        status, body = get(server.port, "/metrics")
        assert status == 200
        assert "xray_demo_total 1.0" in body
        assert get(server.port, "/healthz")[0] == 200
        assert get(server.port, "/readyz")[0] == 503
        health.set_ready(True)
        assert get(server.port, "/readyz")[0] == 200
        assert get(server.port, "/nope")[0] == 404
    finally:
        server.stop()


def test_health_goes_stale_when_the_loop_stops_turning() -> None:
    health = Health(stall_after_s=0.0001)
    health.set_ready(True)
    import time

    time.sleep(0.01)
    assert not health.is_alive()
    assert not health.is_ready()
    health = Health(stall_after_s=60)
    health.beat()
    assert health.is_alive()
