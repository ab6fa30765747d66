"""Times on the live view: ISO 8601 in UTC, with the epoch value and its unit on hover."""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import Any

#: An event `time` above this is in milliseconds (Mixpanel takes seconds or milliseconds).
MS_FROM = 1e11


def label(ms: float, *, raw: Any = None, unit: str = "ms") -> str:
    """A `<time>`: `2026-05-01T12:00:00Z` (to the millisecond unless `raw` is whole seconds)."""
    try:
        moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return escape(f"{raw if raw is not None else ms} (epoch {unit}, out of range)")
    whole = unit == "s" and isinstance(raw, int)
    shown = moment.isoformat(timespec="seconds" if whole else "milliseconds")
    shown = shown.replace("+00:00", "Z")
    epoch = f"{raw if raw is not None else f'{ms:.0f}'} (epoch {unit})"
    return f'<time datetime="{shown}" title="{escape(epoch)}">{shown}</time>'


def event_time(properties: Any) -> str:
    """An event's `time` property, in seconds or milliseconds, labelled with its own unit."""
    value = properties.get("time") if isinstance(properties, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return '<span class="note">none</span>'
    if value > MS_FROM:
        return label(value, raw=value, unit="ms")
    return label(value * 1000, raw=value, unit="s")
