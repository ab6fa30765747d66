"""Where the command line delivers a sync's new records: appended to a JSON-lines file, synced."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..files.output import write_jsonl
from .runner import Deliver

__all__ = ["appending_jsonl"]

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)


@contextmanager
def appending_jsonl(path: str) -> Iterator[Deliver]:
    """A `deliver` that appends each batch to `path` (`-`: standard output) and syncs it.

    A batch is on disk before the sync remembers it: a run stopped at any moment delivers
    what it had not synced again, never what it had.
    """
    if path == "-":

        def to_stdout(records: list[Any]) -> None:
            write_jsonl(records, sys.stdout.buffer.write)
            sys.stdout.buffer.flush()

        yield to_stdout
        return
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, _FLAGS, 0o644)
    try:

        def to_file(records: list[Any]) -> None:
            lines: list[bytes] = []
            write_jsonl(records, lines.append)
            os.write(fd, b"".join(lines))
            os.fsync(fd)

        yield to_file
    finally:
        os.close(fd)
