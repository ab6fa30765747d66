"""Times as other tools write them, read into milliseconds since 1970 (UTC).

A format is one of `unix_s`, `unix_ms`, `unix_us` (numbers or their text), `iso8601`
(`2024-05-01T12:00:00.250Z`, `2024-05-01 12:00:00+02:00`; no zone means UTC) or a `strptime`
pattern such as `%Y-%m-%d %H:%M:%S.%f` (UTC unless the pattern reads a zone with `%z`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..core.values import show

__all__ = ["NAMED_FORMATS", "to_millis"]

_SCALE = {"unix_s": 1000.0, "unix_ms": 1.0, "unix_us": 0.001}
NAMED_FORMATS = (*_SCALE, "iso8601")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _millis(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def to_millis(value: Any, fmt: str) -> int:
    """`value` in format `fmt` as whole milliseconds since 1970 UTC; ValueError if it is not."""
    if fmt in _SCALE:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"expected a number of {fmt[5:]} since 1970, got {show(value)}")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(
                f"expected a number of {fmt[5:]} since 1970, got {show(value)}"
            ) from None
        if number != number or abs(number) > 1e17:
            raise ValueError(f"expected a number of {fmt[5:]} since 1970, got {show(value)}")
        return int(round(number * _SCALE[fmt]))
    if not isinstance(value, str):
        raise ValueError(f"expected a time as text ({fmt}), got {show(value)}")
    if fmt == "iso8601":
        text = value.strip()
        text = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        try:
            return _millis(dt.datetime.fromisoformat(text))
        except ValueError:
            raise ValueError(f"expected an ISO 8601 time, got {show(value)}") from None
    try:
        return _millis(dt.datetime.strptime(value.strip(), fmt))
    except ValueError:
        raise ValueError(f"expected a time like {fmt!r}, got {show(value)}") from None
