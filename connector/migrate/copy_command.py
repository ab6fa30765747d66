"""The `copy` plugin: `mixpanel-connector copy`, a project's events and profiles into another."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..cli.exits import EXIT_OK, EXIT_REFUSED
from ..cli.mappings import read_mapping
from ..component import Component
from ..core.progress import open_progress
from ..errors import InputError, InputProblem
from ..loading import load_component
from .copy import CopyPlan, Side, copy_events
from .project import copy_groups, copy_profiles
from .specs import load_layout

#: The command's line in `mixpanel-connector --help`.
SUMMARY = (
    "copy a project's events (and profiles) into another project, window by window, "
    "resumable after a kill: between regions, accounts or the sandbox"
)
SIDES = ("source", "target")


def _side_options(parser: argparse.ArgumentParser, side: str) -> None:
    group = parser.add_argument_group(f"the {side} project")
    group.add_argument(
        f"--{side}-connection",
        metavar="FILE",
        required=True,
        help=f"a JSON or YAML file of the {side}'s connection fields (as for `run --connection`)",
    )
    group.add_argument(
        f"--{side}-project-id",
        dest=f"{side}_project",
        metavar="ID",
        help=f"the {side} project's id",
    )
    group.add_argument(
        f"--{side}-region",
        metavar="REGION",
        help=f"the {side} project's data residency: us, eu or in (default: us)",
    )
    group.add_argument(
        f"--{side}-base-url", metavar="URL", help="send its requests here (a sandbox) instead"
    )
    group.add_argument(
        f"--{side}-budgets",
        metavar="URL",
        help="where its rate budgets live: sqlite:///PATH, redis://HOST:PORT/DB or memory "
        "(each project has budgets of its own)",
    )
    group.add_argument(
        f"--{side}-input",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another input for its actions (repeatable), such as workspace_id=7",
    )


def build_parser() -> argparse.ArgumentParser:
    """The command's options."""
    parser = argparse.ArgumentParser(
        prog="mixpanel-connector copy",
        description="Copy the events of a date range from one project into another: each "
        "window the export completes is imported as it arrives, memory stays flat, and a rerun "
        "of the same command after a stop resumes where it was. Prints a JSON summary of both "
        "sides.",
    )
    parser.add_argument("--from-date", required=True, metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--to-date", required=True, metavar="YYYY-MM-DD", help="last day")
    for side in SIDES:
        _side_options(parser, side)
    parser.add_argument(
        "--event",
        action="append",
        default=[],
        metavar="NAME",
        help="copy only events of this name (repeatable; default: every event)",
    )
    parser.add_argument(
        "--time-offset-hours",
        type=float,
        metavar="H",
        help="hours added to each event's time, for a source project that stored local time "
        "(e.g. 8 for a project kept in US Pacific time, UTC-8: its times read 8 hours early)",
    )
    parser.add_argument(
        "--transforms",
        metavar="FILE",
        help="a JSON or YAML file of transforms: keep_events, block_events, from_date, "
        "to_date, time_offset_hours, rename, drop, flatten, drop_nulls, tags",
    )
    parser.add_argument("--profiles", action="store_true", help="copy user profiles too")
    parser.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="KEY=ID",
        help="copy the group profiles of group key KEY too, ID being that key's id in the "
        "source project; repeatable",
    )
    parser.add_argument(
        "--workers", type=int, metavar="N", help="import requests in flight (default: the spec's)"
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help="the file that remembers finished windows (default: in the user state directory)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="read the first window with events from the source and print a sample of the "
        "requests the target would get; nothing is sent to the target",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--specs", action="append", type=Path, metavar="DIR", help="an overlay folder"
    )
    return parser


def _pairs(items: Sequence[str], option: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(option, [InputProblem(item, option, "expected KEY=VALUE")])
        found[key.strip()] = value
    return found


def _side(args: argparse.Namespace, side: str) -> Side:
    def get(name: str) -> Any:
        return getattr(args, f"{side}_{name}")

    component: Component = load_component(
        base_url=get("base_url"), spec_paths=args.specs, budgets=get("budgets")
    )
    component.progress = open_progress(
        f"copy: {side}", quiet=args.quiet or args.dry_run, stream=sys.stderr
    )
    layout = load_layout(args.specs)
    inputs = {
        **layout.side_inputs(get("project"), get("region") or "us"),
        **_pairs(get("input"), f"--{side}-input"),
    }
    connection = read_mapping(get("connection"), f"--{side}-connection")
    return Side(component, connection, inputs)


def main(argv: Sequence[str]) -> int:
    """Run the copy; print its summary (or the dry run's sample) as JSON on stdout."""
    args = build_parser().parse_args(list(argv))
    if not args.quiet:
        logging.getLogger("connector.progress").setLevel(logging.INFO)
    transforms: dict[str, Any] = dict(
        read_mapping(args.transforms, "--transforms") if args.transforms else {}
    )
    if args.time_offset_hours is not None:
        transforms["time_offset_hours"] = args.time_offset_hours
    plan = CopyPlan(
        args.from_date,
        args.to_date,
        events=args.event,
        transforms=transforms,
        workers=args.workers,
        state=args.state,
        overlays=args.specs,
    )
    groups = _pairs(args.group, "--group")
    for key, group_id in groups.items():
        if not group_id.strip():
            message = "needs the group key's id in the source project: --group KEY=ID"
            raise InputError("--group", [InputProblem(key, "--group", message)])
    source, target = _side(args, "source"), _side(args, "target")
    ok = False
    try:
        summary: dict[str, Any] = {
            "events": copy_events(source, target, plan, dry_run=args.dry_run)
        }
        if args.profiles:
            summary["profiles"] = copy_profiles(source, target, plan, dry_run=args.dry_run)
        if groups:
            summary["groups"] = copy_groups(source, target, plan, groups, dry_run=args.dry_run)
        ok = True
    finally:
        for side in (source, target):
            close = getattr(side.component.progress, "close", None)
            if close is not None:
                close(ok=ok)
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    failed = summary["events"].get("target", {}).get("events_failed", 0)
    return EXIT_REFUSED if failed else EXIT_OK
