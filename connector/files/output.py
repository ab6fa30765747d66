"""Writes an action's streamed records to a JSON-lines file (gzip for `.gz`) and sums it up."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson

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
    an error, the same export run again keeps those windows and fetches only the others
    (see connector.files.resume); an export with other inputs starts over.
    """
    if path == "-":
        events, size = write_jsonl(stream, sys.stdout.buffer.write)
        sys.stdout.buffer.flush()
        return _summary(events, size, stream, path)
    export = ExportFile(Path(path), stream.identity)
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
    return _summary(export.records, size, stream, path)


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
