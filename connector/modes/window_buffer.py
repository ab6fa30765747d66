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
#: Lines are gathered and written this many bytes at a time: a write per line cost half again
#: as much as encoding it.
WRITE_BYTES = 1 << 16


class WindowBuffer:
    """The records of one window, written as compact JSON lines; discarded if the window is cut."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._pending: list[bytes] = []
        self._held = 0
        self.count = 0
        self.size = 0
        self._dumps = orjson.dumps
        self._option = orjson.OPT_APPEND_NEWLINE

    @property
    def full(self) -> bool:
        """Whether the buffer holds `limit` records (no more are wanted)."""
        return self.limit is not None and self.count >= self.limit

    @property
    def file(self) -> IO[bytes]:
        """The lines written so far, one record a line (at the position of the last write)."""
        self._write()
        return self._file

    def _write(self) -> None:
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()
            self._held = 0

    def add(self, record: Any) -> None:
        """Append one record."""
        line = self._dumps(record, option=self._option)
        self._pending.append(line)
        self.count += 1
        size = len(line)
        self.size += size
        self._held += size
        if self._held >= WRITE_BYTES:
            self._write()

    def fill(self, records: Iterable[Any]) -> None:
        """Append records until `limit` are held (or `records` ends): `add` in one loop."""
        if self.limit is not None:
            for record in records:
                self.add(record)
                if self.full:
                    return
            return
        # `add`'s gathering, with its counts kept in locals until the records end (or fail).
        dumps, option, pending = self._dumps, self._option, self._pending
        count = size = 0
        held = self._held
        try:
            for record in records:
                line = dumps(record, option=option)
                pending.append(line)
                count += 1
                size += len(line)
                held += len(line)
                if held >= WRITE_BYTES:
                    self._write()
                    held = 0
        finally:
            self.count += count
            self.size += size
            self._held = held

    def records(self, limit: int | None = None) -> Iterator[Any]:
        """The records in order (at most `limit`), parsed again from their lines."""
        file = self.file
        file.seek(0)
        loads = orjson.loads
        for number, line in enumerate(file):
            if limit is not None and number >= limit:
                return
            yield loads(line)

    def close(self) -> None:
        """Drop the lines."""
        self._pending.clear()
        self._file.close()
