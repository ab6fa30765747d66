"""Resumes an export to a file: kept windows in `PATH.partial`, recorded in `PATH.partial.json`.

Each window is appended whole (for `.gz`, as a gzip member of its own, which every gzip reader
joins), the file is synced, and only then does the state file list the window with the size
the file had after it. A rerun of the same export with the same inputs cuts the partial file
back to that size, keeps the listed windows and fetches the others; other inputs start over.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..core.digest import inputs_digest
from ..modes.windows import Window
from .safe import open_appending, read_small, remove_quietly, write_atomic

__all__ = ["OUTPUT_GZIP_LEVEL", "ExportFile", "inputs_digest"]

log = logging.getLogger("connector.files")

#: zlib's default level: most of the size gain of 9 at a fraction of the CPU.
OUTPUT_GZIP_LEVEL = 6
_VERSION = 1
_COPY_BYTES = 1 << 20


@dataclass
class ExportFile:
    """The partial file of one export and what it already holds.

    Attributes:
        target: The file that appears when the export completes.
        identity: `inputs_digest` of the export; a state file for other inputs is not reused.
        kept: The windows already in the partial file (after `open`).
        records: Records in those windows.
    """

    target: Path
    identity: str
    kept: list[Window] = field(default_factory=list)
    records: int = 0
    _size: int = 0
    _fd: int | None = None

    @property
    def partial(self) -> Path:
        """`PATH.partial`: the kept windows so far."""
        return self.target.with_name(self.target.name + ".partial")

    @property
    def state(self) -> Path:
        """`PATH.partial.json`: which windows the partial file holds, and its size after them."""
        return self.target.with_name(self.target.name + ".partial.json")

    def open(self) -> list[Window]:
        """Take up the kept windows of an earlier run with the same identity; return them."""
        saved = self._load()
        if saved is not None:
            self.kept, self._size, self.records = saved
        else:
            self.kept, self._size, self.records = [], 0, 0
        self._fd = open_appending(self.partial, keep=self._size if saved else None)
        if self.kept:
            log.warning(
                "%s: resuming: %d window(s) with %d record(s) already kept in %s",
                self.target,
                len(self.kept),
                self.records,
                self.partial,
            )
        return list(self.kept)

    def _load(self) -> tuple[list[Window], int, int] | None:
        try:
            raw = read_small(self.state)
            if raw is None:
                return None
            data = json.loads(raw)
            if data.get("version") != _VERSION or data.get("identity") != self.identity:
                log.warning("%s: an earlier export with other inputs is discarded", self.partial)
                return None
            kept = [Window.from_list(pair) for pair in data["windows"]]
            size, records = int(data["bytes"]), int(data["records"])
            if self.partial.stat().st_size < size:
                raise ValueError("the partial file is shorter than recorded")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: cannot resume (%s); starting over", self.partial, exc)
            return None
        return kept, size, records

    def keep(self, window: Window | None, lines: IO[bytes], count: int) -> None:
        """Append one complete window's JSON lines (read from `lines`), sync, then record it.

        A window of None (a stream read in one request) is written but not recorded: there
        is nothing to resume, so a rerun starts over.
        """
        assert self._fd is not None, "open() first"
        out = os.fdopen(os.dup(self._fd), "wb", buffering=_COPY_BYTES)
        with out:
            if self.target.suffix == ".gz":
                with gzip.GzipFile(
                    filename=self.target.stem,
                    mode="wb",
                    fileobj=out,
                    compresslevel=OUTPUT_GZIP_LEVEL,
                ) as packed:
                    _copy(lines, packed)
            else:
                _copy(lines, out)
            out.flush()
            os.fsync(out.fileno())
        self._size = os.fstat(self._fd).st_size
        self.records += count
        if window is not None:
            self.kept.append(window)
            self._save()

    def _save(self) -> None:
        data = {
            "version": _VERSION,
            "identity": self.identity,
            "windows": [w.to_list() for w in self.kept],
            "bytes": self._size,
            "records": self.records,
        }
        write_atomic(self.state, json.dumps(data).encode())

    def finish(self) -> int:
        """Move the partial file to its name and drop the state; return the file's size."""
        self.close()
        os.replace(self.partial, self.target)
        remove_quietly(self.state)
        return self.target.stat().st_size

    def close(self) -> None:
        """Close the partial file (it and its state stay for a rerun)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _copy(source: IO[bytes], write_to: Any) -> None:
    source.seek(0)
    while chunk := source.read(_COPY_BYTES):
        write_to.write(chunk)
