"""The live service process (`python -m market_data`) against the fake exchange: topic, metrics, SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import orjson
import pytest
from market_data.fake_exchange import ExchangeScript, FakeBinanceExchange
from market_data.testing import consume_events
from xray_contracts.catalogue import RAW_MARKET_EVENT

OI_BODY = b'{"symbol":"BTCUSDT","openInterest":"10659.509","time":1589437530011}'
FRAMES = [
    orjson.dumps(
        {
            "stream": "btcusdt@aggTrade",
            "data": {
                "e": "aggTrade",
                "E": 1,
                "a": i,
                "s": "BTCUSDT",
                "p": "100.0",
                "q": "0.5",
                "T": 1_700_000_000_000 + i,
                "m": True,
            },
        }
    )
    for i in range(500)
]


@pytest.fixture
def exchange() -> Iterator[FakeBinanceExchange]:
    """A fake exchange on its own event loop in a background thread."""
    loop = asyncio.new_event_loop()
    fake = FakeBinanceExchange(
        FRAMES, {("open_interest", "BTCUSDT"): [OI_BODY]}, ExchangeScript(frame_interval_s=0.002)
    )
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(fake.start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: never via a proxy


def get(url: str) -> tuple[int, str]:
    """(status, body); status 0 while nothing listens yet."""
    try:
        with _OPENER.open(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""
    except urllib.error.URLError:
        return 0, ""


def test_live_service_streams_serves_metrics_and_flushes_on_sigterm(
    exchange: FakeBinanceExchange,
    kafka_bootstrap: str,
    kafka_namespace: str,
    kafka_create_topics: Callable[[list[object]], list[str]],
) -> None:
    (topic,) = kafka_create_topics([RAW_MARKET_EVENT])
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XRAY_")}
    env.update(
        {
            "XRAY_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap,
            "XRAY_NAMESPACE": kafka_namespace,
            "XRAY_INSTANCE_ID": "md-live-test",
            "XRAY_HTTP__HOST": "127.0.0.1",
            "XRAY_HTTP__PORT": str(port),
            "XRAY_MARKET_DATA__FEED__WS_BASE_URL": exchange.ws_base_url,
            "XRAY_MARKET_DATA__FEED__REST_BASE_URL": exchange.rest_base_url,
            "XRAY_MARKET_DATA__FEED__SYMBOLS": orjson.dumps(
                [{"symbol": "BTCUSDT", "streams": ["aggTrade"], "open_interest": True}]
            ).decode(),
            "XRAY_MARKET_DATA__FEED__OI_POLL_INTERVAL_MS": "200",
            "XRAY_MARKET_DATA__FEED__OI_POLL_JITTER_MS": "20",
            "XRAY_MARKET_DATA__GAUGE_INTERVAL_S": "0.2",
        }
    )
    proc = subprocess.Popen([sys.executable, "-m", "market_data"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        ready = False
        while time.monotonic() < deadline and not ready:
            time.sleep(0.2)
            assert proc.poll() is None, proc.communicate()[1]
            ready = get(f"http://127.0.0.1:{port}/readyz")[0] == 200
        assert ready
        assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        events = consume_events(kafka_bootstrap, topic, len(FRAMES) + 2, timeout_s=60)
        _, metrics = get(f"http://127.0.0.1:{port}/metrics")
        assert (
            'market_data_events_count_total{event_type="TradeTick",source_id="binance",symbol="BTCUSDT"}'
            in metrics
        )
        assert "market_data_producer_queue_depth" in metrics
        assert "market_data_exchange_to_recv_latency_ms_bucket" in metrics
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    trades = [e for _, _, e in events if e.event_type == "TradeTick"]
    assert [e.raw_payload for e in trades] == FRAMES
    assert any(e.event_type == "OpenInterest" and e.raw_payload == OI_BODY for _, _, e in events)
    assert '"event": "market_data.flushed"' in stderr or "market_data.flushed" in stderr
