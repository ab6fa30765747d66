"""Streams an action's records from files for the CLI's --input-file, reporting progress."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any

from ..catalog.spec import OperationSpec
from ..core.progress import Progress, open_progress
from .reader import MAX_RECORD_BYTES, OPTION, problem, read_records
from .reader import Counting as _Counting  # the name this module's callers know
from .sources import FORMATS, format_of, open_source, shown_source
from .tables import check_columns

__all__ = [
    "MAX_RECORD_BYTES",
    "OPTION",
    "input_files",
    "parse_specs",
    "read_file",
    "read_records",
]


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
            raise problem(item, f"expected KEY=PATH (for {op.key}: {batchable or 'none'}=PATH)")
        if key != batchable:
            takes = f"takes its records in `{batchable}`" if batchable else "takes no records"
            raise problem(key, f"{op.key} {takes}; {key!r} cannot be read from a file")
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
        raise problem(input_format, f"--input-format is one of {', '.join(FORMATS)}")
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
