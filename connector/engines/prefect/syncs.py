"""Prefect flows of the scheduled syncs: events (or profiles) to a file, and cohort changes.

The state is a `MixpanelSyncState` block on the Prefect server by default (one per sync, named
by `state_block`), or any state URL the command line takes (`sqlite:///PATH`, `redis://...`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow
from prefect.logging import get_run_logger

from ...sync.stores import StateStore
from ..common import RATE_WAIT_S
from ..syncs import DEFAULT_LOOKBACK_DAYS, engine_store, members_changes, sync_to_path
from .credentials import CredentialsMethods
from .state_block import MixpanelSyncState


def _block_store(name: str) -> StateStore:
    def read() -> str | None:
        try:
            found = MixpanelSyncState.load(name)
        except ValueError:  # no such block yet: the first run
            return None
        return found.document or None

    def write(document: bytes) -> None:
        MixpanelSyncState(document=document.decode()).save(name, overwrite=True)

    where = f"Prefect block {MixpanelSyncState.get_block_type_slug()}/{name}"
    return engine_store(where, read, write)


@flow(name="mixpanel-sync-to-file")
def sync_to_file(
    credentials: CredentialsMethods,
    path: str,
    inputs: dict[str, Any],
    until: str | None = None,
    lookback_days: int = DEFAULT_LOOKBACK_DAYS,
    action: str = "downloadData",
    state: str | None = None,
    state_block: str = "mixpanel-sync-events",
    start: str | None = None,
    rate_wait_s: float = RATE_WAIT_S,
) -> dict[str, Any]:
    """Append the records not delivered by earlier runs to `path`; `until` defaults to today.

    Each run reads again the `lookback_days` before the day after the last run, so a late
    event is delivered by the first run after it arrives, and only once. Returns the run's
    summary (`delivered`, `repeated`, `late` by day, ...).
    """
    component = credentials.component(rate_wait_s)
    values = credentials.inputs_for(component, action, inputs)
    day = dt.date.fromisoformat(until) if until else dt.datetime.now(dt.UTC).date()
    summary = sync_to_path(
        component, action, values, credentials.connection(),
        state or _block_store(state_block), path,
        until=day, lookback_days=lookback_days,
        start=dt.date.fromisoformat(start) if start else None,
    )  # fmt: skip
    get_run_logger().info(
        "Delivered %d new record(s) to %s (%d read again); late, by day: %s",
        summary["delivered"], path, summary["repeated"], summary["late"] or "none",
    )  # fmt: skip
    return summary


@flow(name="mixpanel-cohort-changes")
def cohort_changes(
    credentials: CredentialsMethods,
    cohort_id: int,
    inputs: dict[str, Any] | None = None,
    state: str | None = None,
    state_block: str | None = None,
    action: str = "queryProfiles",
    rate_wait_s: float = RATE_WAIT_S,
) -> dict[str, Any]:
    """The profiles that joined and left cohort `cohort_id` since the last run."""
    component = credentials.component(rate_wait_s)
    group = component.spec.operation(action).sync["members"]["input"]
    values = credentials.inputs_for(component, action, {**(inputs or {}), group: {"id": cohort_id}})
    store = state or _block_store(state_block or f"mixpanel-cohort-{cohort_id}")
    changes = members_changes(component, action, values, credentials.connection(), store)
    get_run_logger().info(
        "Cohort %s: %d joined, %d left, %d members",
        cohort_id, len(changes["added"]), len(changes["removed"]), changes["members"],
    )  # fmt: skip
    return changes
