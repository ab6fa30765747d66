"""The input file formats the readers know, by name (the readers themselves are in files/)."""

from __future__ import annotations

__all__ = ["FORMATS"]

#: The formats an input file may have; `auto` picks one from the name (JSON when unknown).
FORMATS = ("auto", "json", "jsonl", "csv", "tsv", "parquet")
