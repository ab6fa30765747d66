"""Writes an action's streamed records to a JSON-lines file (gzip for `.gz`) and sums it up."""

from __future__ import annotations

import gzip
import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputError, InputProblem
from ..modes.streamed import RecordStream

__all__ = ["OUTPUT_GZIP_LEVEL", "write_jsonl", "write_stream"]

#: zlib's default level: most of the size gain of 9 at a fraction of the CPU.
OUTPUT_GZIP_LEVEL = 6
_BUFFER_BYTES = 1 << 20


def write_jsonl(records: Iterable[Any], write: Callable[[bytes], object]) -> tuple[int, int]:
    """Write each record as one compact JSON line; return the lines and bytes written."""
    dumps, option = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    count = size = 0
    for record in records:
        line = dumps(record, option=option)
        write(line)
        count += 1
        size += len(line)
    return count, size


def write_stream(stream: RecordStream, path: str) -> dict[str, Any]:
    """Stream `stream` to `path` (`-`: standard output) and return the summary.

    The summary counts events, bytes (of the file as written, so compressed for `.gz`),
    days and resumed cuts.

    The file appears under its name only when the export is complete: it is written to
    `PATH.partial` first, which an error leaves behind for inspection. `PATH.partial` is
    created anew without following links (a link there is refused), and the finished file
    replaces whatever entry `PATH` was, a link included, without writing through it.
    """
    if path == "-":
        events, size = write_jsonl(stream, sys.stdout.buffer.write)
        sys.stdout.buffer.flush()
        return _summary(events, size, stream, path)
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    with open(_create_partial(partial), "wb", buffering=_BUFFER_BYTES) as raw:
        if target.suffix == ".gz":
            with gzip.GzipFile(
                filename=target.stem, mode="wb", fileobj=raw, compresslevel=OUTPUT_GZIP_LEVEL
            ) as packed:
                events, _ = write_jsonl(stream, packed.write)
        else:
            events, _ = write_jsonl(stream, raw.write)
    os.replace(partial, target)
    return _summary(events, target.stat().st_size, stream, path)


def _create_partial(partial: Path) -> int:
    """A new file at `partial`, never following a link: an old regular file there is replaced.

    Raises:
        InputError: `partial` is a symbolic link or not a regular file (its target is untouched).
    """
    try:
        info = os.lstat(partial)
    except FileNotFoundError:
        info = None
    if info is not None:
        if not stat.S_ISREG(info.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
            raise InputError(
                "--output",
                [
                    InputProblem(
                        "output",
                        "--output",
                        f"{partial} is {kind}; refusing to write through it (remove it first)",
                    )
                ],
            )
        os.unlink(partial)  # left by an earlier run that failed
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        return os.open(partial, flags | getattr(os, "O_CLOEXEC", 0), 0o666)
    except OSError as exc:
        problem = f"cannot create {partial}: {exc.strerror or type(exc).__name__}"
        raise InputError("--output", [InputProblem("output", "--output", problem)]) from None


def _summary(events: int, size: int, stream: RecordStream, path: str) -> dict[str, Any]:
    return {
        "events": events,
        "bytes": size,
        "days": stream.stats.days,
        "resumed_cuts": stream.stats.cuts,
        "output": path,
    }
