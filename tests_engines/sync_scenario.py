"""A week of daily syncs with late events, the same in every engine: each event once, late too."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connector import load_component
from connector.sandbox import Sandbox

DAY0 = dt.date.today() - dt.timedelta(days=30)
DAYS = 6


def event(day: dt.date, n: int) -> dict[str, Any]:
    """An event of `day` with a $insert_id naming the day and `n`."""
    at = dt.datetime.combine(day, dt.time(10), dt.UTC) + dt.timedelta(minutes=n)
    return {
        "event": "Purchase",
        "properties": {
            "distinct_id": f"u{n}",
            "time": int(at.timestamp()),
            "$insert_id": f"{day:%m%d}-{n}",
        },
    }


def inject(sandbox: Sandbox, events: list[dict[str, Any]]) -> None:
    """Import `events` into the sandbox, as a client sending them now would."""
    component = load_component(base_url=sandbox.base_url, budgets="memory")
    component.run(
        "importEvents", {"events": events, "project_id": sandbox.project_id}, sandbox.connection
    )


def run_week(sandbox: Sandbox, sync_day: Callable[[dt.date], dict[str, Any]]) -> dict[str, Any]:
    """Six daily runs; after the run of day 2, a late event for day 0 and one for day 1 arrive.

    Returns the summaries by day and every event sent.
    """
    sent: list[dict[str, Any]] = []
    summaries: dict[str, Any] = {}
    for run in range(DAYS):
        day = DAY0 + dt.timedelta(days=run)
        today = [event(day, n) for n in range(3)]
        if run == 3:  # day N+3: an event for day N (and one for N+1) arrive only now
            today += [event(DAY0, 50), event(DAY0 + dt.timedelta(days=1), 51)]
        inject(sandbox, today)
        sent += today
        summaries[day.isoformat()] = sync_day(day)
    again = sync_day(DAY0 + dt.timedelta(days=DAYS - 1))  # a rerun of the last day
    return {"summaries": summaries, "sent": sent, "again": again}


def assert_each_once(path: Path | list[Path], week: dict[str, Any]) -> None:
    """Every event sent is in the files exactly once; day N+3's run delivered the late ones."""
    files = path if isinstance(path, list) else [path]
    lines = [line for f in files if f.exists() for line in f.read_text().splitlines()]
    ids = Counter(json.loads(line)["properties"]["$insert_id"] for line in lines)
    assert set(ids) == {e["properties"]["$insert_id"] for e in week["sent"]}
    assert max(ids.values()) == 1
    day3 = week["summaries"][(DAY0 + dt.timedelta(days=3)).isoformat()]
    assert day3["delivered"] == 5 and day3["late"] == {
        DAY0.isoformat(): 1,
        (DAY0 + dt.timedelta(days=1)).isoformat(): 1,
    }
    assert week["again"]["delivered"] == 0 and week["again"]["read"] > 0
