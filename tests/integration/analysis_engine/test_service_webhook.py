"""The service delivers webhook artifacts to a real HTTP endpoint on loopback (at least once, keyed)."""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from consumers.analysis_engine import AnalysisEngine, AnalysisEngineConfig, ModuleConfig
from consumers.analysis_engine.contracts import ArtifactEmittedPayload
from consumers.analysis_engine.discovery import discover_registry
from consumers.analysis_engine.harness import AnalysisHarness, labelled_gate_series

ENABLED = [
    "signal.regime",
    "detector.regime_transition",
    "detector.crowding",
    "detector.liquidation_cascade",
    "rule.assessment",
    "output.webhook",
]


@pytest.fixture
def endpoint() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A loopback HTTP server recording POST bodies by Idempotency-Key (503 on the first try of each)."""
    received: dict[str, bytes] = {}
    seen: set[str] = set()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            key = self.headers.get("Idempotency-Key", "")
            with lock:
                first = key not in seen
                seen.add(key)
                if not first:
                    received[key] = body
            self.send_response(503 if first else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/alerts", received
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_service_posts_webhook_alerts(
    analysis_harness: AnalysisHarness, endpoint: tuple[str, dict[str, bytes]]
) -> None:
    url, received = endpoint
    h = analysis_harness
    series = labelled_gate_series(["BTCUSDT", "ETHUSDT"], 40, seed=3)
    webhook_config = {"url": url, "min_severity": "info", "backoff_s": 0.0, "timeout_s": 2.0}
    engine = AnalysisEngine(
        registry=discover_registry(),
        config=AnalysisEngineConfig(
            enabled_modules=ENABLED,
            module_configs=[ModuleConfig(module_id="output.webhook", config=webhook_config)],
        ),
    )
    expected_events = [e for event in series for e in engine.consume(event)]
    hooks = {
        e.event_key: e.payload
        for e in expected_events
        if isinstance(e.payload, ArtifactEmittedPayload) and e.payload.module_id == "output.webhook"
    }
    assert hooks
    h.produce(series)
    proc = h.start(
        XRAY_ANALYSIS__ENGINE__ENABLED_MODULES=json.dumps(ENABLED),
        XRAY_ANALYSIS__ENGINE__MODULE_CONFIGS=json.dumps(
            [{"module_id": "output.webhook", "config": webhook_config}]
        ),
    )
    h.wait_events(len(expected_events), proc)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0, h.log_tail(proc)
    assert set(received) == set(hooks)
    for key, body in received.items():
        payload = hooks[key]
        assert payload is not None
        assert json.loads(body) == payload.payload
