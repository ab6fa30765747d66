"""`mixpanel-connector tour`: every action and data source once, against a throwaway sandbox."""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from connector import Component, ConnectorError, load_component
from connector.budgets.memory import BudgetRegistry
from connector.catalog.cache import CACHE_ENV

from ..server import Sandbox
from .steps import ANON_ID, STEPS, TABLE, Step

__all__ = ["ANON_ID", "STEPS", "SUMMARY", "TABLE", "Step", "main", "run_step"]


#: The command's line in `mixpanel-connector --help`.
SUMMARY = (
    "start a throwaway sandbox, run every action and data source once against it and print "
    "a table of the outcomes; nothing is sent to Mixpanel"
)


def run_step(component: Component, sb: Sandbox, step: Step) -> tuple[str, str]:
    """Run one step as `mixpanel-connector run` would; return (outcome, one-line summary)."""
    inputs = step.inputs(sb)
    try:
        if step.key in component.spec.data_sources:
            data: Any = component.fetch(step.key, inputs, sb.connection)["result"]
        else:
            data = component.run(step.key, inputs, sb.connection)["data"]
    except ConnectorError as exc:
        message = " ".join(str(exc).split())
        if step.expect_error and step.expect_error in message:
            return "refused (expected)", message.split(": ", 1)[-1][:110]
        return "FAILED", message[:110]
    if step.expect_error:
        return "FAILED", f"expected an error, got {str(data)[:80]}"
    return "ok", step.summary(data)


@contextlib.contextmanager
def _spec_cache(keep: bool) -> Iterator[None]:
    """Unless `keep`, load the specs without reading or writing the on-disk spec cache."""
    if keep:
        yield
        return
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = "off"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(CACHE_ENV, None)
        else:
            os.environ[CACHE_ENV] = before


def main(argv: Sequence[str]) -> int:
    """`mixpanel-connector tour`; exit 0 when every step behaved as expected."""
    parser = argparse.ArgumentParser(
        prog="mixpanel-connector tour",
        description="Start a throwaway sandbox, run every action and data source once, print a "
        "table, and stop. Nothing is sent to Mixpanel and nothing is left behind.",
    )
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        metavar="S",
        help="keep the live view up this many seconds at the end",
    )
    parser.add_argument(
        "--keep-cache",
        action="store_true",
        help="store the checked specs in the spec cache, as other commands do, so that the next "
        "start is faster, with the per-user key that authenticates its entries (by default the "
        "tour writes no file)",
    )
    args = parser.parse_args(list(argv))
    started = time.monotonic()
    rows: list[tuple[str, str, str]] = []
    with Sandbox() as sb:
        print(f"Sandbox running at {sb.base_url} (live view: {sb.base_url}/)", flush=True)
        with _spec_cache(args.keep_cache):
            component = load_component(base_url=sb.base_url, rate_registry=BudgetRegistry())
        for step in STEPS:
            rows.append((step.key, *run_step(component, sb, step)))
        if args.pause > 0:
            print(f"Live view stays up {args.pause:g} s: {sb.base_url}/", flush=True)
            time.sleep(args.pause)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'action':<{width}}  {'outcome':<18}  summary")
    print(f"{'-' * width}  {'-' * 18}  {'-' * 40}")
    for key, outcome, summary in rows:
        print(f"{key:<{width}}  {outcome:<18}  {summary}")
    failed = [r for r in rows if r[1] == "FAILED"]
    took = time.monotonic() - started
    print(f"\n{len(rows) - len(failed)}/{len(rows)} as expected in {took:.1f} s;", end="")
    kept = " but the spec cache and the local key that authenticates it" if args.keep_cache else ""
    print(f" the sandbox is stopped and nothing was kept{kept}.")
    return 1 if failed else 0
