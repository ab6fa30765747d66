"""The `run` and `sync` commands: the component loaded with the command line's options, called."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..catalog.layers import overlay_paths
from ..catalog.spec import ConnectionSpec
from ..component import Component
from ..core.progress import open_progress
from ..errors import InputError
from ..loading import load_component
from .dryrun import fields_used, sampled
from .exits import EXIT_OK, exit_for_result
from .hints import with_next_steps
from .mappings import connection_of, inputs_of, read_mapping

#: How long the command waits for an hourly rate budget when the specs declare no
#: `waits.long_max_s` and --rate-wait is not given.
RATE_WAIT_S = 3600.0
#: How a command-line user changes a budget's wait or store (said when a wait bites).
CLI_ADVICE = (
    "pass --rate-wait SECONDS to change how long to wait (0: fail at once), --budgets memory "
    "to keep budgets to this one run"
)


def spec_overlays(args: argparse.Namespace) -> list[Path]:
    """The spec overlays the command line names (--global-specs, --specs), or the default ones."""
    given = [*(getattr(args, "global_specs", None) or []), *(getattr(args, "specs", None) or [])]
    return overlay_paths(given or None)


def print_json(data: Any) -> None:
    """Print `data` as indented JSON (non-ASCII text as it is)."""
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


def run_command(args: argparse.Namespace) -> int:
    """`run`: call one action or data source; the exit code says how it went."""
    component = load_component(
        base_url=args.base_url,
        spec_paths=spec_overlays(args),
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


def sync_command(args: argparse.Namespace) -> int:
    """`sync`: run a scheduled sync (its module loads only for this command)."""
    component = load_component(
        base_url=args.base_url,
        spec_paths=spec_overlays(args),
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
    print_json(data)


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
                    print_json(shown)
                else:
                    shown, note = sampled(requests)
                    print_json(shown)
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
        print_json(previewed)
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
