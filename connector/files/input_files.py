"""Streams an action's records from files for the CLI's --input-file, reporting progress."""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

import ijson
import orjson

from ..catalog.spec import OperationSpec
from ..core.jsondepth import MAX_JSON_DEPTH, DepthGuard, check_depth
from ..core.progress import Progress, open_progress
from ..errors import InputError, InputProblem, JSONTooDeep, RecordTooLarge
from .json_position import GZIP_MAGIC, array_error, line_error
from .sources import FORMATS, format_of, open_source, shown_source
from .tables import check_columns, read_delimited, read_parquet

OPTION = "--input-file"


class _Counting(io.RawIOBase):
    """A binary stream that counts the bytes read through it (for the progress bar)."""

    def __init__(self, inner: IO[bytes]) -> None:
        self.inner = inner
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.count += size
        return size


def _problem(key: str, message: str) -> InputError:
    return InputError(OPTION, [InputProblem(key, OPTION, message)])


#: The largest record (a JSON-lines line, an array item) read from a file, once decompressed:
#: a gzip bomb of one endless line fails at this size with the record's index, not MemoryError.
MAX_RECORD_BYTES = 16 << 20


#: What the JSON parser reads ahead at a time, allowed on top of a record's own size.
_LOOKAHEAD = 2 * 64 * 1024


class _Window(_Counting):
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
    return _problem(
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
    return _problem(
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
            raise _problem(key, array_error(exc, where, count, reopen)) from None
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
                raise _problem(key, line_error(exc, line, where, number)) from None
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


def _progress(records: Iterator[Any], counter: _Counting, progress: Progress) -> Iterator[Any]:
    """Report the records read and the MB read so far, every thousand records and at the end."""
    number = 0
    for number, record in enumerate(records, 1):
        yield record
        if number % 1000 == 0:
            progress.update({"records": number, "mb": counter.count / 1e6})
    progress.update({"records": number, "mb": counter.count / 1e6})


def parse_specs(items: Sequence[str], op: OperationSpec) -> dict[str, str]:
    """KEY=PATH pairs, each naming the input the action takes its records in."""
    batchable = (op.batch or {}).get("input")
    pairs: dict[str, str] = {}
    for item in items:
        key, sep, path = item.partition("=")
        key = key.strip()
        if not sep or not key or not path:
            raise _problem(item, f"expected KEY=PATH (for {op.key}: {batchable or 'none'}=PATH)")
        if key != batchable:
            takes = f"takes its records in `{batchable}`" if batchable else "takes no records"
            raise _problem(key, f"{op.key} {takes}; {key!r} cannot be read from a file")
        pairs[key] = path
    return pairs


@contextlib.contextmanager
def read_file(
    path: str,
    *,
    key: str = "records",
    input_format: str = "auto",
    columns: Mapping[str, Any] | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[Iterator[Any]]:
    """The records of the file at `path` (`-`: standard input; a URL: fsspec), read lazily.

    `input_format` is one of FORMATS (`auto`: from the file's name); `columns` types a CSV or
    TSV file's columns (see tables.py). Messages name `key` and the file, never its content.
    The file is closed when the block ends.
    """
    with _opened(path, key, input_format, columns, stdin) as (records, _):
        yield records


@contextlib.contextmanager
def _opened(
    path: str,
    key: str,
    input_format: str,
    columns: Mapping[str, Any] | None,
    stdin: IO[bytes] | None,
) -> Iterator[tuple[Iterator[Any], _Counting]]:
    if input_format not in FORMATS:
        raise _problem(input_format, f"--input-format is one of {', '.join(FORMATS)}")
    declared = check_columns(columns)
    reopen: Callable[[], IO[bytes]] | None = None
    if path == "-":
        raw: IO[bytes] = stdin if stdin is not None else sys.stdin.buffer
    else:
        raw, reopen = open_source(key, path)
    try:
        counter = _Counting(raw)
        fmt = format_of(path, input_format)
        where = shown_source(path)
        yield read_records(counter, key, where, reopen, fmt=fmt, columns=declared), counter
    finally:
        if path != "-":
            raw.close()


@contextlib.contextmanager
def input_files(
    op: OperationSpec,
    items: Sequence[str],
    *,
    quiet: bool = False,
    stdin: IO[bytes] | None = None,
    stderr: Any = None,
    progress: Progress | None = None,
    input_format: str = "auto",
    columns: Mapping[str, Any] | None = None,
) -> Iterator[Mapping[str, Iterator[Any]]]:
    """Open each KEY=PATH (`-`: standard input; a URL: fsspec) as a lazy iterator of records.

    `input_format` is one of FORMATS (`auto`: from the file's name); `columns` types a CSV or
    TSV file's columns. The records and MB read go to `progress`; without one, to a bar on
    `stderr` when it is a terminal, else to a log line every ten seconds (see modes.progress),
    unless `quiet`. Files are closed when the block ends.
    """
    stderr = stderr if stderr is not None else sys.stderr
    check_columns(columns)
    with contextlib.ExitStack() as stack:
        if progress is None:
            own = open_progress(op.key, quiet=quiet, stream=stderr)
            stack.callback(own.close)
            progress = own
        opened: dict[str, Iterator[Any]] = {}
        for key, path in parse_specs(items, op).items():
            records, counter = stack.enter_context(_opened(path, key, input_format, columns, stdin))
            opened[key] = _progress(records, counter, progress)
        yield opened
