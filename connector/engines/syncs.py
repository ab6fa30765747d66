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

    The summary is the run's (`first`, `until`, `read`, `delivered`, `repeated`, `late`: the
    delivered records of each day before `until`, ...) with `path`.
    """
    with appending_jsonl(path) as deliver:
        result = run_sync(
            component, action, inputs, connection, state, deliver,
            until=until, lookback_days=lookback_days, start=start,
        )  # fmt: skip
    return {**result.to_dict(), "path": path}


def members_changes(
    component: Component,
    action: str,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    state: str | Path | StateStore,
) -> dict[str, Any]:
    """The membership changes since the last run, as plain data."""
    return sync_members(component, action, inputs, connection, state).to_dict()
