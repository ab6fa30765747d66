"""Remembers which batches of a file's import the API acknowledged, so a rerun skips them.

A checkpoint is keyed by the input file's identity (device, inode, size, modification time
and a hash of its first 64 KiB) and the action: change either and the old checkpoint no longer
applies. Inside, it records its target (connector.files.scope: the server the batches went
to, a keyed digest of the credential, one of each other input): a rerun against another
target starts fresh and says why. Batch numbers are deterministic for a given input, so the
numbers recorded are the batches a rerun need not send again. The acknowledged ranges are
checked before they are trusted (whole numbers, in order, at most MAX_CHECKPOINT_BATCHES), and
one run at a time holds a checkpoint (`hold`, a lock file beside it).

Checkpoints do not pile up: one that can no longer apply (its file was changed and imported
again) is removed when the new one is made, and any left untouched for ORPHAN_AFTER_S.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import platformdirs

from ..core.jsondepth import loads_bounded
from .lock import held
from .safe import read_small, remove_quietly, write_atomic
from .scope import Scope
from .sources import is_url, shown_source, source_identity

__all__ = [
    "HEAD_BYTES",
    "MAX_CHECKPOINT_BATCHES",
    "MAX_CHECKPOINT_RANGES",
    "Checkpoint",
    "as_checkpoint",
    "checkpoint_key",
    "default_checkpoint_path",
    "file_checkpoint",
    "file_identity",
    "sweep",
]

log = logging.getLogger("connector.files")

#: How much of the head of an input file its identity hashes.
HEAD_BYTES = 64 * 1024
_VERSION = 2
#: A checkpoint listing more acknowledged batches than this is refused (2,000 events each:
#: two billion events; its numbers are held in memory as a set).
MAX_CHECKPOINT_BATCHES = 1_000_000
#: A checkpoint with more separate ranges than this is refused (a run leaves a few).
MAX_CHECKPOINT_RANGES = 10_000
#: A checkpoint left untouched this long is removed when another import starts (30 days).
ORPHAN_AFTER_S = 30 * 86_400.0
#: At most this many checkpoint files are looked at by one sweep.
_SWEEP_LIMIT = 1000


def file_identity(path: Path) -> str:
    """A digest of where `path` lives, its size, its modification time and its first 64 KiB."""
    with open(path, "rb") as file:
        info = os.fstat(file.fileno())
        head = file.read(HEAD_BYTES)
    parts = [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns]
    text = ":".join(str(p) for p in parts) + ":" + hashlib.sha256(head).hexdigest()
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_key(identity: str, action: str) -> str:
    """The key of one import: the file's identity and the action (the rest is its scope)."""
    return hashlib.sha256(f"{identity}\n{action}".encode()).hexdigest()


def default_checkpoint_path(app: str, key: str) -> Path:
    """Where the command line keeps the checkpoint of `key`: the user state directory."""
    return Path(platformdirs.user_state_dir(app)) / "checkpoints" / f"{key[:32]}.json"


def as_checkpoint(given: str | Path | Checkpoint | None, action: str) -> Checkpoint | None:
    """A Python caller's `checkpoint=`: a path becomes a Checkpoint of its own.

    It is keyed by the action; the caller promises to give the same records again in the same
    order. Its scope (where they go, the other inputs) is set by the run.
    """
    if given is None or isinstance(given, Checkpoint):
        return given
    return Checkpoint(Path(given), checkpoint_key("records given by the caller", action))


def file_checkpoint(
    path: str | None, action: str, extra: Mapping[str, Any], app: str
) -> Checkpoint | None:
    """The checkpoint of an import of the file at `path`, in the user state directory of `app`.

    Keyed by the file (a local path or a URL) and the action; `extra` are options beyond the
    action's inputs that change how records split into batches (its scope records them). None
    for standard input (`-`) or a file that cannot be read: there is no identity to resume by.
    """
    if not path or path == "-":
        return None
    try:
        identity = source_identity(path)
    except (OSError, ValueError):
        return None
    key = checkpoint_key(identity, action)
    where = shown_source(path) if is_url(path) else str(Path(shown_source(path)).resolve())
    source = f"{action} {where}"
    checkpoint = Checkpoint(default_checkpoint_path(app, key), key, source=source)
    checkpoint.extra = dict(extra)
    sweep(checkpoint.path.parent, source, keep=checkpoint.path)
    return checkpoint


def sweep(folder: Path, source: str, *, keep: Path, now: float | None = None) -> list[Path]:
    """Remove the checkpoints in `folder` that can no longer apply; return them.

    Those of the same `source` (action and file) other than `keep` were made for an earlier
    state of the file, whose identity changed; any untouched for ORPHAN_AFTER_S belongs to an
    import nobody resumed. Unreadable files are left alone unless they are that old.
    """
    removed: list[Path] = []
    try:
        entries = sorted(folder.glob("*.json"))[:_SWEEP_LIMIT]
    except OSError:
        return removed
    now = time.time() if now is None else now
    for entry in entries:
        if entry == keep:
            continue
        try:
            stale = now - entry.stat().st_mtime > ORPHAN_AFTER_S
            raw = None if stale else read_small(entry)
            same = raw is not None and loads_bounded(raw).get("source") == source
        except (OSError, ValueError, AttributeError):
            continue
        if stale or same:
            remove_quietly(entry)
            removed.append(entry)
    if removed:
        log.info(
            "%d checkpoint(s) that can no longer apply were removed from %s", len(removed), folder
        )
    return removed


def _ranges(numbers: Iterable[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for number in sorted(numbers):
        if ranges and ranges[-1][1] + 1 == number:
            ranges[-1][1] = number
        else:
            ranges.append([number, number])
    return ranges


def _numbers(ranges: Any) -> set[int]:
    """The batch numbers of recorded `ranges`, checked before any is trusted.

    [first, last] pairs of whole numbers, in order, not overlapping, at most
    MAX_CHECKPOINT_RANGES of them and MAX_CHECKPOINT_BATCHES in all.

    Raises:
        ValueError: saying which range is wrong.
    """
    if not isinstance(ranges, list) or len(ranges) > MAX_CHECKPOINT_RANGES:
        size = len(ranges) if isinstance(ranges, list) else type(ranges).__name__
        raise ValueError(f"expected at most {MAX_CHECKPOINT_RANGES} ranges, got {size}")
    total, previous = 0, -1
    for pair in ranges:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(type(n) is int for n in pair)
            or not previous < pair[0] <= pair[1]
        ):
            raise ValueError(f"bad range {str(pair)[:80]} (after batch {previous})")
        total += pair[1] - pair[0] + 1
        if total > MAX_CHECKPOINT_BATCHES:
            raise ValueError(f"more than {MAX_CHECKPOINT_BATCHES} batches acknowledged")
        previous = pair[1]
    found: set[int] = set()
    for first, last in ranges:
        found.update(range(first, last + 1))
    return found


class Checkpoint:
    """The acknowledged batch numbers of one import, kept in a small JSON file.

    `ack` may be called from any thread; each call rewrites the file atomically (a new file,
    synced, renamed over the old), so a kill at any moment leaves the last complete record.
    """

    def __init__(self, path: Path, key: str, *, source: str = "") -> None:
        self.path = Path(path)
        self.key = key
        self.source = source  # the action and file it is for (what a sweep compares)
        self.scope: Scope | None = None  # set by the run: its target (connector.files.scope)
        self.extra: dict[str, Any] = {}  # options that change the batches (the CLI's --workers)
        self.started_over = ""  # why an earlier run's checkpoint was not used, if it was not
        self._lock = threading.Lock()
        self._acked: set[int] = set()

    def __repr__(self) -> str:
        return f"<Checkpoint {self.path} ({len(self._acked)} acknowledged)>"

    def load(self) -> frozenset[int]:
        """The batches an earlier run of the same import recorded (none if it was another)."""
        try:
            raw = read_small(self.path)
            if raw is None:
                return frozenset()
            data = loads_bounded(raw)
            if data.get("version") != _VERSION or data.get("key") != self.key:
                log.warning("%s: a checkpoint of another import is replaced", self.path)
                return frozenset()
            why = self.scope.difference(data.get("scope")) if self.scope is not None else ""
            if why:
                return self._start_over(f"it was written for {why}")
            acked = _numbers(data["acknowledged"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return self._start_over(f"it cannot be read ({exc})")
        with self._lock:
            self._acked = set(acked)
        return frozenset(acked)

    def _start_over(self, why: str) -> frozenset[int]:
        self.started_over = f"the checkpoint {self.path} was not used: {why}; every batch is sent"
        log.warning("%s", self.started_over)
        return frozenset()

    def hold(self) -> contextlib.AbstractContextManager[None]:
        """Hold this checkpoint for one run (a lock file beside it); StateError if another does."""
        job = f"importing with checkpoint {self.path}" + (
            f" ({self.source})" if self.source else ""
        )
        return held(self.path.with_name(self.path.name + ".lock"), job)

    @property
    def acknowledged(self) -> frozenset[int]:
        """Every batch number recorded so far."""
        with self._lock:
            return frozenset(self._acked)

    def ack(self, number: int) -> None:
        """Record that the API answered batch `number`."""
        with self._lock:
            self._acked.add(number)
            data: dict[str, Any] = {
                "version": _VERSION,
                "key": self.key,
                "acknowledged": _ranges(self._acked),
            }
            if self.scope is not None:
                data["scope"] = self.scope.to_dict()
            if self.source:
                data["source"] = self.source
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(data).encode())

    def remove(self) -> None:
        """The import completed: the checkpoint is no longer needed."""
        with self._lock:
            remove_quietly(self.path)
            self._acked.clear()
