"""The `mixpanel-connector` command: list, describe, run, validate, manifest, docs and plugins."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

import yaml

from ..catalog.load import check_specs, load_specs, specs_root
from ..core.values import closest
from ..errors import ConnectorError, InputError, InputProblem
from ..plugins import load_plugin
from .exits import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    guarded,
    report_error,
    report_unexpected,
)
from .parser import build_parser, split_plugin_command
from .run import CLI_ADVICE as CLI_ADVICE
from .run import RATE_WAIT_S as RATE_WAIT_S
from .run import dry_run_connection as dry_run_connection
from .run import print_json, run_command, spec_overlays, sync_command


def _validate(args: argparse.Namespace) -> int:
    if args.print_schema_path:
        from ..describe.editor import schema_dir

        print(schema_dir())
        return 0
    root, overlays = specs_root(), spec_overlays(args)
    component, problems = check_specs(
        root, overlays, allow_overlay_trust_widening=args.allow_overlay_trust_widening
    )
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


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )


def _plugin(argv: list[str]) -> int | None:
    """Run a plugin's own command (e.g. `sandbox`), global options before or after it."""
    split = split_plugin_command(argv)
    if split is None:
        return None
    given, name, rest = split
    if any(t.split("=", 1)[0] == "--specs" for t in given):
        print(f"error: --specs does not apply to `{name}`", file=sys.stderr)
        return EXIT_BAD_INPUT
    _configure_logging(verbose=bool(given))
    return int(load_plugin(name).main(rest))


def _command(args: argparse.Namespace) -> int:
    if args.command == "validate":
        return _validate(args)
    if args.command == "run":
        return run_command(args)
    if args.command == "sync":
        return sync_command(args)
    from ..describe.manifest import MANIFEST_SCHEMA_PATH, describe_operation, manifest, plain_text
    from ..describe.reference import render_reference, write_reference

    if args.command == "manifest" and args.schema:
        print(MANIFEST_SCHEMA_PATH.read_text(encoding="utf-8"), end="")
        return EXIT_OK
    spec = load_specs(
        overlays=spec_overlays(args),
        allow_overlay_trust_widening=args.allow_overlay_trust_widening,
    )
    if args.command == "list":
        for kind, table in (("action", spec.actions), ("data source", spec.data_sources)):
            for key, op in table.items():
                print(f"{kind:<12} {key:<28} {op.label:<40} {op.source}")
    elif args.command == "describe":
        known = {**spec.actions, **spec.data_sources}
        if args.key not in known:
            near = closest(args.key, known, n=3)
            hint = f" Did you mean {', '.join(near)}?" if near else " `list` shows every key."
            message = f"no action or data source {args.key!r}.{hint}"
            raise InputError(args.key, [InputProblem("key", "KEY", message)])
        described = describe_operation(spec.operation(args.key))
        if args.json:
            print_json(described)
        else:  # for a terminal: the notes' HTML emphasis left out
            print(yaml.safe_dump(plain_text(described), sort_keys=False, allow_unicode=True))
    elif args.command == "manifest":
        print_json(manifest(spec))
    elif args.command == "docs":
        return write_reference(render_reference(spec), args.out, check=args.check)
    return EXIT_OK


def _main(argv: list[str]) -> int:
    try:
        plugin = _plugin(argv)
        if plugin is not None:
            return plugin
        help_asked = any(t in ("-h", "--help") for t in argv)
        args = build_parser(describe_plugins=help_asked).parse_args(argv)
        _configure_logging(args.verbose)
        if not getattr(args, "quiet", True):  # progress lines off a terminal (a bar on one)
            logging.getLogger("connector.progress").setLevel(logging.INFO)
        return _command(args)
    except ConnectorError as exc:
        return report_error(exc)
    except (BrokenPipeError, KeyboardInterrupt):
        raise
    except Exception as exc:  # never a bare traceback on the command line
        return report_unexpected(exc, verbose=any(t in ("-v", "--verbose") for t in argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (listed by `mixpanel-connector --help`)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    return guarded(lambda: _main(arguments))


if __name__ == "__main__":
    sys.exit(main())
