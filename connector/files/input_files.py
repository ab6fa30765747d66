"""Streams an action's records from files for the CLI's --input-file, with a progress bar."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, cast

import ijson
import orjson
from tqdm import tqdm

from ..catalog.spec import OperationSpec
from ..errors import InputError, InputProblem
from .json_position import error_position

GZIP_MAGIC = b"\x1f\x8b"
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


def read_records(
    raw: io.RawIOBase,
    key: str,
    where: str,
    reopen: Callable[[], IO[bytes]] | None = None,
) -> Iterator[Any]:
    """The records of a JSON array or JSON-lines stream (gzip is detected), one at a time.

    Errors name `where` with the line and column, never the content; `reopen` (a file's) lets
    a broken array be read again to find the position.
    """
    buffered: Any = io.BufferedReader(raw)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        buffered = gzip.GzipFile(fileobj=buffered)
    head = buffered.peek(64).lstrip()
    while not head and buffered.peek(1):  # leading whitespace longer than the peek
        buffered.read(64)
        head = buffered.peek(64).lstrip()
    if head[:1] == b"[":
        count = 0
        try:
            for item in ijson.items(buffered, "item", use_float=True):
                yield item
                count += 1
        except ijson.JSONError as exc:
            raise _problem(key, array_error(exc, where, count, reopen)) from None
        return
    for number, line in enumerate(buffered, 1):
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise _problem(key, line_error(exc, line, where, number)) from None


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
                position = error_position(_unpacked(again), item)
    at = f", line {position[0]}, column {position[1]}" if position else ""
    return f"{where}{at} (item [{index}] of the array): not valid JSON: {reason}"


def _unpacked(stream: IO[bytes]) -> IO[bytes]:
    """A reopened file, gunzipped when it is gzip."""
    magic = stream.read(2)
    stream.seek(0)
    return cast(IO[bytes], gzip.GzipFile(fileobj=stream)) if magic == GZIP_MAGIC else stream


def _opener(path: Path) -> Callable[[], IO[bytes]]:
    return lambda: path.open("rb")


def _progress(records: Iterator[Any], counter: _Counting, label: str, stream: Any) -> Iterator[Any]:
    """Count records past a tqdm bar: records, records/s and the MB read so far."""
    number = 0
    with tqdm(
        desc=label, unit=" records", unit_scale=True, file=stream, mininterval=0.5, leave=True
    ) as bar:
        for number, record in enumerate(records, 1):
            yield record
            if number % 1000 == 0:
                bar.update(1000)
                bar.set_postfix_str(f"{counter.count / 1e6:.1f} MB", refresh=False)
        bar.update(number - bar.n)
        bar.set_postfix_str(f"{counter.count / 1e6:.1f} MB")


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
def input_files(
    op: OperationSpec,
    items: Sequence[str],
    *,
    quiet: bool = False,
    stdin: IO[bytes] | None = None,
    stderr: Any = None,
) -> Iterator[Mapping[str, Iterator[Any]]]:
    """Open each KEY=PATH (`-`: standard input) as a lazy iterator of records.

    A progress bar (records, MB read, records/s) goes to `stderr` only when it is a terminal
    and `quiet` is off. Files are closed when the block ends.
    """
    stderr = stderr if stderr is not None else sys.stderr
    show = not quiet and bool(getattr(stderr, "isatty", lambda: False)())
    with contextlib.ExitStack() as stack:
        opened: dict[str, Iterator[Any]] = {}
        for key, path in parse_specs(items, op).items():
            if path == "-":
                raw: IO[bytes] = stdin if stdin is not None else sys.stdin.buffer
                where = "standard input"
            else:
                try:
                    raw = stack.enter_context(Path(path).open("rb"))
                except OSError as exc:
                    raise _problem(key, f"cannot read {path}: {exc.strerror or exc}") from None
                where = path
            counter = _Counting(raw)
            reopen = None if path == "-" else _opener(Path(path))
            records = read_records(counter, key, where, reopen)
            opened[key] = _progress(records, counter, key, stderr) if show else records
        yield opened
