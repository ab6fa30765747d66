"""Streams an action's records from files for the CLI's --input-file, with a progress bar."""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import ijson
import orjson
from tqdm import tqdm

from ..catalog.spec import OperationSpec
from ..errors import InputError, InputProblem

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


def read_records(raw: io.RawIOBase, key: str, where: str) -> Iterator[Any]:
    """The records of a JSON array or JSON-lines stream (gzip is detected), one at a time."""
    buffered: Any = io.BufferedReader(raw)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        buffered = gzip.GzipFile(fileobj=buffered)
    head = buffered.peek(64).lstrip()
    while not head and buffered.peek(1):  # leading whitespace longer than the peek
        buffered.read(64)
        head = buffered.peek(64).lstrip()
    if head[:1] == b"[":
        try:
            yield from ijson.items(buffered, "item", use_float=True)
        except ijson.JSONError as exc:
            raise _problem(key, f"{where} is not a valid JSON array: {str(exc)[:200]}") from None
        return
    for number, line in enumerate(buffered, 1):
        if line.strip():
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                message = f"{where} line {number} is not valid JSON ({str(exc)[:120]})"
                raise _problem(key, message) from None


def _progress(
    records: Iterator[Any],
    counter: _Counting,
    label: str,
    stream: Any,
    figures: Mapping[str, Any] | None = None,
) -> Iterator[Any]:
    """Count records past a tqdm bar: records, records/s, the MB read and the run's `figures`."""
    number = 0
    with tqdm(
        desc=label, unit=" records", unit_scale=True, file=stream, mininterval=0.5, leave=True
    ) as bar:
        for number, record in enumerate(records, 1):
            yield record
            if number % 1000 == 0:
                bar.update(1000)
                bar.set_postfix_str(_postfix(counter, figures), refresh=False)
        bar.update(number - bar.n)
        bar.set_postfix_str(_postfix(counter, figures))


def _postfix(counter: _Counting, figures: Mapping[str, Any] | None) -> str:
    """`12.3 MB, 16 in flight, 2 throttled`: what was read, then how the sending goes."""
    text = f"{counter.count / 1e6:.1f} MB"
    if figures and "concurrency" in figures:
        text += f", {figures['concurrency']} in flight, {figures.get('throttled', 0)} throttled"
    return text


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
    figures: Mapping[str, Any] | None = None,
) -> Iterator[Mapping[str, Iterator[Any]]]:
    """Open each KEY=PATH (`-`: standard input) as a lazy iterator of records.

    A progress bar (records, MB read, records/s, and the `figures` the run updates: requests
    in flight and throttled) goes to `stderr` only when it is a terminal and `quiet` is off.
    Files are closed when the block ends.
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
            records = read_records(counter, key, where)
            opened[key] = _progress(records, counter, key, stderr, figures) if show else records
        yield opened
