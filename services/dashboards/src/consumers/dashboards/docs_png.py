"""Regenerate docs/dashboard.png: the dashboard on the real recordings through the pipeline.

`make dashboard-png` runs this with cairosvg available. Steps: a fresh namespace on the broker in
KAFKA_BOOTSTRAP_SERVERS, the real 2024-08-08 BTCUSDT/ETHUSDT window (XRAY_SAMPLE_DATA) through
`pipeline_feed.feed`, the real `python -m consumers.dashboards` reading it back and exporting its
last frame with rich's SVG export, then SVG -> PNG (cairosvg) and the namespace's topics deleted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import uuid
from pathlib import Path

from consumers.dashboards import pipeline_feed
from xray_runtime.topics import delete_namespace
from xray_testing.services import running_services


def main(argv: list[str] | None = None) -> int:
    """Write the SVG and the PNG; exit 1 when the data or the broker is missing."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--svg", type=Path, default=Path("docs/dashboard.svg"))
    parser.add_argument("--png", type=Path, default=Path("docs/dashboard.png"))
    parser.add_argument("--width", type=int, default=190)
    args = parser.parse_args(argv)
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    recording = pipeline_feed.real_recording()
    if not bootstrap or recording is None:
        print("needs KAFKA_BOOTSTRAP_SERVERS and XRAY_SAMPLE_DATA (the real recordings)", file=sys.stderr)
        return 1
    namespace = f"docs-{uuid.uuid4().hex[:8]}"
    svg = args.svg.resolve()
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            running_services(bootstrap, namespace, Path(tmp)) as services,
        ):
            pipeline_feed.feed(services, recording)
            services.stop_all()
            dashboard = services.start_module(
                "consumers.dashboards",
                {
                    "XRAY_DASHBOARD__MODE": "lines",
                    "XRAY_DASHBOARD__EXIT_AFTER_S": "8",
                    "XRAY_DASHBOARD__EXPORT_SVG": str(svg),
                    "XRAY_DASHBOARD__EXPORT_WIDTH": str(args.width),
                    # The whole recording's prices, one point per 15 s, for the sparklines.
                    "XRAY_DASHBOARD__PRICE_HISTORY_RECORDS": "500000",
                    "XRAY_DASHBOARD__PRICE_BUCKET_S": "15",
                },
            )
            if dashboard.proc.wait(120) != 0:
                print(dashboard.log_tail(), file=sys.stderr)
                return 1
    finally:
        delete_namespace(bootstrap, namespace)
    # rich names a web font; point the converter at the monospace font installed here instead, so the
    # block and box characters keep the terminal's cell width.
    text = svg.read_text(encoding="utf-8").replace("Fira Code, monospace", "DejaVu Sans Mono, monospace")
    svg.write_text(text, encoding="utf-8")
    cairosvg = importlib.import_module("cairosvg")
    args.png.parent.mkdir(parents=True, exist_ok=True)
    cairosvg.svg2png(url=str(svg), write_to=str(args.png), output_width=args.width * 10)
    print(f"wrote {svg} and {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
