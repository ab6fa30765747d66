"""Where the command line delivers a sync's new records: appended to a JSON-lines file, synced.

The file is Checkpointed: its identity and length after each batch are saved in the sync's
state with that batch's keys, and the next run first cuts the file back to the saved length.
Bytes past it were written by a run stopped before it could record them, so their records
are delivered again and the file holds each once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..files.lock import held
from ..files.output import write_jsonl
from .runner import Deliver

__all__ = ["AppendingFile", "appending_jsonl"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)


class AppendingFile:
    """A `deliver` appending each batch to an open file and syncing it; rewinds to a position."""

    def __init__(self, fd: int, name: str) -> None:
        self._fd = fd
        self._name = name

    def __call__(self, records: list[Any]) -> None:
        """Append the batch as JSON lines, then fsync."""
        lines: list[bytes] = []
        write_jsonl(records, lines.append)
        os.write(self._fd, b"".join(lines))
        os.fsync(self._fd)

    def position(self) -> dict[str, Any]:
        """The file's identity (device, inode) and length now."""
        info = os.fstat(self._fd)
        return {"file": [info.st_dev, info.st_ino], "length": info.st_size}

    def rewind(self, position: Mapping[str, Any] | None) -> str | None:
        """Cut the file back to `position`'s length if it is the same file and longer.

        Another file (a file per run, as the engines' `{date}` paths, or one replaced) is
        left as it is; so is a shorter one, with a note.
        """
        if not position:
            return None
        now = self.position()
        if list(position.get("file") or []) != now["file"]:
            return None  # another file (one per run, or replaced): nothing of it was recorded
        recorded = int(position.get("length") or 0)
        if now["length"] < recorded:
            return (
                f"{self._name} is shorter than the last run left it ({now['length']} bytes, "
                f"not {recorded}); appending to it as it is"
            )
        if now["length"] > recorded:
            os.ftruncate(self._fd, recorded)
            os.fsync(self._fd)
            return (
                f"cut {now['length'] - recorded} bytes from the end of {self._name}: records an "
                "interrupted run wrote but did not record, delivered again by this run"
            )
        return None


@contextmanager
def appending_jsonl(path: str) -> Iterator[Deliver]:
    """A `deliver` that appends each batch to `path` (`-`: standard output) and syncs it.

    A file is an AppendingFile, held by one run at a time (`PATH.lock`; a second run gets a
    StateError): a run stopped at any moment leaves each record in it once after the next
    run. Standard output cannot be cut: a run stopped between a batch and its state's save
    writes that batch again.
    """
    if path == "-":

        def to_stdout(records: list[Any]) -> None:
            write_jsonl(records, sys.stdout.buffer.write)
            sys.stdout.buffer.flush()

        yield to_stdout
        return
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    with held(target.with_name(target.name + ".lock"), f"sync to {target.name}"):
        fd = os.open(target, _FLAGS, 0o644)
        try:
            yield AppendingFile(fd, str(target))
        finally:
            os.close(fd)
