"""Unique, legal topic namespaces for tests, so no test ever sees another test's records."""

from __future__ import annotations

import re
import secrets

# Kafka topic names allow [a-zA-Z0-9._-] up to 249 chars; the namespace is followed by
# ".<name>.v<major>", so keep it short. Dots would blur the namespace boundary, so none here.
_ILLEGAL = re.compile(r"[^a-z0-9]+")  # runs of anything else, "-" included, become one "-"
MAX_SLUG = 40


def namespace_for(test_name: str, suffix: str | None = None) -> str:
    """`t-<short test name>-<8 hex>`: lower case, only [a-z0-9-], unique by its random suffix."""
    slug = _ILLEGAL.sub("-", test_name.lower()).strip("-")
    slug = slug.removeprefix("test-")[:MAX_SLUG].strip("-") or "test"
    return f"t-{slug}-{suffix or secrets.token_hex(4)}"
