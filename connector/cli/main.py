"""The `mixpanel-connector` command: list, describe, run, validate, manifest, docs and plugins."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from ..catalog.layers import overlay_paths
from ..catalog.load import check_specs, load_specs, specs_root
from ..catalog.spec import ConnectionSpec
from ..component import Component
from ..core.progress import open_progress
from ..core.values import closest
from ..errors import ConnectorError, InputError, InputProblem
from ..loading import load_component
from ..plugins import load_plugin
from .dryrun import fields_used, sampled
from .exits import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    exit_for_result,
    guarded,
    report_error,
    report_unexpected,
)
from .hints import with_next_steps
from .mappings import connection_of, inputs_of, read_mapping
from .parser import build_parser, split_plugin_command

#: How long the command waits for an hourly rate budget when the specs declare no
#: `waits.long_max_s` and --rate-wait is not given.
RATE_WAIT_S = 3600.0
#: How a command-line user changes a budget's wait or store (said when a wait bites).
CLI_ADVICE = (
    "pass --rate-wait SECONDS to change how long to wait (0: fail at once), --budgets memory "
    "to keep budgets to this one run"
)


def _overlays(args: argparse.Namespace) -> list[Path]:
    given = [*(getattr(args, "global_specs", None) or []), *(getattr(args, "specs", None) or [])]
    return overlay_paths(given or None)


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def dry_run_connection(
    connection: dict[str, Any], spec: ConnectionSpec
) -> tuple[dict[str, Any], list[str]]:
    """The connection with a placeholder, `<key>`, for each field not given; and their labels.

    A dry run needs no credentials: the placeholders are masked like secrets in its output,
    which shows where the credentials would go.
    """
    filled, missing = dict(connection), []
    for field in spec.inputs:
        if filled.get(field.key) in (None, ""):
            filled[field.key] = f"<{field.key}>"
            missing.append(field.key)
    return filled, missing


def _placeholders_noted(
    component: Component, key: str, missing: list[str], shown: list[dict[str, Any]]
) -> int:
    """Name the placeholders the shown requests use (none of the others)."""
    used = fields_used(component.spec, key, shown)
    named = [component.spec.connection.field(k).describe() for k in missing if k in used]
    if named:
        print(
            f"dry run: not given, so placeholders stand in for {', '.join(named)}; "
            "each shows as *** where it would go",
            file=sys.stderr,
        )
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    component = load_component(
        base_url=args.base_url,
        spec_paths=_overlays(args),
        sandbox=args.sandbox,
        budgets=args.budgets,
        allow_overlay_trust_widening=args.allow_overlay_trust_widening,
    )
    waits = component.spec.waits
    wait = args.rate_wait if args.rate_wait is not None else waits.get("long_max_s", RATE_WAIT_S)
    component.rate_wait_s = max(0.0, wait)
    component.wait_advice = CLI_ADVICE
    progress = open_progress(args.key, quiet=args.quiet or args.dry_run, stream=sys.stderr)
    component.progress = progress
    ok = False
    try:
        code = _run_with(component, args)
        ok = True
        return code
    except InputError as exc:
        given = dict(item.partition("=")[::2] for item in args.input)
        raise with_next_steps(exc, component.spec, args, given) from None
    finally:
        progress.close(ok=ok)  # "(stopped)" unless the call finished; its figures either way


def _sync(args: argparse.Namespace) -> int:
    component = load_component(
        base_url=args.base_url,
        spec_paths=_overlays(args),
        sandbox=args.sandbox,
        budgets=args.budgets,
        allow_overlay_trust_widening=args.allow_overlay_trust_widening,
    )
    component.wait_advice = CLI_ADVICE
    connection = connection_of(args, component.spec.connection)
    from .sync import run_sync_command  # loads when needed

    return run_sync_command(component, args, inputs_of(args), connection)


def _shown(component: Component, data: Any) -> None:
    """The result, printed once the progress bar or line is done: never through it."""
    close = getattr(component.progress, "close", None)
    if close is not None:
        close(ok=True)
    _print(data)


def _run_with(component: Component, args: argparse.Namespace) -> int:
    inputs, connection = inputs_of(args), connection_of(args, component.spec.connection)
    missing: list[str] = []
    if args.dry_run and not args.sandbox:
        connection, missing = dry_run_connection(connection, component.spec.connection)
    if args.input_file and args.key in component.spec.actions:
        # files/ and describe/ load only for the commands that use them (cold start)
        from ..files.checkpoint import file_checkpoint
        from ..files.input_files import input_files, parse_specs

        op = component.spec.actions[args.key]
        columns = read_mapping(args.columns, "--columns") if args.columns else None
        with input_files(
            op,
            args.input_file,
            progress=component.progress,
            input_format=args.input_format,
            columns=columns,
        ) as files:
            if args.dry_run:
                requests = component.preview_requests(args.key, {**inputs, **files}, connection)
                if args.dry_run_all:
                    shown = list(requests)
                    _print(shown)
                else:
                    shown, note = sampled(requests)
                    _print(shown)
                    if note:
                        print(note, file=sys.stderr)
                return _placeholders_noted(component, args.key, missing, shown)
            path = parse_specs(args.input_file, op).get(op.batch["input"] if op.batch else "")
            app = f"{component.spec.key}-connector"
            # How records split into batches depends on the lanes, so on --workers too.
            # So do the format and column types, when given, what records are read.
            extra: dict[str, Any] = {"--workers": args.workers}
            if args.input_format != "auto" or columns:
                extra.update({"--input-format": args.input_format, "--columns": columns})
            checkpoint = file_checkpoint(path, op.key, extra, app) if op.batch else None
            call = {**inputs, **files}
            result = component.run(
                args.key, call, connection, workers=args.workers, checkpoint=checkpoint
            )
            _shown(component, result)
        return exit_for_result(args.key, result)
    if args.dry_run:
        previewed = component.preview(args.key, inputs, connection)
        _print(previewed)
        return _placeholders_noted(component, args.key, missing, previewed)
    if args.output:
        from ..files.output import write_stream

        stream = component.iter(args.key, inputs, connection, rate_wait_s=component.rate_wait_s)
        summary = write_stream(stream, args.output)
        progress_close = getattr(component.progress, "close", None)
        if progress_close is not None:
            progress_close(ok=True)
        print(json.dumps(summary), file=sys.stderr if args.output == "-" else sys.stdout)
    elif args.key in component.spec.data_sources:
        _shown(component, component.fetch(args.key, inputs, connection))
    else:
        result = component.run(args.key, inputs, connection, workers=args.workers)
        _shown(component, result)
        return exit_for_result(args.key, result)
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    if args.print_schema_path:
        from ..describe.editor import schema_dir

        print(schema_dir())
        return 0
    root, overlays = specs_root(), _overlays(args)
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
        return _run(args)
    if args.command == "sync":
        return _sync(args)
    from ..describe.manifest import MANIFEST_SCHEMA_PATH, describe_operation, manifest, plain_text
    from ..describe.reference import render_reference, write_reference

    if args.command == "manifest" and args.schema:
        print(MANIFEST_SCHEMA_PATH.read_text(encoding="utf-8"), end="")
        return EXIT_OK
    spec = load_specs(
        overlays=_overlays(args),
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
            _print(described)
        else:  # for a terminal: the notes' HTML emphasis left out
            print(yaml.safe_dump(plain_text(described), sort_keys=False, allow_unicode=True))
    elif args.command == "manifest":
        _print(manifest(spec))
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
