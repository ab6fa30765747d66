"""Limits a server advertises (the IETF RateLimit-Policy field), kept instead of the spec's.

A budget keeps an API's documented limits on the client. A server that states its own limits
in `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers: a list of policies, each with a
quota `q`, a window `w` in seconds and a quota unit `qu`) knows better: from its first answer
that says so, the calls to that origin keep the advertised limits instead, and only those.
Understood: a quota of requests per 1 s, 60 s or 3600 s window, and of concurrent requests; a
field with any other window or unit is not followed (the documented limits stay). Pure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .limits import RateLimit, Registry

__all__ = ["HEADER", "Advertised", "advertised_limit", "in_force", "learn", "parse_policy"]

#: The response header field (lower case, as responses carry their header names).
HEADER = "ratelimit-policy"
#: A longer field is not read.
MAX_FIELD = 1024
_REQUESTS = {"", "request", "requests"}
_CONCURRENT = {"concurrency", "concurrent-requests"}
_ITEM = re.compile(r'\s*(?:"[^"\\]*"|[A-Za-z*][A-Za-z0-9_.:%*/!#$&\'+^`|~-]*)((?:;[^;,]*)*)\s*')
_PARAM = re.compile(
    r'\s*;\s*([a-z*][a-z0-9_.*-]*)\s*=\s*("[^"\\]*"|[0-9]{1,9}|[A-Za-z*][A-Za-z0-9_.:/-]*|:[A-Za-z0-9+/=]*:)\s*'
)


@dataclass(frozen=True)
class Advertised:
    """What a server advertised, as this client's budgets can keep it (None: no such limit)."""

    per_second: int | None
    per_hour: int | None
    max_concurrent: int | None
    per_minute: int | None = None

    def text(self) -> str:
        """The limits as a RateLimit-Policy field (how a store remembers them)."""
        parts = []
        if self.per_second is not None:
            parts.append(f'"second";q={self.per_second};w=1')
        if self.per_minute is not None:
            parts.append(f'"minute";q={self.per_minute};w=60')
        if self.per_hour is not None:
            parts.append(f'"hour";q={self.per_hour};w=3600')
        if self.max_concurrent is not None:
            parts.append(f'"concurrent";q={self.max_concurrent};qu="concurrent-requests"')
        return ", ".join(parts)

    def describe(self) -> str:
        """In words, for messages: "3 per second and 60 per hour", "16 at once"."""
        parts = []
        if self.per_second is not None:
            parts.append(f"{self.per_second} per second")
        if self.per_minute is not None:
            parts.append(f"{self.per_minute} per minute")
        if self.per_hour is not None:
            parts.append(f"{self.per_hour} per hour")
        if self.max_concurrent is not None:
            parts.append(f"{self.max_concurrent} at once")
        return " and ".join(parts) or "no limit"


def _lowest(current: int | None, quota: int) -> int:
    return quota if current is None else min(current, quota)


def parse_policy(field: str | None) -> Advertised | None:
    """The limits of a RateLimit-Policy field value; None when absent or not followed."""
    if not field or len(field) > MAX_FIELD:
        return None
    per_second = per_minute = per_hour = concurrent = None
    for item in _split(field):
        found = _ITEM.fullmatch(item)
        if found is None:
            return None
        params = _params(found.group(1))
        if params is None:
            return None
        quota, window = params.get("q", ""), params.get("w", "")
        unit = params.get("qu", "").strip('"')
        if not quota.isdigit() or int(quota) < 1:
            return None
        if unit in _CONCURRENT:
            concurrent = _lowest(concurrent, int(quota))
        elif unit in _REQUESTS and window == "1":
            per_second = _lowest(per_second, int(quota))
        elif unit in _REQUESTS and window == "60":
            per_minute = _lowest(per_minute, int(quota))
        elif unit in _REQUESTS and window == "3600":
            per_hour = _lowest(per_hour, int(quota))
        else:
            return None  # a window or unit these budgets cannot keep exactly
    if per_second is None and per_minute is None and per_hour is None and concurrent is None:
        return None
    return Advertised(per_second, per_hour, concurrent, per_minute)


def _params(text: str) -> dict[str, str] | None:
    """An item's `;name=value` parameters; None when the text is not made of them alone."""
    params, at = {}, 0
    for found in _PARAM.finditer(text):
        if found.start() != at:
            return None
        params[found.group(1)] = found.group(2)
        at = found.end()
    return params if at == len(text) else None


def _split(field: str) -> list[str]:
    """The list members of a structured field, commas inside quoted strings kept."""
    items, current, quoted = [], "", False
    for char in field:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return items


def advertised_limit(limit: RateLimit, advertised: Advertised, origin: str) -> RateLimit:
    """`limit` as the server at `origin` advertised it: its windows and slots, none other.

    Its name tells the advertised limits apart (a store counts each name on its own), and its
    label says whose they are.
    """
    # The name tells apart every (limit, server, policy): a registry keeps one limit per name.
    digest = hashlib.sha256(f"{limit!r} {origin} {advertised.text()}".encode()).hexdigest()[:12]
    return RateLimit(
        name=f"{limit.name}-advertised-{digest}",
        per_hour=advertised.per_hour,
        per_minute=advertised.per_minute,
        per_second=advertised.per_second,
        max_concurrent=advertised.max_concurrent,
        label=f"{limit.display_name} (as {origin} advertises it)",
        unit=limit.unit,
        scope=limit.scope,
        basis=f"the limits {origin} advertises in its RateLimit-Policy header",
    )


def _note(origin: str) -> str:
    return f"ratelimit-policy {origin}"


def in_force(limit: RateLimit, registry: Registry, origin: str) -> RateLimit:
    """The limit calls to `origin` keep.

    What `origin` advertised (heard by any process sharing the registry's store, within a
    day), else `limit` as the spec declares it.
    """
    advertised = parse_policy(registry.note(_note(origin)))
    return limit if advertised is None else advertised_limit(limit, advertised, origin)


def learn(registry: Registry, origin: str, field: str | None) -> None:
    """Keep what `origin` advertised in an answer's RateLimit-Policy `field`, if it is followed.

    An answer without the field changes nothing (a proxy's error page, say).
    """
    advertised = parse_policy(field)
    if advertised is not None:
        registry.keep_note(_note(origin), advertised.text())
