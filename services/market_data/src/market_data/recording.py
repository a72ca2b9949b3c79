"""Recording files: `<receive time> <frame>` lines, gzip or plain; every line shape seen in the samples.

Line shapes (see Planning/market_data/spec.md):
  A  `<int time> {"stream":...,"data":...}`  websocket combined-stream frame (hftbacktest; `xray record`)
  B  `<int time> {<REST body>}`                REST body without `stream` (depth snapshot, open interest)
  C  `<url> <-> <float seconds>`               connection record (cryptofeed): not a frame
  D  `<float seconds>: {<frame>}`              websocket frame (cryptofeed)
  E  `<url> -> <float seconds>: {<body>}`      REST body with its request URL (cryptofeed)
The integer time's unit follows its digit count: 13 ms, 16 µs, 19 ns.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final, Literal
from urllib.parse import parse_qs, urlsplit

import orjson

FrameKind = Literal["ws", "rest"]
RestEndpoint = Literal["depth", "open_interest", "unknown"]

_GZIP_MAGIC: Final = b"\x1f\x8b"


@dataclass(frozen=True, slots=True)
class RecordedFrame:
    """One received frame or REST body with its receive time in ns; `url` only for REST lines with one."""

    recv_ns: int
    kind: FrameKind
    payload: bytes
    url: str | None = None
    line_no: int = 0

    @property
    def recv_ts_ms(self) -> int:
        """The receive time in ms, as the live adapter would have stamped it."""
        return self.recv_ns // 1_000_000


class RecordingFormatError(ValueError):
    """A line that matches none of the known shapes."""


def int_time_to_ns(text: bytes) -> int:
    """An integer timestamp in ms, µs or ns (by digit count) as ns."""
    value = int(text)
    digits = len(text.lstrip(b"-"))
    if digits <= 13:
        return value * 1_000_000
    if digits <= 16:
        return value * 1_000
    return value


def seconds_to_ns(text: bytes) -> int:
    """A decimal seconds string (`1626992741.06217`) as exact ns, without float rounding."""
    whole, _, frac = text.partition(b".")
    return int(whole) * 1_000_000_000 + int((frac + b"000000000")[:9] or b"0")


def parse_line(line: bytes, line_no: int = 0) -> RecordedFrame | None:
    """The frame of one line (newline already stripped); None for a connection record or blank line."""
    if not line.strip():
        return None
    head, sep, rest = line.partition(b" ")
    if head[:1].isdigit() or head[:1] == b"-":
        if head.endswith(b":"):  # shape D
            return RecordedFrame(seconds_to_ns(head[:-1]), "ws", rest, None, line_no)
        if not sep:
            raise RecordingFormatError(f"line {line_no}: no frame after the time")
        kind: FrameKind = "ws" if rest.startswith(b'{"stream"') else "rest"  # shapes A / B
        return RecordedFrame(int_time_to_ns(head), kind, rest, None, line_no)
    if sep and rest.startswith(b"<-> "):  # shape C
        return None
    if sep and rest.startswith(b"-> "):  # shape E
        stamp, sep2, body = rest[3:].partition(b": ")
        if not sep2:
            raise RecordingFormatError(f"line {line_no}: REST line without body")
        return RecordedFrame(seconds_to_ns(stamp), "rest", body, head.decode("ascii", "replace"), line_no)
    raise RecordingFormatError(f"line {line_no}: unknown line shape")


def open_binary(path: Path) -> BinaryIO:
    """Open a recording, transparently gunzipping when the file starts with the gzip magic."""
    raw = path.open("rb")
    magic = raw.read(2)
    raw.seek(0)
    if magic == _GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def read_frames(path: Path, limit: int | None = None) -> Iterator[RecordedFrame]:
    """Every frame of a recording in file order; `limit` bounds the number of frames yielded."""
    count = 0
    with open_binary(path) as fh:
        for line_no, raw_line in enumerate(fh, start=1):
            line = raw_line.rstrip(b"\r\n")
            frame = parse_line(line, line_no)
            if frame is None:
                continue
            yield frame
            count += 1
            if limit is not None and count >= limit:
                return


def rest_endpoint(frame: RecordedFrame) -> RestEndpoint:
    """Which REST endpoint a recorded body came from: by URL when known, else by its shape."""
    if frame.url is not None:
        path = urlsplit(frame.url).path
        if path.endswith("/depth"):
            return "depth"
        if path.endswith("/openInterest"):
            return "open_interest"
        return "unknown"
    if b'"lastUpdateId"' in frame.payload:
        return "depth"
    if b'"openInterest"' in frame.payload:
        return "open_interest"
    return "unknown"


def url_symbol(url: str | None) -> str | None:
    """The `symbol=` query parameter of a recorded REST URL."""
    if url is None:
        return None
    values = parse_qs(urlsplit(url).query).get("symbol")
    return values[0].upper() if values else None


def rest_symbol(frame: RecordedFrame, fallback: str) -> str:
    """The symbol a REST body belongs to: its URL's `symbol=`, else the body's `symbol`, else `fallback`."""
    from_url = url_symbol(frame.url)
    if from_url:
        return from_url
    if b'"symbol"' in frame.payload:
        try:
            body = orjson.loads(frame.payload)
        except orjson.JSONDecodeError:
            return fallback
        if isinstance(body, dict) and isinstance(body.get("symbol"), str):
            return str(body["symbol"]).upper()
    return fallback


def stream_of(frame: bytes) -> str | None:
    """The combined-stream name at the head of a frame, found without a JSON parse."""
    prefix = b'{"stream":"'
    if not frame.startswith(prefix):
        return None
    end = frame.find(b'"', len(prefix))
    return frame[len(prefix) : end].decode("ascii", "replace") if end > 0 else None


def format_line(recv_ns: int, payload: bytes) -> bytes:
    """One recording line in shape A/B: ns receive time, a space, the untouched payload."""
    if b"\n" in payload:
        raise RecordingFormatError("a frame with a raw newline cannot be stored one per line")
    return b"%d %s\n" % (recv_ns, payload)
