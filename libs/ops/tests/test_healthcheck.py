"""The container healthcheck exits 0 only when /readyz answers 200."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from xray_ops.healthcheck import main
from xray_ops.procs import free_port


class _Handler(BaseHTTPRequestHandler):
    ready = True

    def do_GET(self) -> None:
        status = 200 if self.path == "/readyz" and _Handler.ready else 503
        self.send_response(status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_ready_not_ready_and_nothing_listening(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XRAY_HTTP__PORT", str(server))
    _Handler.ready = True
    assert main([]) == 0
    _Handler.ready = False
    assert main([]) == 1
    assert main(["/healthz"]) == 1
    monkeypatch.setenv("XRAY_HTTP__PORT", str(free_port()))
    assert main([]) == 1
