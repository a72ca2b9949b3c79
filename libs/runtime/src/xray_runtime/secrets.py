"""Recognise secret-looking setting names and hide their values from logs and repr."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

REDACTED: Final = "**********"

# password, secret, token and key material (sasl.password, ssl.key.pem, oauthbearer client secret, ...).
_SECRET_KEY: Final = re.compile(
    r"(password|passwd|secret|token|credential|(^|[._])key([._]|$)|keystore|jaas)", re.IGNORECASE
)


def is_secret_key(key: str) -> bool:
    """True when a setting's name says its value is secret."""
    return _SECRET_KEY.search(key) is not None


def redact_mapping(values: Mapping[str, object]) -> dict[str, object]:
    """A copy with every secret-looking key's value replaced by a fixed mask."""
    return {k: (REDACTED if is_secret_key(k) else v) for k, v in values.items()}
