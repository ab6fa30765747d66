"""Masks secrets (by value) in anything the connector shows: messages, reprs, logs, dry runs."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
SENSITIVE_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


def basic_header(username: str, password: str) -> str:
    """Return the value of an HTTP Basic `Authorization` header."""
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


#: Secrets shorter than this are masked only where they stand as a whole value (see Redactor).
SHORT_SECRET = 4
# Where a short secret counts as a whole value: after = : " ' (or at the start) and before
# & " ' @ , ; # whitespace (or at the end): a query or form value, a quoted string, the password
# of user:password@. Ordinary words are left alone, so messages stay readable.
_BEFORE, _AFTER = r"(?:(?<=[=:\"'])|^)", r"(?=[&\"'@,;#\s]|$)"


def _forms(secret: str) -> set[str]:
    """A secret as it may appear in text: as is, JSON-escaped, URL-encoded, or both."""
    escaped = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    plain = {secret, *escaped}
    encoded = {quote(form, safe="") for form in plain} | {quote_plus(form) for form in plain}
    return plain | encoded


class Redactor:
    """Replaces every known secret value, and values derived from it, with `***`.

    A secret of any length is masked wherever a string equals it (or one of its escaped or
    encoded forms). A secret of four characters or more is masked wherever it occurs; a
    shorter one only where it stands as a whole value (a query or form value, a quoted string,
    the password of user:password@), so a one-letter token does not mask every word holding
    that letter. A Redactor pickles empty: a pickled error or request carries no secret.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._short: set[str] = set()
        self._order: list[str] | None = None
        self._short_re: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def __reduce__(self) -> tuple[type[Redactor], tuple[()]]:
        return (Redactor, ())

    def __repr__(self) -> str:
        return f"<Redactor of {len(self._secrets) + len(self._short)} values>"

    def add(self, secret: str) -> None:
        """Register a secret; its JSON-escaped and URL-encoded forms are masked too."""
        if not secret:
            return
        forms = _forms(secret)
        if len(secret) < SHORT_SECRET:
            self._short.update(forms)
        else:
            self._secrets.update(forms)
        self._order, self._short_re = None, None

    def add_derived(self, value: str) -> None:
        """Register a derived secret such as a whole Basic header value."""
        if value:
            self._secrets.add(value)
            if value.startswith("Basic "):
                self._secrets.add(value[len("Basic ") :])
            self._order = None

    def _sorted(self) -> list[str]:
        if self._order is None:
            self._order = sorted(self._secrets, key=len, reverse=True)
        return self._order

    def _short_pattern(self) -> re.Pattern[str] | None:
        if self._short and self._short_re is None:
            alternatives = "|".join(
                re.escape(s) for s in sorted(self._short, key=len, reverse=True)
            )
            self._short_re = re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}")
        return self._short_re

    def text(self, value: str) -> str:
        """Mask every secret occurring in `value`."""
        if value in self._short:
            return MASK
        for secret in self._sorted():
            if secret in value:
                value = value.replace(secret, MASK)
        short = self._short_pattern()
        return short.sub(MASK, value) if short is not None else value

    def data(self, value: Any) -> Any:
        """Mask secrets in a JSON-like structure, and every sensitive header, recursively.

        Any mapping comes back a dict, and any other collection (a tuple, a batch's records
        held as their JSON) a list; other values come back as they are.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, bytes | bytearray | memoryview):
            return self.text(bytes(value).decode("utf-8", "replace"))
        if isinstance(value, Mapping):
            return {
                k: (MASK if str(k).lower() in SENSITIVE_HEADERS and v else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, Sequence | Set):
            return [self.data(v) for v in value]
        return value
