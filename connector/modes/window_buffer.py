"""Holds one window's records as JSON lines on disk until the window is complete."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

__all__ = ["SPOOL_BYTES", "WindowBuffer"]

#: A window's lines stay in memory up to this size, then move to a temporary file, so memory
#: stays flat however many records a window holds.
SPOOL_BYTES = 1 << 20

#: `fill` writes its lines to the file this many bytes at a time.
WRITE_BYTES = 64 * 1024


class WindowBuffer:
    """The records of one window, written as compact JSON lines; discarded if the window is cut."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self.count = 0
        self.size = 0
        self._dumps = orjson.dumps
        self._option = orjson.OPT_APPEND_NEWLINE

    @property
    def full(self) -> bool:
        """Whether the buffer holds `limit` records (no more are wanted)."""
        return self.limit is not None and self.count >= self.limit

    def add(self, record: Any) -> None:
        """Append one record."""
        line = self._dumps(record, option=self._option)
        self.file.write(line)
        self.count += 1
        self.size += len(line)

    def fill(self, records: Iterable[Any]) -> None:
        """Append records until `limit` are held (or `records` ends), writing them in blocks."""
        if self.limit is not None:
            for record in records:
                self.add(record)
                if self.full:
                    return
            return
        dumps, option = self._dumps, self._option
        lines: list[bytes] = []
        held = 0
        try:
            for record in records:
                line = dumps(record, option=option)
                lines.append(line)
                held += len(line)
                if held >= WRITE_BYTES:
                    self._write(lines, held)
                    lines, held = [], 0
        finally:
            self._write(lines, held)

    def _write(self, lines: list[bytes], size: int) -> None:
        self.file.write(b"".join(lines))
        self.count += len(lines)
        self.size += size

    def records(self, limit: int | None = None) -> Iterator[Any]:
        """The records in order (at most `limit`), parsed again from their lines."""
        self.file.seek(0)
        loads = orjson.loads
        for number, line in enumerate(self.file):
            if limit is not None and number >= limit:
                return
            yield loads(line)

    def close(self) -> None:
        """Drop the lines."""
        self.file.close()
