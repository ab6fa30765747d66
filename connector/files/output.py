"""Writes an action's streamed records to a JSON-lines file (gzip for `.gz`) and sums it up."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

from ..errors import InputError, InputProblem
from ..modes.streamed import RecordStream
from .resume import OUTPUT_GZIP_LEVEL, ExportFile

__all__ = ["OUTPUT_GZIP_LEVEL", "write_jsonl", "write_stream"]


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
    windows and the days they cover, requests, and resumed cuts.

    The file appears under its name only when the export is complete: windows are appended
    to `PATH.partial` as each completes, and `PATH.partial.json` lists them. After a crash or
    an error, the same export run again keeps those windows whose bytes it verifies and
    fetches only the others (see connector.files.resume); an export with other inputs, or to
    another server or with another credential, starts over and says why (`started_over`).
    One run at a time writes `path` (StateError for a second).

    A link at `PATH.partial` is refused (its target is untouched), and the finished file
    replaces whatever entry `PATH` was, a link included, without writing through it.
    """
    if path == "-":
        events, size = write_jsonl(stream, sys.stdout.buffer.write)
        sys.stdout.buffer.flush()
        return _summary(events, size, stream, path)
    scope = stream.scope() if stream.scope is not None else None
    export = ExportFile(Path(path), stream.identity, scope=scope, bounds=stream.bounds)
    _refuse_a_link(export.partial)
    kept = export.open()
    try:
        stream.skip(kept)
        for window, buffer in stream.windows():
            try:
                export.keep(window, buffer.file, buffer.count)
            finally:
                buffer.close()
        size = export.finish()
    finally:
        export.close()
    summary = _summary(export.records, size, stream, path)
    if export.refetched:
        summary["windows_refetched"] = export.refetched
    if export.started_over:
        summary["started_over"] = export.started_over
    return summary


def _refuse_a_link(partial: Path) -> None:
    """Raise InputError when `partial` exists and is a link or not a regular file."""
    try:
        info = os.lstat(partial)
    except FileNotFoundError:
        return
    if not stat.S_ISREG(info.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
        problem = f"{partial} is {kind}; refusing to write through it (remove it first)"
        raise InputError("--output", [InputProblem("output", "--output", problem)])


def _summary(events: int, size: int, stream: RecordStream, path: str) -> dict[str, Any]:
    stats = stream.stats
    summary: dict[str, Any] = {
        "events": events,
        "bytes": size,
        "days": stats.days,
        "windows": stats.windows + stats.kept,
        "requests": stats.requests,
        "resumed_cuts": stats.cuts,
    }
    if stats.kept:
        summary["windows_kept"] = stats.kept
    if stats.halved:
        summary["windows_halved"] = stats.halved
    summary["output"] = path
    return summary
