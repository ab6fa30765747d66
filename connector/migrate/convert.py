"""Another tool's export read through a mapping (and transforms): records ready to import."""

from __future__ import annotations

import contextlib
import gzip
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, InputProblem
from ..files.input_files import read_file
from ..files.output import write_jsonl
from .mapping import MappingError, RecordMapping
from .specs import load_layout, load_mappings
from .transforms import Transforms

__all__ = ["convert_file", "find_mapping", "mapped", "open_mapped"]


def find_mapping(key: str, overlays: Sequence[Path | str] | None = None) -> RecordMapping:
    """The mapping `key` (shipped or from an overlay); InputError lists the known ones."""
    mappings = load_mappings(overlays)
    if key not in mappings:
        known = ", ".join(sorted(mappings)) or "none"
        problem = InputProblem("mapping", "mapping", f"no mapping {key!r} (known: {known})")
        raise InputError("mapping", [problem])
    return mappings[key]


def mapped(
    records: Iterable[Any],
    mapping: RecordMapping,
    transforms: Transforms | None = None,
    stats: dict[str, int] | None = None,
    key: str = "records",
) -> Iterator[Any]:
    """`records` mapped, then transformed (events only); a bad field is an InputError by path."""
    out = mapping.map_all(records, stats)
    if transforms is not None and transforms.active and mapping.makes == "events":
        out = transforms.apply_all(out)
    try:
        yield from out
    except MappingError as exc:
        message = str(exc).split(": ", 1)[1]
        raise InputError(key, [InputProblem(f"{key}{exc.path}", key, message)]) from None


@contextlib.contextmanager
def open_mapped(
    path: str,
    mapping: str | RecordMapping,
    *,
    transforms: Mapping[str, Any] | None = None,
    overlays: Sequence[Path | str] | None = None,
    input_format: str = "auto",
    columns: Mapping[str, Any] | None = None,
    stats: dict[str, int] | None = None,
) -> Iterator[Iterator[Any]]:
    """The records of the export file at `path`, mapped and transformed, read lazily.

    The file's format is `input_format`, else its name's, else the mapping's `format`.
    """
    chosen = mapping if isinstance(mapping, RecordMapping) else find_mapping(mapping, overlays)
    checked = Transforms.checked(transforms, load_layout(overlays).events) if transforms else None
    fmt = input_format
    if fmt == "auto" and not _named_format(path):
        fmt = chosen.format
    with read_file(path, input_format=fmt, columns=columns or chosen.columns or None) as records:
        yield mapped(records, chosen, checked, stats)


def _named_format(path: str) -> bool:
    name = path.lower().removesuffix(".gz")
    return name.endswith((".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".tab", ".parquet", ".pq"))


def convert_file(
    path: str,
    mapping: str | RecordMapping,
    output: str,
    **options: Any,
) -> dict[str, Any]:
    """Write the mapped records of `path` to `output` as JSON lines (`.gz`: gzip; `-`: stdout).

    `options` are `open_mapped`'s. Returns the counts: records read, written, left out.
    """
    stats: dict[str, int] = {}
    with open_mapped(path, mapping, stats=stats, **options) as records:
        if output == "-":
            written, size = write_jsonl(records, sys.stdout.buffer.write)
            sys.stdout.flush()
        else:
            target = Path(output)
            partial = target.with_name(target.name + ".partial")
            opener: Any = gzip.open if target.suffix == ".gz" else open
            with opener(partial, "wb") as out:
                written, size = write_jsonl(records, out.write)
            partial.replace(target)
    return {
        "written": written,
        "skipped": stats.get("skipped", 0),
        "bytes": size,
        "output": output,
    }
