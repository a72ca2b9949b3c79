"""A tiny threaded HTTP server: /metrics, /healthz, /readyz."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from xray_runtime.health import Health


class _StatusServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry, health: Health) -> None:
        super().__init__(address, _Handler)
        self.registry = registry
        self.health = health


class _Handler(BaseHTTPRequestHandler):
    server: _StatusServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(200, generate_latest(self.server.registry), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            ok = self.server.health.is_alive()
            self._send(200 if ok else 503, b"ok\n" if ok else b"stalled\n")
        elif path == "/readyz":
            ok = self.server.health.is_ready()
            self._send(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
        else:
            self._send(404, b"not found\n")

    def _send(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Silence the default per-request stderr lines."""


class StatusServer:
    """Serves the status endpoints from a daemon thread; port 0 picks a free port."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: Health) -> None:
        self._server = _StatusServer((host, port), registry, health)
        # A short poll interval keeps shutdown() quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="xray-http", daemon=True
        )

    @property
    def port(self) -> int:
        """The bound port (useful when 0 was asked for)."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start serving in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
