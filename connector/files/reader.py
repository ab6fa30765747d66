"""Reads the records of a byte stream: a JSON array or lines, CSV, TSV or Parquet, gzip or not."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import ijson
import orjson

from ..core.jsondepth import MAX_JSON_DEPTH, DepthGuard, check_depth
from ..errors import InputError, InputProblem, JSONTooDeep, RecordTooLarge
from .json_position import GZIP_MAGIC, array_error, line_error
from .tables import read_delimited, read_parquet

__all__ = ["MAX_RECORD_BYTES", "OPTION", "Counting", "problem", "read_records"]

OPTION = "--input-file"


class Counting(io.RawIOBase):
    """A binary stream that counts the bytes read through it (for the progress bar)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        """True: this stream is read from."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Read into `buffer` from the inner stream, counting the bytes."""
        data = self.inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


def problem(key: str, message: str) -> InputError:
    """The InputError of the file option, at `key` (a record: `KEY[INDEX]`)."""
    return InputError(OPTION, [InputProblem(key, OPTION, message)])


#: The largest record (a JSON-lines line, an array item) read from a file, once decompressed:
#: a gzip bomb of one endless line fails at this size with the record's index, not MemoryError.
MAX_RECORD_BYTES = 16 << 20


#: What the JSON parser reads ahead at a time, allowed on top of a record's own size.
_LOOKAHEAD = 2 * 64 * 1024


class _Window(Counting):
    """Counts the bytes read since `since` was set to 0; past `limit`, raises RecordTooLarge.

    Every byte also goes through a DepthGuard before the parser sees it: the parser keeps a
    prefix per open level (memory quadratic in the depth), so nesting past `depth` (the array
    itself counts one) raises JSONTooDeep while both are still small.
    """

    def __init__(self, inner: Any, limit: int, depth: int) -> None:
        super().__init__(inner)
        self.limit, self.since = limit, 0
        self.guard = DepthGuard(depth)

    def readinto(self, buffer: Any) -> int:
        size = super().readinto(buffer)
        self.since += size
        if self.since > self.limit:
            raise RecordTooLarge
        if size and self.guard.feed(bytes(buffer[:size])):
            raise JSONTooDeep("", self.guard.limit - 1)
        return size


def _too_large(key: str, where: str, index: int, limit: int, line: int | None = None) -> InputError:
    at = f" (line {line})" if line is not None else ""
    size = f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit} bytes"
    return problem(
        f"{key}[{index}]",
        f"record {index}{at} of {where} is larger than {size} once decompressed; refused",
    )


def _too_deep(
    key: str,
    where: str,
    index: int,
    limit: int,
    line: int | None = None,
    path: str = "",
    *,
    after: bool = False,
) -> InputError:
    at = f" (line {line})" if line is not None else ""
    inside = f" at {key}[{index}].{path}".replace(".[", "[") if path else ""
    which = f"a record at or after record {index}" if after else f"record {index}{at}"
    return problem(
        f"{key}[{index}]",
        f"{which} of {where} nests objects and arrays deeper than {limit} levels{inside}; refused",
    )


def _unpacked(raw: io.RawIOBase) -> Any:
    """`raw` buffered, and gunzipped when it starts as gzip does."""
    buffered: Any = io.BufferedReader(raw)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        buffered = gzip.GzipFile(fileobj=buffered)
    return buffered


def _seeks(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.seekable()) and stream.tell() == 0
    except (OSError, ValueError, AttributeError):
        return False


def read_records(
    raw: io.RawIOBase,
    key: str,
    where: str,
    reopen: Callable[[], IO[bytes]] | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
    *,
    fmt: str = "json",
    columns: Mapping[str, str] | None = None,
) -> Iterator[Any]:
    """The records of a stream in format `fmt` (gzip is detected), one at a time.

    `json` and `jsonl` read a JSON array or JSON lines, whichever the stream holds; `csv` and
    `tsv` a header line and rows typed by `columns` (see tables.py); `parquet` a Parquet file.
    A record larger than `max_record_bytes` (decompressed), or nesting objects and arrays
    deeper than `max_depth`, is an InputError naming its index; memory stays linear in the
    file's size whatever its nesting.
    Errors name `where` with the line and column, never the content; `reopen` (a file's) lets
    a broken array be read again to find the position.
    """
    buffered = _unpacked(raw)
    if fmt == "parquet":  # read by seeking: the file itself when it can, else a copy
        inner: Any = getattr(raw, "inner", None)
        direct = not isinstance(buffered, gzip.GzipFile) and _seeks(inner)
        source = inner if direct else buffered
        yield from read_parquet(source, key, where, columns=columns or {}, seekable=direct)
        return
    if fmt in ("csv", "tsv"):
        yield from read_delimited(
            _lines(buffered, max_record_bytes),
            key,
            where,
            delimiter="," if fmt == "csv" else "\t",
            columns=columns or {},
            on_too_long=lambda index: _too_large(key, where, index, max_record_bytes),
        )
        return
    head = buffered.peek(64).lstrip()
    while not head and buffered.peek(1):  # leading whitespace longer than the peek
        buffered.read(64)
        head = buffered.peek(64).lstrip()
    if head[:1] == b"[":
        window = _Window(buffered, max_record_bytes + _LOOKAHEAD, max_depth + 1)
        count = 0
        try:
            for item in ijson.items(window, "item", use_float=True):
                window.since = 0
                yield item
                count += 1
        except RecordTooLarge:
            raise _too_large(key, where, count, max_record_bytes) from None
        except JSONTooDeep:
            raise _too_deep(key, where, count, max_depth, after=True) from None
        except ijson.JSONError as exc:
            raise problem(key, array_error(exc, where, count, reopen)) from None
        return
    index = number = 0
    for line in _lines(buffered, max_record_bytes):
        number += 1
        if line is None:
            raise _too_large(key, where, index, max_record_bytes, number)
        if line.strip():
            if len(line) > 2 * max_depth:
                try:
                    check_depth(line, max_depth)
                except JSONTooDeep as exc:
                    raise _too_deep(key, where, index, max_depth, number, exc.path) from None
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise problem(key, line_error(exc, line, where, number)) from None
            index += 1


def _lines(stream: Any, limit: int) -> Iterator[bytes | None]:
    """The lines of `stream`, read a megabyte at a time; None for a line longer than `limit`."""
    pending: list[bytes] = []
    held = 0
    while chunk := stream.read(1 << 20):
        lines = chunk.split(b"\n")
        if len(lines) > 1:
            first = b"".join([*pending, lines[0]]) if pending else lines[0]
            if len(first) > limit:
                yield None
                return
            yield first
            for line in lines[1:-1]:
                if len(line) > limit:
                    yield None
                    return
                yield line
            pending, held = [], 0
        if len(lines[-1]) or len(lines) == 1:
            pending.append(lines[-1])
            held += len(lines[-1])
            if held > limit:
                yield None
                return
    if pending:
        yield b"".join(pending)
