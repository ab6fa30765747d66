"""A `text/csv` body: rows encoded as CSV, CSV text as given, or a file streamed when sent."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core.values import is_missing

CSV_CONTENT_TYPE = "text/csv"


@dataclass(frozen=True)
class CSVFile:
    """A CSV file sent as the body, opened afresh for each attempt; `size` as stat() read it."""

    path: str
    size: int


def _header(rows: list[Any]) -> list[str]:
    """The columns of mapping rows: every key, in the order first seen."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(str(k) for k in row))
    return list(seen)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise ValueError("a cell holds an object or a list; give text or numbers")
    return value


def csv_bytes(rows: Any) -> bytes:
    """CSV text for `rows`: CSV text as given, lists (the first one the header) or mappings.

    Mappings get a header row of every key in the order first seen; a missing key is an
    empty cell. Lines end with a line feed.

    Raises:
        ValueError: rows that are neither all lists nor all mappings, or a cell that is not a
            scalar (named by its row, counted from 0).
    """
    if isinstance(rows, str):
        return rows.encode()
    if not isinstance(rows, list) or not rows:
        raise ValueError("give CSV text, or a non-empty list of rows (lists or objects)")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    mappings = all(isinstance(r, Mapping) for r in rows)
    if not mappings and not all(isinstance(r, list) for r in rows):
        raise ValueError("rows must be all lists (the first one the header) or all objects")
    columns = _header(rows) if mappings else []
    if mappings:
        writer.writerow(columns)
    for index, row in enumerate(rows):
        cells = [row.get(c) for c in columns] if mappings else row
        try:
            writer.writerow([_cell(v) for v in cells])
        except ValueError as exc:
            raise ValueError(f"[{index}]: {exc}") from None
    return out.getvalue().encode()


def csv_file(path: Any) -> CSVFile | None:
    """The file at `path` to stream as the body, with its size; None when `path` is empty.

    Raises:
        ValueError: the path is not a readable regular file.
    """
    if is_missing(path):
        return None
    text = os.fspath(str(path).strip())
    try:
        stat = os.stat(text)
    except OSError as exc:
        raise ValueError(f"cannot read the file: {exc.strerror or exc}") from None
    if not os.path.isfile(text) or not os.access(text, os.R_OK):
        raise ValueError("is not a readable file")
    return CSVFile(text, stat.st_size)
