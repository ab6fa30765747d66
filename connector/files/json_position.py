"""Where a JSON array file stops being valid: the line and column, found only after a failure.

The streaming parser says what is wrong but not where (its message quotes the file instead,
which can hold secrets). This second pass finds the failing item by counting the array's
top-level commas, then lets `json` find the exact position inside that item.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import Callable, Iterator
from typing import IO, cast

import orjson

GZIP_MAGIC = b"\x1f\x8b"

#: How much of the failing item is handed to `json` to find the position.
MAX_ITEM_BYTES = 4 * 1024 * 1024
_CHUNK = 256 * 1024
_SPACE = b" \t\r\n"


def _bytes(stream: IO[bytes]) -> Iterator[int]:
    while chunk := stream.read(_CHUNK):
        yield from chunk


def _item_start(data: Iterator[int], index: int) -> tuple[int, int, bytearray] | None:
    """(line, column) where item `index` starts and the bytes after it, or None if not found."""
    line, column, depth, commas = 1, 0, 0, 0
    in_string = escaped = False
    for byte in data:
        column += 1
        if byte == 0x0A:
            line, column = line + 1, 0
        if in_string:
            escaped, in_string = (False, True) if escaped else (byte == 0x5C, byte != 0x22)
            continue
        if depth == 1 and commas == index and byte not in _SPACE and byte not in b",]":
            first = bytearray([byte])
            for rest in data:
                first.append(rest)
                if len(first) >= MAX_ITEM_BYTES:
                    break
            return line, column, first
        if byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
        elif byte in b"]}":
            depth -= 1
        elif byte == 0x2C and depth == 1:
            commas += 1
    return None


def _advance(line: int, column: int, text: str) -> tuple[int, int]:
    """The position reached after `text`, starting at (line, column) of its first character."""
    breaks = text.count("\n")
    if not breaks:
        return line, column + len(text)
    return line + breaks, len(text) - text.rfind("\n")


def error_position(stream: IO[bytes], index: int) -> tuple[int, int] | None:
    """1-based (line, column) of the first error at or after item `index` of a JSON array."""
    found = _item_start(_bytes(stream), index)
    if found is None:
        return None
    line, column, item = found
    text = item.decode("utf-8", errors="replace")
    try:
        _, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError as exc:
        return _advance(line, column, text[: exc.pos])
    after = len(text[end:]) - len(text[end:].lstrip())
    return _advance(line, column, text[: end + after])


def line_error(exc: orjson.JSONDecodeError, line: bytes, where: str, number: int) -> str:
    """The message of a broken JSON line: file, line and column, the parser's reason."""
    column, reason = exc.colno, exc.msg
    try:  # json's positions and reasons are the more precise ones; it runs only on failure
        json.loads(line.rstrip(b"\r\n"))
    except ValueError as again:
        if isinstance(again, json.JSONDecodeError):
            column, reason = again.colno, again.msg
    return f"{where}, line {number}, column {column}: not valid JSON: {reason}"


def array_error(
    exc: Exception, where: str, index: int, reopen: Callable[[], IO[bytes]] | None
) -> str:
    """The message of a broken JSON array: file, line and column, the parser's reason.

    The streaming parser's message quotes the file around the error; only its first line, the
    reason, is kept. The position comes from a second pass over the file when it can be
    reopened (not standard input).
    """
    reason = (str(exc).splitlines() or ["unreadable"])[0].strip()
    position = None
    # The item being read, else the one before it (when a comma is missing after it).
    for item in (index, index - 1):
        if reopen is not None and position is None and item >= 0:
            with contextlib.suppress(OSError, EOFError, gzip.BadGzipFile), reopen() as again:
                position = error_position(unpacked(again), item)
    at = f", line {position[0]}, column {position[1]}" if position else ""
    return f"{where}{at} (item [{index}] of the array): not valid JSON: {reason}"


def unpacked(stream: IO[bytes]) -> IO[bytes]:
    """A reopened file, gunzipped when it is gzip."""
    magic = stream.read(2)
    stream.seek(0)
    return cast(IO[bytes], gzip.GzipFile(fileobj=stream)) if magic == GZIP_MAGIC else stream
