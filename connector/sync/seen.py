"""The keys of the records a sync delivered, as 16-byte keyed digests grouped by day.

A record's identity is the values at the paths its spec's `sync.key` lists; its day is the
UTC day of the value at `sync.time` (seconds, milliseconds or an ISO date and time). Only a
digest is kept, never the values, and days older than a sync's horizon are dropped, so the
state holds the lookback window's keys, whatever the history.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from ..core.paths import dotted, lookup

__all__ = ["DIGEST_BYTES", "SeenKeys", "day_of"]

#: Bytes per digest: 128 bits, so a collision among billions of records is not a concern.
DIGEST_BYTES = 16


def day_of(value: Any) -> dt.date | None:
    """The UTC day of a time: seconds or milliseconds since the epoch, or an ISO date/time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC).date()
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


class SeenKeys:
    """The digests of delivered records, by day; `prune` drops the days before a horizon."""

    def __init__(self, key: bytes, paths: Sequence[str], time_path: str) -> None:
        self._key = key
        self._paths = tuple(dotted(path) for path in paths)
        self._time_path = dotted(time_path)
        self._days: dict[dt.date, bytearray] = {}
        self._known: set[bytes] = set()

    def identity(self, record: Mapping[str, Any]) -> tuple[bytes, dt.date | None]:
        """The record's digest and day."""
        values = [lookup(record, path) for path in self._paths]
        text = orjson.dumps(values, option=orjson.OPT_SORT_KEYS)
        digest = hashlib.blake2b(text, digest_size=DIGEST_BYTES, key=self._key).digest()
        return digest, day_of(lookup(record, self._time_path))

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._known

    def __len__(self) -> int:
        return len(self._known)

    def add(self, digest: bytes, day: dt.date) -> None:
        """Remember one delivered record."""
        if digest not in self._known:
            self._known.add(digest)
            self._days.setdefault(day, bytearray()).extend(digest)

    def prune(self, horizon: dt.date) -> int:
        """Forget the days before `horizon`; return how many digests went."""
        gone = 0
        for day in [d for d in self._days if d < horizon]:
            packed = self._days.pop(day)
            for at in range(0, len(packed), DIGEST_BYTES):
                self._known.discard(bytes(packed[at : at + DIGEST_BYTES]))
                gone += 1
        return gone

    def days(self) -> list[dt.date]:
        """The days that hold digests, oldest first."""
        return sorted(self._days)

    def to_json(self) -> dict[str, str]:
        """{day: base64 of its digests}, for the state document."""
        return {d.isoformat(): base64.b64encode(self._days[d]).decode() for d in self.days()}

    def load(self, saved: Mapping[str, Any]) -> None:
        """Take up `to_json`'s form; ValueError when it is not that form."""
        for day_text, packed_text in saved.items():
            day = dt.date.fromisoformat(str(day_text))
            try:
                packed = base64.b64decode(str(packed_text), validate=True)
            except binascii.Error as exc:
                raise ValueError(f"day {day_text}: not base64 ({exc})") from None
            if len(packed) % DIGEST_BYTES:
                raise ValueError(f"day {day_text}: {len(packed)} bytes, not whole digests")
            for at in range(0, len(packed), DIGEST_BYTES):
                self.add(packed[at : at + DIGEST_BYTES], day)

    def add_all(self, found: Iterable[tuple[bytes, dt.date]]) -> None:
        """Remember several delivered records."""
        for digest, day in found:
            self.add(digest, day)
