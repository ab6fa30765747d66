"""What every engine's sync shares: a run appended to a local file, its state where it is kept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .. import Component, run_sync, sync_members
from ..sync.sinks import appending_jsonl
from ..sync.stores import CallbackStore, StateStore

__all__ = ["DEFAULT_LOOKBACK_DAYS", "engine_store", "members_changes", "sync_to_path"]

#: The lookback engines default to, as the command line's.
DEFAULT_LOOKBACK_DAYS = 5


def engine_store(
    where: str, read: Callable[[], bytes | str | None], write: Callable[[bytes], None]
) -> StateStore:
    """A state the engine keeps (a Dagster cursor, an Airflow Variable, a Prefect block)."""
    return CallbackStore(where, read, write)


def sync_to_path(
    component: Component,
    action: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    state: str | Path | StateStore,
    path: str,
    *,
    until: dt.date,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    start: dt.date | None = None,
) -> dict[str, Any]:
    """One sync run, its new records appended to the local file `path`; returns its summary.

    The summary is the run's (`first`, `until`, `read`, `delivered`, `repeated`, ...) with
    `path` and `late`: how many delivered records belong to each day before `until`.
    """
    late: dict[str, int] = {}
    with appending_jsonl(path) as append:
        sync = component.spec.operation(action).sync
        time_path = str(sync.get("time", ""))

        def deliver(records: list[Any]) -> None:
            append(records)
            for record in records:
                day = _day(record, time_path)
                if day is not None and day < until:
                    late[day.isoformat()] = late.get(day.isoformat(), 0) + 1

        result = run_sync(
            component, action, inputs, connection, state, deliver,
            until=until, lookback_days=lookback_days, start=start,
        )  # fmt: skip
    return {**result.to_dict(), "path": path, "late": dict(sorted(late.items()))}


def members_changes(
    component: Component,
    action: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    state: str | Path | StateStore,
) -> dict[str, Any]:
    """The membership changes since the last run, as plain data."""
    return sync_members(component, action, inputs, connection, state).to_dict()


def _day(record: Any, time_path: str) -> dt.date | None:
    from ..core.paths import dotted, lookup
    from ..sync.seen import day_of

    return day_of(lookup(record, dotted(time_path))) if time_path else None
