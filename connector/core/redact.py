"""Masks secrets (by value) in anything the connector shows: messages, reprs, logs, dry runs."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
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
    """A secret as it may appear in text: as is, JSON- or repr-escaped, URL-encoded, or both.

    (A message quoting a value with `repr`, as jsonschema's do, escapes it its own way.)
    """
    escaped = {json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    escaped |= {repr(secret)[1:-1], ascii(secret)[1:-1]}
    plain = {secret, *escaped}
    encoded = {quote(form, safe="") for form in plain} | {quote_plus(form) for form in plain}
    return plain | encoded


@dataclass(frozen=True)
class _Known:
    """What one Redactor masks, replaced whole (never changed) when a secret is registered."""

    given: frozenset[str] = frozenset()
    secrets: frozenset[str] = frozenset()  # every form of the long secrets
    short: frozenset[str] = frozenset()  # every form of the short ones
    order: tuple[str, ...] = ()  # the long forms, longest first
    short_re: re.Pattern[str] | None = None

    @classmethod
    def of(cls, given: frozenset[str], secrets: set[str], short: set[str]) -> _Known:
        pattern = None
        if short:
            alternatives = "|".join(re.escape(s) for s in sorted(short, key=len, reverse=True))
            pattern = re.compile(f"{_BEFORE}(?:{alternatives}){_AFTER}")
        order = tuple(sorted(secrets, key=len, reverse=True))
        return cls(given, frozenset(secrets), frozenset(short), order, pattern)


class Redactor:
    """Replaces every known secret value, and values derived from it, with `***`.

    A secret of any length is masked wherever a string equals it (or one of its escaped or
    encoded forms). A secret of four characters or more is masked wherever it occurs; a
    shorter one only where it stands as a whole value (a query or form value, a quoted string,
    the password of user:password@), so a one-letter token does not mask every word holding
    that letter. A Redactor pickles empty: a pickled error or request carries no secret.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known = _Known()
        self.add_all(secrets)

    def __reduce__(self) -> tuple[type[Redactor], tuple[()]]:
        return (Redactor, ())

    def __repr__(self) -> str:
        known = self._known
        return f"<Redactor of {len(known.secrets) + len(known.short)} values>"

    def __len__(self) -> int:
        """How many secrets were registered (each counted once, whatever its forms)."""
        return len(self._known.given)

    def __contains__(self, secret: object) -> bool:
        return secret in self._known.given

    def add(self, secret: str) -> None:
        """Register a secret; its JSON-escaped and URL-encoded forms are masked too."""
        self.add_all((secret,))

    def add_all(self, secrets: Iterable[str]) -> None:
        """Register several secrets at once (one rebuild of what `text` searches for).

        Safe while other threads mask text: they keep using what was known when they began.
        """
        with self._lock:
            known = self._known
            new = [s for s in dict.fromkeys(secrets) if s and s not in known.given]
            if not new:
                return
            short, long = set(known.short), set(known.secrets)
            for secret in new:
                (short if len(secret) < SHORT_SECRET else long).update(_forms(secret))
            self._known = _Known.of(known.given | frozenset(new), long, short)

    def extended(self, secrets: Iterable[str]) -> Redactor:
        """A new Redactor that masks what this one masks, and `secrets` too."""
        wider = Redactor()
        wider._known = self._known
        wider.add_all(secrets)
        return wider

    def add_derived(self, value: str) -> None:
        """Register a derived secret such as a whole Basic or Bearer header value."""
        if not value:
            return
        with self._lock:
            known = self._known
            long = set(known.secrets) | {value}
            for kind in ("Basic ", "Bearer "):
                if value.startswith(kind):
                    long.add(value[len(kind) :])
            self._known = _Known.of(known.given, long, set(known.short))

    def text(self, value: str) -> str:
        """Mask every secret occurring in `value`."""
        known = self._known  # one snapshot: another thread may register more meanwhile
        if value in known.short:
            return MASK
        for secret in known.order:
            if secret in value:
                value = value.replace(secret, MASK)
        return known.short_re.sub(MASK, value) if known.short_re is not None else value

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
