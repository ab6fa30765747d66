"""The `sync` command: a scheduled sync's run, its new records appended to a file or printed."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from typing import Any

from ..catalog.spec import ComponentSpec, OperationSpec
from ..component import Component
from ..errors import InputError, InputProblem
from ..sync.members import sync_members
from ..sync.plan import DEFAULT_LOOKBACK_DAYS
from ..sync.runner import run_sync
from ..sync.sinks import appending_jsonl
from .exits import EXIT_OK

__all__ = ["add_sync", "run_sync_command", "sync_names"]


def sync_names(spec: ComponentSpec) -> dict[str, tuple[OperationSpec, bool]]:
    """Every sync the specs declare: name -> (operation, whether it is a membership sync)."""
    found: dict[str, tuple[OperationSpec, bool]] = {}
    for op in {**spec.actions, **spec.data_sources}.values():
        if op.sync:
            found[op.sync["name"]] = (op, False)
            if op.sync.get("members"):
                found[op.sync["members"]["name"]] = (op, True)
    return found


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        message = f"expected a date such as 2026-01-31, not {text!r}"
        raise argparse.ArgumentTypeError(message) from None


def add_sync(sub: Any) -> None:
    """The `sync` command and its options."""
    sync = sub.add_parser(
        "sync",
        help="run a scheduled sync: deliver the records not delivered by its earlier runs",
        description="Read the days since the last run and, again, the lookback window before "
        "them; deliver only the records not delivered before (late ones included), as JSON "
        "lines appended to --output (default: stdout), and print a one-line JSON summary. "
        "`sync members` prints who joined and left a group since the last run.",
    )
    sync.add_argument(
        "name", metavar="NAME", help="the sync, as the specs name it (an unknown name lists them)"
    )
    sync.add_argument(
        "--state",
        required=True,
        metavar="URL",
        help="where the sync remembers what it delivered: a file path, sqlite:///PATH, "
        "redis://HOST:PORT/DB or memory",
    )
    sync.add_argument(
        "--lookback-days",
        type=int,
        default=DEFAULT_LOOKBACK_DAYS,
        metavar="N",
        help=f"days read again each run for late records (default {DEFAULT_LOOKBACK_DAYS})",
    )
    sync.add_argument(
        "--until", type=_day, metavar="DATE", help="the last day read (default: today, UTC)"
    )
    sync.add_argument(
        "--start", type=_day, metavar="DATE", help="the first run's first day (default: the "
        "lookback window before --until)"
    )  # fmt: skip
    sync.add_argument(
        "--output", "-o", metavar="PATH", default="-", help="append the new records to PATH"
    )
    sync.add_argument(
        "--input", "-i", action="append", default=[], metavar="KEY=VALUE",
        help="one input of the action, as `run` takes it (its filters and project)",
    )  # fmt: skip
    sync.add_argument("--inputs", metavar="FILE", help="a JSON (.json) or YAML file of inputs")
    sync.add_argument(
        "--connection", metavar="FILE", help="a file of connection fields (default: the "
        "environment variable each connection field names)",
    )  # fmt: skip
    sync.add_argument("--base-url", metavar="URL", help="send requests to this scheme and host")
    sync.add_argument("--sandbox", action="store_true", help="run against the local sandbox")
    sync.add_argument("--budgets", metavar="URL", help="where rate budgets live (see `run --help`)")


def run_sync_command(
    component: Component,
    args: argparse.Namespace,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
) -> int:
    """Run the named sync; print its summary (or a membership sync's changes)."""
    known = sync_names(component.spec)
    if args.name not in known:
        why = f"no sync {args.name!r}; the specs declare {', '.join(sorted(known))}"
        raise InputError(args.name, [InputProblem("name", "NAME", why)])
    op, membership = known[args.name]
    if membership:
        changes = sync_members(component, op.key, inputs, connection, args.state)
        print(json.dumps(changes.to_dict()))
        return EXIT_OK
    if args.lookback_days < 0:
        why = "the lookback is 0 days or more"
        raise InputError(args.name, [InputProblem("lookback_days", "--lookback-days", why)])
    with appending_jsonl(args.output) as deliver:
        result = run_sync(
            component,
            op.key,
            inputs,
            connection,
            args.state,
            deliver,
            until=args.until,
            lookback_days=args.lookback_days,
            start=args.start,
        )
    print(json.dumps(result.to_dict()), file=sys.stderr if args.output == "-" else sys.stdout)
    return EXIT_OK
