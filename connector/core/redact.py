"""Masks secrets (by value) in anything the connector shows: messages, reprs, logs, dry runs."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from typing import Any

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def basic_header(username: str, password: str) -> str:
    """Return the value of an HTTP Basic `Authorization` header."""
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class Redactor:
    """Replaces every known secret value, and values derived from it, with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Register a secret; its URL-encoded and base64 forms are masked too."""
        from urllib.parse import quote, quote_plus

        if not secret or len(secret) < 4:
            return
        self._secrets.update({secret, quote(secret, safe=""), quote_plus(secret)})

    def add_derived(self, value: str) -> None:
        """Register a derived secret such as a whole Basic header value."""
        if value:
            self._secrets.add(value)
            if value.startswith("Basic "):
                self._secrets.add(value[len("Basic ") :])

    def text(self, value: str) -> str:
        """Mask every secret occurring in `value`."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in value:
                value = value.replace(secret, MASK)
        return value

    def data(self, value: Any) -> Any:
        """Mask secrets in a JSON-like structure, and every sensitive header, recursively."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        if isinstance(value, dict):
            return {
                k: (MASK if str(k).lower() in SENSITIVE_HEADERS and v else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value
