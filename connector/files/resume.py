"""Resumes an export to a file: kept windows in `PATH.partial`, recorded in `PATH.partial.json`.

Each window is appended whole (for `.gz`, as a gzip member of its own, which every gzip reader
joins), the file is synced, and only then does the state file list the window with its record
count, the size the file had after it and a keyed digest of its bytes and count
(connector.core.localkey). A rerun of the same export (same inputs, server and credential:
connector.files.scope) checks every listed window against the bytes really in the partial
file, keeps those that match, cuts the file back after them and fetches the others; a state
for another target, or one out of bounds (more than MAX_STATE_WINDOWS windows, windows outside
the export's dates or overlapping), starts over. Either way it says why. One run at a time
writes an output (a lock file, `PATH.partial.lock`).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from ..core.digest import inputs_digest
from ..core.jsondepth import loads_bounded
from ..core.localkey import keyed_digest
from ..modes.windows import Window
from .export_state import MAX_STATE_WINDOWS, Recorded, recorded_windows
from .lock import held
from .safe import open_appending, read_small, remove_quietly, write_atomic
from .scope import Scope

__all__ = ["MAX_STATE_WINDOWS", "OUTPUT_GZIP_LEVEL", "ExportFile", "inputs_digest"]

log = logging.getLogger("connector.files")

#: zlib's default level: most of the size gain of 9 at a fraction of the CPU.
OUTPUT_GZIP_LEVEL = 6
_VERSION = 2
_COPY_BYTES = 1 << 20
_PURPOSE = "partial-export-window"


@dataclass
class ExportFile:
    """The partial file of one export and what it already holds.

    Attributes:
        target: The file that appears when the export completes.
        identity: `inputs_digest` of the export; a state file for other inputs is not reused.
        scope: Where the export reads from, with which credential (None: not compared).
        bounds: The export's first and last day; a recorded window outside them is refused.
        kept: The windows already in the partial file (after `open`).
        records: Records in those windows.
        started_over: Why an earlier run's state was not used at all ("" when it was).
        refetched: Recorded windows whose bytes did not match, fetched again.
    """

    target: Path
    identity: str
    scope: Scope | None = None
    bounds: tuple[date, date] | None = None
    kept: list[Window] = field(default_factory=list)
    records: int = 0
    started_over: str = ""
    refetched: int = 0
    _counts: list[int] = field(default_factory=list)
    _ends: list[int] = field(default_factory=list)
    _digests: list[str] = field(default_factory=list)
    _size: int = 0
    _fd: int | None = None
    _lock: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    @property
    def partial(self) -> Path:
        """`PATH.partial`: the kept windows so far."""
        return self.target.with_name(self.target.name + ".partial")

    @property
    def state(self) -> Path:
        """`PATH.partial.json`: which windows the partial file holds, and its size after them."""
        return self.target.with_name(self.target.name + ".partial.json")

    @property
    def lock(self) -> Path:
        """`PATH.partial.lock`: held by the one run writing this output."""
        return self.target.with_name(self.target.name + ".partial.lock")

    def open(self) -> list[Window]:
        """Hold the output, take up the verified windows of an earlier run; return them.

        Raises:
            StateError: another run is writing the same output.
        """
        self._lock.enter_context(held(self.lock, f"exporting to {self.target}"))
        try:
            saved = self._load()
            self._fd = open_appending(self.partial, keep=self._size if saved else None)
        except BaseException:
            self._lock.close()
            raise
        if self.kept:
            log.warning(
                "%s: resuming: %d window(s) with %d record(s) already kept in %s",
                self.target,
                len(self.kept),
                self.records,
                self.partial,
            )
        return list(self.kept)

    def _load(self) -> bool:
        """Take up what the state file records and the partial file holds; False: start over."""
        try:
            raw = read_small(self.state)
            if raw is None:
                return False
            data = loads_bounded(raw)
            if not isinstance(data, dict) or data.get("version") != _VERSION:
                return self._start_over("it was written by another version")
            why = self.scope.difference(data.get("scope")) if self.scope is not None else ""
            if why:
                return self._start_over(f"it was written for {why}")
            if data.get("identity") != self.identity:
                return self._start_over("it was written for other inputs")
            recorded = recorded_windows(data, self.bounds)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
            return self._start_over(f"it cannot be used ({exc})")
        good = self._verified(recorded)
        if good < len(recorded):
            self.refetched = len(recorded) - good
            log.warning(
                "%s: window %s does not match the bytes in %s; it and the %d window(s) after "
                "it are fetched again",
                self.state,
                recorded[good][0].label(),
                self.partial,
                self.refetched - 1,
            )
        for window, count, end, digest in recorded[:good]:
            self.kept.append(window)
            self._counts.append(count)
            self._ends.append(end)
            self._digests.append(digest)
        self.records = sum(self._counts)
        self._size = self._ends[-1] if self._ends else 0
        return bool(good)

    def _start_over(self, why: str) -> bool:
        self.started_over = f"{self.state} was not used: {why}; every window is fetched"
        log.warning("%s", self.started_over)
        return False

    def _verified(self, recorded: list[Recorded]) -> int:
        """How many of the recorded windows, from the first, the partial file really holds."""
        good = 0
        try:
            with open(self.partial, "rb") as file:
                start = 0
                for window, count, end, digest in recorded:
                    hashed = _hash_region(file, start, end)
                    if hashed is None or self._digest(window, count, hashed) != digest:
                        break
                    good += 1
                    start = end
        except FileNotFoundError:
            pass
        return good

    def _digest(self, window: Window, count: int, content: str) -> str:
        return keyed_digest(_PURPOSE, self.identity, window.label(), str(count), content)

    def keep(self, window: Window | None, lines: IO[bytes], count: int) -> None:
        """Append one complete window's JSON lines (read from `lines`), sync, then record it.

        A window of None (a stream read in one request) is written but not recorded: there
        is nothing to resume, so a rerun starts over.
        """
        assert self._fd is not None, "open() first"
        out = _Hashing(os.fdopen(os.dup(self._fd), "wb", buffering=_COPY_BYTES))
        with out.file:
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
            os.fsync(out.file.fileno())
        self._size = os.fstat(self._fd).st_size
        self.records += count
        if window is not None and len(self.kept) < MAX_STATE_WINDOWS:
            self.kept.append(window)
            self._counts.append(count)
            self._ends.append(self._size)
            self._digests.append(self._digest(window, count, out.hash.hexdigest()))
            self._save()

    def _save(self) -> None:
        data: dict[str, Any] = {
            "version": _VERSION,
            "identity": self.identity,
            "windows": [w.to_list() for w in self.kept],
            "counts": self._counts,
            "ends": self._ends,
            "digests": self._digests,
            "bytes": self._size,
            "records": self.records,
        }
        if self.scope is not None:
            data["scope"] = self.scope.to_dict()
        write_atomic(self.state, json.dumps(data).encode())

    def finish(self) -> int:
        """Move the partial file to its name and drop the state; return the file's size."""
        self.close()
        os.replace(self.partial, self.target)
        remove_quietly(self.state)
        return self.target.stat().st_size

    def close(self) -> None:
        """Close the partial file (it and its state stay for a rerun) and let the output go."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._lock.close()


class _Hashing:
    """A file that hashes (SHA-256) what is written to it."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.hash = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


def _hash_region(file: IO[bytes], start: int, end: int) -> str | None:
    """SHA-256 (hex) of bytes `start` to `end` of `file`; None when the file is shorter."""
    file.seek(start)
    digest, left = hashlib.sha256(), end - start
    while left > 0:
        chunk = file.read(min(left, _COPY_BYTES))
        if not chunk:
            return None
        digest.update(chunk)
        left -= len(chunk)
    return digest.hexdigest()


def _copy(source: IO[bytes], write_to: Any) -> None:
    source.seek(0)
    while chunk := source.read(_COPY_BYTES):
        write_to.write(chunk)
