"""The `convert` plugin: another tool's export through a YAML mapping, as JSON lines to import."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cli.exits import EXIT_OK
from ..cli.mappings import read_mapping
from ..files.sources import FORMATS
from .convert import convert_file
from .specs import load_mappings

#: The command's line in `mixpanel-connector --help`.
SUMMARY = (
    "turn another tool's export (Amplitude, Segment, PostHog, Heap, GA4, or a mapping of "
    "your own) into events or profile updates to import"
)


def build_parser() -> argparse.ArgumentParser:
    """The command's options."""
    parser = argparse.ArgumentParser(
        prog="mixpanel-connector convert",
        description="Read an export file (JSON, JSON lines, CSV, TSV or Parquet, maybe gzip; a "
        "path, - for stdin, or a URL) through a mapping declared in YAML and write JSON lines "
        "that `run importEvents --input-file events=PATH` (or updateMultipleProfiles) imports. "
        "Prints a JSON summary on stderr.",
    )
    parser.add_argument("mapping", nargs="?", metavar="MAPPING", help="the mapping's key")
    parser.add_argument("input", nargs="?", metavar="INPUT", help="the export file")
    parser.add_argument(
        "--output", "-o", default="-", metavar="PATH", help="where to write (.gz: gzip; -: stdout)"
    )
    parser.add_argument("--list", action="store_true", help="list the mappings and exit")
    parser.add_argument(
        "--input-format", choices=FORMATS, default="auto", help="the input's format"
    )
    parser.add_argument("--columns", metavar="FILE", help="types of a CSV or TSV's columns")
    parser.add_argument(
        "--transforms", metavar="FILE", help="a JSON or YAML file of transforms for the events"
    )
    parser.add_argument(
        "--specs", action="append", type=Path, metavar="DIR", help="an overlay folder"
    )
    return parser


def main(argv: Sequence[str]) -> int:
    """Convert, or list the mappings."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.list:
        for key, mapping in sorted(load_mappings(args.specs).items()):
            print(f"{key:<20} {mapping.makes:<9} {mapping.label}")
        return EXIT_OK
    if not args.mapping or not args.input:
        parser.error("MAPPING and INPUT are required (--list shows the mappings)")
    options: dict[str, Any] = {"overlays": args.specs, "input_format": args.input_format}
    if args.columns:
        options["columns"] = read_mapping(args.columns, "--columns")
    if args.transforms:
        options["transforms"] = read_mapping(args.transforms, "--transforms")
    summary = convert_file(args.input, args.mapping, args.output, **options)
    print(json.dumps(summary), file=sys.stderr)
    return EXIT_OK
