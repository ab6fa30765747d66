"""Helpers for the command-line long-job tests: the CLI as a subprocess against a sandbox."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from connector.sandbox import Sandbox
from tests import isolation
from tests.conftest import ROOT


def cli_env(sandbox: Sandbox, tmp_path: Path) -> dict[str, str]:
    """The environment of a user of the defaults: credentials, budgets and state in tmp.

    The suite's own variables stay (its spec cache, tests/isolation.py); no other MIXPANEL one.
    """
    keep = {"MIXPANEL_CONNECTOR_CACHE", isolation.MARKER}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIXPANEL") or k in keep}
    env.update(
        MIXPANEL_USERNAME=sandbox.username,
        MIXPANEL_PASSWORD=sandbox.password,
        MIXPANEL_CONNECTOR_BUDGETS=f"sqlite:///{tmp_path / 'budgets.sqlite3'}",
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPATH=str(ROOT),
    )
    return env


def cli(*argv: str) -> list[str]:
    """The command line of `mixpanel-connector ARGV...`."""
    return [sys.executable, "-m", "connector.cli", *argv]


def run_cli(
    env: dict[str, str], *argv: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*argv), env=env, capture_output=True, text=True, timeout=timeout)


def events(count: int, days: int, *, prefix: str = "ev") -> Iterator[dict[str, Any]]:
    """`count` events spread over the last `days` days (none in the future)."""
    now = int(dt.datetime.now(dt.UTC).timestamp()) - 600
    for i in range(count):
        yield {
            "event": f"Event {i % 7}",
            "properties": {
                "distinct_id": f"user-{i % 997}",
                "time": now - (i % days) * 86_400 - i % 3_600,
                "$insert_id": f"{prefix}-{i:07d}",
            },
        }


def write_lines(path: Path, records: Iterator[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


def export_range(days: int) -> tuple[str, str]:
    today = dt.datetime.now(dt.UTC).date()
    return (today - dt.timedelta(days=days)).isoformat(), today.isoformat()


def exported_ids(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line)["properties"]["$insert_id"] for line in lines]


def stored_ids(sandbox: Sandbox, first: str, last: str) -> list[str]:
    """Every raw event the sandbox holds in the range, duplicates it stored included."""
    start = int(dt.datetime.fromisoformat(first).replace(tzinfo=dt.UTC).timestamp())
    end = int(dt.datetime.fromisoformat(last).replace(tzinfo=dt.UTC).timestamp()) + 86_399
    return [
        record["properties"]["$insert_id"] for record, _ in sandbox.store.raw_events(start, end)
    ]


def export_ranges(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [
        tuple(r["range"])
        for r in sandbox.store.requests()
        if r["path"] == "/api/2.0/export" and r["status"] == 200
    ]
