"""What a copy between projects already finished: its windows, kept in a small JSON file.

A window is recorded only after the target acknowledged every batch of it, so a rerun skips
it whole; inside each window being copied (two at once while one ends and the next starts),
its own batch checkpoint (connector.files.checkpoint) skips the batches already acknowledged,
when the source answers the window with the same records in the same order (its key holds a
digest of them). Windows may finish out of order: a rerun plans the days none of them cover.
The file is keyed by the copy's identity (source, target, range, filters, transforms):
another copy never reuses it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import platformdirs

from ..files.checkpoint import Checkpoint
from ..files.safe import read_small, remove_quietly, write_atomic
from ..modes.windows import Window

__all__ = ["CopyState", "content_digest", "default_state_path"]

log = logging.getLogger("connector.migrate")
_VERSION = 1


def default_state_path(app: str, identity: str) -> Path:
    """Where the command line keeps a copy's state: the user state directory."""
    return Path(platformdirs.user_state_dir(app)) / "copies" / f"{identity[:32]}.json"


def content_digest(lines: IO[bytes]) -> str:
    """A digest of a window's records as the source sent them, in order."""
    lines.seek(0)
    digest = hashlib.sha256()
    while chunk := lines.read(1 << 20):
        digest.update(chunk)
    lines.seek(0)
    return digest.hexdigest()


@dataclass
class CopyState:
    """The windows a copy finished and its counts so far; each change rewritten atomically."""

    path: Path
    identity: str
    windows: list[Window] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def load(self) -> list[Window]:
        """Take up what an earlier run of the same copy finished; return its windows."""
        try:
            raw = read_small(self.path)
            if raw is None:
                return []
            data = json.loads(raw)
            if data.get("version") != _VERSION or data.get("identity") != self.identity:
                log.warning("%s: the state of another copy is replaced", self.path)
                return []
            windows = [Window.from_list(pair) for pair in data["windows"]]
            counts = {str(k): int(v) for k, v in dict(data["counts"]).items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("%s: cannot resume (%s); starting over", self.path, exc)
            return []
        self.windows, self.counts = windows, counts
        if windows:
            log.warning(
                "resuming a copy: %d window(s) already copied (%s)", len(windows), self.path
            )
        return list(windows)

    def batches(self, window: Window | None, digest: str) -> Checkpoint:
        """The checkpoint of one window's batches, keyed by the copy, window and content."""
        where = window.label() if window else "all"
        key = hashlib.sha256(f"{self.identity}\n{where}\n{digest}".encode()).hexdigest()
        return Checkpoint(self._batches_path(window), key)

    def _batches_path(self, window: Window | None) -> Path:
        """The file of one window's batch checkpoint, beside the state file."""
        where = window.label() if window else "all"
        return self.path.with_suffix(
            f".{hashlib.sha256(where.encode()).hexdigest()[:16]}.batches.json"
        )

    def finished(self, window: Window | None, counts: Mapping[str, int]) -> None:
        """Record one window as copied, with its counts added."""
        for name, value in counts.items():
            self.counts[name] = self.counts.get(name, 0) + int(value)
        remove_quietly(self._batches_path(window))
        if window is None:
            return
        self.windows.append(window)
        data: dict[str, Any] = {
            "version": _VERSION,
            "identity": self.identity,
            "windows": [w.to_list() for w in self.windows],
            "counts": self.counts,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(data).encode())

    def remove(self) -> None:
        """The copy completed: its state is no longer needed."""
        remove_quietly(self.path)
        for left in self.path.parent.glob(f"{self.path.stem}.{'[0-9a-f]' * 16}.batches.json"):
            remove_quietly(left)
