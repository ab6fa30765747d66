"""Records from tables: CSV and TSV typed by declared columns, Parquet through pyarrow.

A table's cells are text; a declaration (`columns`: column name -> type) says which become
numbers, booleans or JSON, never a guess from the cell. A dotted column name
(`properties.city`) puts its value into a nested object. An empty cell of a typed column is
left out of its record. Parquet files carry their own types; timestamps become ISO 8601 text
in UTC, dates `YYYY-MM-DD`, decimals numbers.
"""

from __future__ import annotations

import base64
import codecs
import csv
import datetime as dt
import decimal
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

import orjson

from ..core.paths import put
from ..core.values import parse_bool, parse_int, show
from ..errors import InputError, InputProblem

__all__ = ["COLUMN_TYPES", "MAX_ROW_GROUP_BYTES", "check_columns", "read_delimited", "read_parquet"]


def _number(text: str) -> float | int:
    number = float(text)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"expected a finite number, got {show(text)}")
    return (
        int(number)
        if number.is_integer() and "." not in text and "e" not in text.lower()
        else number
    )


def _json(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg}") from None


#: What each declared column type makes of a cell's text.
COLUMN_TYPES: dict[str, Callable[[str], Any]] = {
    "string": str,
    "integer": parse_int,
    "number": _number,
    "boolean": parse_bool,
    "json": _json,
}
#: The largest row group read from a Parquet file, uncompressed (pyarrow holds one whole).
MAX_ROW_GROUP_BYTES = 256 << 20
#: Rows converted to records at a time from a Parquet row group.
PARQUET_BATCH_ROWS = 1000


def _problem(key: str, option: str, message: str) -> InputError:
    return InputError(option, [InputProblem(key, option, message)])


def check_columns(columns: Any, option: str = "--columns") -> dict[str, str]:
    """The declared `column: type` pairs, checked: every type one of COLUMN_TYPES."""
    if columns is None:
        return {}
    if not isinstance(columns, Mapping):
        raise _problem(option, option, "expected a mapping of column name to type")
    checked: dict[str, str] = {}
    for name, kind in columns.items():
        if kind not in COLUMN_TYPES:
            valid = ", ".join(COLUMN_TYPES)
            raise _problem(f"{option}.{name}", option, f"type {show(kind)} is not one of {valid}")
        checked[str(name)] = str(kind)
    return checked


def _text_lines(
    lines: Iterator[bytes | None], on_too_long: Callable[[], InputError]
) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    for line in lines:
        if line is None:
            raise on_too_long()
        yield decoder.decode(line) + "\n"


def read_delimited(
    lines: Iterator[bytes | None],
    key: str,
    where: str,
    *,
    delimiter: str,
    columns: Mapping[str, str],
    on_too_long: Callable[[int], InputError],
) -> Iterator[dict[str, Any]]:
    """The rows of a CSV or TSV file after its header line, as records typed by `columns`.

    `lines` are the file's lines without their ends (None: a line past the size cap). A
    declared column missing from the header is an error, so a misspelled name is not
    silently read as text.
    """
    index = 0
    reader = csv.reader(_text_lines(lines, lambda: on_too_long(index)), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            return
        missing = [name for name in columns if name not in header]
        if missing:
            found = ", ".join(header[:20])
            raise _problem(
                key,
                key,
                f"{where}: declared column(s) {', '.join(missing)} not in "
                f"the header line ({found})",
            )
        plan = [
            (
                column,
                tuple(column.split(".")),
                COLUMN_TYPES[columns.get(column, "string")],
                column in columns and columns[column] != "string",
            )
            for column in header
        ]
        for row in reader:
            if not row or row == [""]:
                continue
            if len(row) != len(plan):
                raise _problem(
                    f"{key}[{index}]",
                    key,
                    f"{where}, line {reader.line_num}: "
                    f"{len(row)} cells where the header has {len(plan)}",
                )
            record: dict[str, Any] = {}
            for (column, keys, convert, typed), cell in zip(plan, row, strict=True):
                if typed and cell == "":
                    continue
                try:
                    value = convert(cell)
                except ValueError as exc:
                    raise _problem(
                        f"{key}[{index}].{column}",
                        key,
                        f"{where}, line {reader.line_num}, column {column}: {exc}",
                    ) from None
                put(record, keys, value)
            yield record
            index += 1
    except csv.Error as exc:
        raise _problem(f"{key}[{index}]", key, f"{where}, line {reader.line_num}: {exc}") from None
    except UnicodeDecodeError:
        raise _problem(f"{key}[{index}]", key, f"{where}: not UTF-8 text") from None


def _plain(value: Any) -> Any:
    """A Parquet value as JSON has it."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):  # a map column: a list of (key, value) pairs
        return [_plain(v) for v in value]
    return value


def _spooled(stream: Any) -> Any:
    """A temporary copy of `stream` that seeks (of standard input, of a gunzipped file)."""
    spool = tempfile.TemporaryFile()
    shutil.copyfileobj(stream, spool, 1 << 20)
    spool.seek(0)
    return spool


def read_parquet(
    stream: IO[bytes], key: str, where: str, *, columns: Mapping[str, str], seekable: bool
) -> Iterator[dict[str, Any]]:
    """The rows of a Parquet file, a thousand at a time; `columns` may only cast to text.

    A stream that cannot seek (`seekable` false) is first copied to a temporary file.
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise _problem(
            key,
            key,
            f"{where}: reading Parquet needs pyarrow: pip install 'mixpanel-connector[parquet]'",
        ) from None
    source = stream if seekable else _spooled(stream)
    try:
        try:
            parquet = pq.ParquetFile(source)
        except Exception as exc:  # pyarrow's ArrowInvalid and friends: not a Parquet file
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise _problem(key, key, f"{where}: not a Parquet file ({reason})") from None
        meta = parquet.metadata
        for group in range(meta.num_row_groups):
            size = meta.row_group(group).total_byte_size
            if size > MAX_ROW_GROUP_BYTES:
                raise _problem(
                    key,
                    key,
                    f"{where}: row group {group} holds {size >> 20} MB "
                    f"uncompressed, more than {MAX_ROW_GROUP_BYTES >> 20} MB; refused",
                )
        cast = [c for c, kind in columns.items() if kind == "string"]
        index = 0
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                record = {name: _plain(value) for name, value in row.items()}
                for name in cast:
                    if record.get(name) is not None:
                        record[name] = str(record[name])
                nested: dict[str, Any] = {}
                for name, value in record.items():
                    if value is not None:  # Parquet's null is JSON's absent key
                        put(nested, tuple(name.split(".")), value)
                yield nested
                index += 1
    finally:
        if not seekable:
            source.close()
