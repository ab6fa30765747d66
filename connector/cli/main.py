"""The `mixpanel-connector` command: list, describe, run, validate and manifest."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ..catalog.layers import SPECS_ENV, overlay_paths
from ..catalog.load import check_specs, load_specs, specs_root
from ..catalog.spec import ConnectionSpec
from ..describe.editor import schema_dir
from ..describe.manifest import MANIFEST_SCHEMA_PATH, describe_operation, manifest
from ..describe.reference import render_reference, write_reference
from ..errors import ConnectorError, InputError, InputProblem
from ..files.input_files import input_files
from ..files.output import write_stream
from ..loading import load_component
from ..plugins import load_plugin, plugin_names

#: An export to a file is a batch job: it waits out the hourly rate budget instead of failing.
OUTPUT_RATE_WAIT_S = 3600.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mixpanel-connector",
        description="Run the actions and data sources declared in YAML specs.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log requests to stderr")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--specs",
        action="append",
        type=Path,
        metavar="DIR",
        help="an overlay folder laid out like specs/ (repeatable; default: "
        f"${SPECS_ENV}, a path-separator list)",
    )
    sub = _Subparsers(parser.add_subparsers(dest="command", required=True), common)
    sub.add_parser("list", help="list actions and data sources")
    describe = sub.add_parser("describe", help="show one action or data source")
    describe.add_argument("key")
    describe.add_argument("--json", action="store_true", help="print JSON")
    _add_run(sub)
    validate = sub.add_parser("validate", help="check every spec file, shipped and overlays")
    validate.add_argument(
        "--print-schema-path",
        action="store_true",
        help="print the folder of the specs' JSON schemas (for editors) and exit",
    )
    manifest_cmd = sub.add_parser("manifest", help="print the whole component as JSON")
    manifest_cmd.add_argument(
        "--schema", action="store_true", help="print the manifest's JSON Schema instead"
    )
    docs = sub.add_parser("docs", help="generate the Markdown reference of the loaded specs")
    docs.add_argument("--out", type=Path, metavar="DIR", help="write DIR/reference.md")
    docs.add_argument(
        "--check", action="store_true", help="with --out: exit 1 if DIR/reference.md differs"
    )
    for name in plugin_names():
        sub.add_parser(name, add_help=False, help=f"see `mixpanel-connector {name} --help`")
    return parser


def _add_run(sub: _Subparsers) -> None:
    """The `run` command and its options."""
    run = sub.add_parser("run", help="run an action (or fetch a data source)")
    run.add_argument("key")
    run.add_argument("--input", "-i", action="append", default=[], metavar="KEY=VALUE")
    run.add_argument("--inputs", metavar="FILE", help="a JSON or YAML file of inputs")
    run.add_argument(
        "--connection", metavar="FILE", help="a JSON or YAML file of connection fields"
    )
    run.add_argument("--dry-run", action="store_true", help="print the requests, send nothing")
    run.add_argument("--base-url", help="send requests to this scheme and host instead")
    run.add_argument(
        "--output",
        "-o",
        metavar="PATH",
        help="stream the records to PATH as JSON lines (.gz: gzip; -: stdout) and print a "
        "one-line JSON summary",
    )
    run.add_argument(
        "--sandbox", action="store_true", help="run against the local sandbox, not the real API"
    )
    run.add_argument(
        "--budgets",
        metavar="URL",
        help="where rate budgets live: sqlite:///PATH, redis://HOST:PORT/DB or memory",
    )
    run.add_argument(
        "--input-file",
        action="append",
        default=[],
        metavar="KEY=PATH",
        help="stream the records of input KEY from PATH: a JSON array or JSON lines (.gz read "
        "as gzip; -: stdin), never loaded whole; a progress bar shows on a terminal",
    )
    run.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    run.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="a batched action keeps exactly N requests in flight (default: as many as its spec "
        "allows, fewer while the API answers 429)",
    )


class _Subparsers:
    """Adds every subcommand with the options all of them share (--specs)."""

    def __init__(self, action: Any, common: argparse.ArgumentParser) -> None:
        self.action, self.common = action, common

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self.action.add_parser(
            name, parents=[self.common], **kwargs
        )
        return parser


def _overlays(args: argparse.Namespace) -> list[Path]:
    return overlay_paths(args.specs)


def _read_mapping(path: str, what: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(what, [InputProblem(what, what, f"cannot read {path}: {exc}")]) from None
    if not isinstance(data, dict):
        raise InputError(what, [InputProblem(what, what, f"{path} must hold a mapping")])
    return data


def _inputs(args: argparse.Namespace) -> dict[str, Any]:
    values = _read_mapping(args.inputs, "--inputs") if args.inputs else {}
    for item in args.input:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(args.key, [InputProblem(item, "--input", "expected KEY=VALUE")])
        values[key.strip()] = value
    return values


def _connection(args: argparse.Namespace, spec: ConnectionSpec) -> dict[str, Any]:
    """The --connection file, else each field from the variable its spec names (`env:`)."""
    if args.connection:
        return _read_mapping(args.connection, "--connection")
    return {f.key: os.environ[f.env] for f in spec.inputs if f.env and os.environ.get(f.env)}


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _run(args: argparse.Namespace) -> int:
    component = load_component(
        base_url=args.base_url,
        spec_paths=_overlays(args),
        sandbox=args.sandbox,
        budgets=args.budgets,
    )
    inputs, connection = _inputs(args), _connection(args, component.spec.connection)
    if args.input_file and args.key in component.spec.actions:
        op = component.spec.actions[args.key]
        figures: dict[str, Any] = {}
        with input_files(op, args.input_file, quiet=args.quiet, figures=figures) as files:
            if args.dry_run:
                _print(component.preview(args.key, {**inputs, **files}, connection))
            else:
                values = {**inputs, **files}
                progress = _Figures(figures)
                _print(
                    component.run(
                        args.key, values, connection, workers=args.workers, progress=progress
                    )
                )
        return 0
    if args.dry_run:
        _print(component.preview(args.key, inputs, connection))
    elif args.output:
        stream = component.iter(args.key, inputs, connection, rate_wait_s=OUTPUT_RATE_WAIT_S)
        summary = write_stream(stream, args.output)
        print(json.dumps(summary), file=sys.stderr if args.output == "-" else sys.stdout)
    elif args.key in component.spec.data_sources:
        _print(component.fetch(args.key, inputs, connection))
    else:
        _print(component.run(args.key, inputs, connection, workers=args.workers))
    return 0


class _Figures:
    """Keeps a run's latest figures where the progress bar reads them."""

    def __init__(self, figures: dict[str, Any]) -> None:
        self.figures = figures

    def update(self, figures: Mapping[str, float | int | str]) -> None:
        """Take the latest figures."""
        self.figures.update(figures)


def _validate(args: argparse.Namespace) -> int:
    if args.print_schema_path:
        print(schema_dir())
        return 0
    root, overlays = specs_root(), _overlays(args)
    component, problems = check_specs(root, overlays)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) found.", file=sys.stderr)
        return 1
    assert component is not None
    count = len(component.actions) + len(component.data_sources)
    print(
        f"OK: {count} specs in {', '.join(map(str, [root, *overlays]))} "
        f"({len(component.actions)} actions, {len(component.data_sources)} data sources)."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in plugin_names():  # a plugin's own command, e.g. `sandbox`
        return int(load_plugin(argv[0]).main(argv[1:]))
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "manifest" and args.schema:
            print(MANIFEST_SCHEMA_PATH.read_text(encoding="utf-8"), end="")
            return 0
        if args.command == "validate":
            return _validate(args)
        if args.command == "run":
            return _run(args)
        spec = load_specs(overlays=_overlays(args))
        if args.command == "list":
            for kind, table in (("action", spec.actions), ("data source", spec.data_sources)):
                for key, op in table.items():
                    print(f"{kind:<12} {key:<28} {op.label:<40} {op.source}")
        elif args.command == "describe":
            if args.key not in {**spec.actions, **spec.data_sources}:
                raise InputError(
                    args.key, [InputProblem("key", "KEY", f"no action or data source {args.key!r}")]
                )
            described = describe_operation(spec.operation(args.key))
            if args.json:
                _print(described)
            else:
                print(yaml.safe_dump(described, sort_keys=False, allow_unicode=True))
        elif args.command == "manifest":
            _print(manifest(spec))
        elif args.command == "docs":
            return write_reference(render_reference(spec), args.out, check=args.check)
        return 0
    except ConnectorError as exc:
        # One line, so a workflow log or a shell pipeline shows the whole error at once.
        text = "; ".join(line.strip(" -") for line in str(exc).splitlines() if line.strip())
        print(f"error: {text.replace(':;', ':', 1)}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 1


if __name__ == "__main__":
    sys.exit(main())
