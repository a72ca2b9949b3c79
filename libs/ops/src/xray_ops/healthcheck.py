"""`python -m xray_ops.healthcheck [PATH]`: exit 0 when the service's status server says ready.

The container healthcheck of every service image (no curl in a slim image). It asks
http://127.0.0.1:$XRAY_HTTP__PORT/readyz (default port 8080) with a 2 s timeout.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request


def check(port: int, path: str = "/readyz", timeout_s: float = 2.0) -> bool:
    """True when GET path answers 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout_s) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    """Exit status for a container healthcheck."""
    args = sys.argv[1:] if argv is None else argv
    path = args[0] if args else "/readyz"
    port = int(os.environ.get("XRAY_HTTP__PORT", "8080"))
    return 0 if check(port, path) else 1


if __name__ == "__main__":
    sys.exit(main())
