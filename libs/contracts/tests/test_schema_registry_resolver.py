"""ConfluentRegistryResolver through confluent_kafka's client, against a minimal in-process registry.

The stand-in implements only the two REST calls the resolver makes (register a version, fetch by id);
no Schema Registry runs on the test machines.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from xray_contracts.codec import CONFLUENT_MAGIC, build_codecs
from xray_contracts.hysteresis_record import HysteresisStoreRecord
from xray_contracts.schema_registry import ConfluentRegistryResolver


class _Registry(BaseHTTPRequestHandler):
    ids: ClassVar[dict[str, int]] = {}
    texts: ClassVar[dict[int, str]] = {}

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not (path.startswith("/subjects/") and path.endswith("/versions")):
            self._reply(404, {"error_code": 404, "message": "not found"})
            return
        text = body["schema"]
        schema_id = self.ids.setdefault(text, len(self.ids) + 1)
        self.texts[schema_id] = text
        self._reply(200, {"id": schema_id})

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/schemas/ids/"):
            schema_id = int(path.rsplit("/", 1)[1])
            if schema_id in self.texts:
                self._reply(200, {"schema": self.texts[schema_id], "schemaType": "AVRO"})
                return
        self._reply(404, {"error_code": 40403, "message": "Schema not found"})


@pytest.fixture
def registry_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_confluent_framing_through_the_registry_client(registry_url: str) -> None:
    record = HysteresisStoreRecord(
        schema="hysteresis_store_record",
        schema_version="1",
        symbol="BTCUSDT",
        engine_timestamp_ms=180_000,
        anchor_regime="CHOP_BALANCED",
        candidate_regime="TREND_BUILD_UP",
        progress_current=1,
        last_commit_timestamp_ms=None,
    )
    writer = build_codecs(resolver=ConfluentRegistryResolver(registry_url)).for_type(HysteresisStoreRecord)
    data = writer.encode(record)
    assert data[:1] == CONFLUENT_MAGIC
    # A fresh reader knows nothing: it must fetch the writer schema by id.
    reader = build_codecs(resolver=ConfluentRegistryResolver(registry_url)).for_type(HysteresisStoreRecord)
    assert reader.decode(data) == record
