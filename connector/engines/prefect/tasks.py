"""Prefect tasks over the component: run an action, fetch a picklist, export, copy a project."""

from __future__ import annotations

import logging
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError
from prefect.logging import get_run_logger

from ..common import RATE_WAIT_S, REGION_INPUT, export_to, location_values
from ..copying import copy_between, side
from .credentials import CredentialsMethods

# Actions have side effects (imports, deletes); a task run never reuses an earlier result.


@task(name="mixpanel-run-action", cache_policy=NO_CACHE)
def run_action(
    credentials: CredentialsMethods,
    action: str,
    inputs: dict[str, Any] | None = None,
    rate_wait_s: float = RATE_WAIT_S,
) -> dict[str, Any]:
    """Run one Mixpanel action (e.g. `importEvents`, `queryProfiles`); returns `{"data": ...}`.

    The call waits up to `rate_wait_s` for a client-side rate budget, then fails with a
    RateLimitError saying when the budget frees up.
    """
    component = credentials.component(rate_wait_s)
    logger = get_run_logger()
    logger.info("Running Mixpanel action %s", action)
    values = credentials.inputs_for(component, action, inputs or {})
    return component.run(action, values, credentials.connection())


@task(name="mixpanel-fetch-picklist", cache_policy=NO_CACHE)
def fetch_picklist(
    credentials: CredentialsMethods,
    data_source: str,
    inputs: dict[str, Any] | None = None,
    rate_wait_s: float = RATE_WAIT_S,
) -> list[dict[str, str]]:
    """A data source's choices, `[{"label", "key"}, ...]` (e.g. saved funnels, pipelines)."""
    component = credentials.component(rate_wait_s)
    values = credentials.inputs_for(component, data_source, inputs or {})
    items: list[dict[str, str]] = component.fetch(data_source, values, credentials.connection())[
        "result"
    ]
    return items


@task(name="mixpanel-export-to-file", cache_policy=NO_CACHE)
def export_to_file(
    credentials: CredentialsMethods,
    path: str,
    inputs: dict[str, Any],
    action: str = "downloadData",
    rate_wait_s: float = RATE_WAIT_S,
) -> dict[str, Any]:
    """Stream an export to `path` (local file or fsspec URL) as JSON lines, gzip for `.gz`.

    Returns `{"path", "count", "days", "resumed_cuts"}`, never the records themselves.
    """
    component = credentials.component(rate_wait_s)
    values = credentials.inputs_for(component, action, inputs)
    summary = export_to(component, action, values, credentials.connection(), path)
    get_run_logger().info("Exported %d records to %s", summary["count"], path)
    return summary


@task(name="mixpanel-copy-project", cache_policy=NO_CACHE)
def copy_project(
    source: CredentialsMethods,
    target: CredentialsMethods,
    from_date: str,
    to_date: str,
    source_project_id: str | None = None,
    target_project_id: str | None = None,
    events: list[str] | None = None,
    time_offset_hours: float | None = None,
    transforms: dict[str, Any] | None = None,
    profiles: bool = False,
    groups: dict[str, str] | None = None,
    state_path: str | None = None,
    rate_wait_s: float = RATE_WAIT_S,
) -> dict[str, Any]:
    """Copy a date range's events (and profiles) from one project into another.

    Each block is one side: its credentials, region and budgets. Rerun after a failure with
    the same values and the copy resumes (finished windows are not copied again). `groups`
    maps each group key whose group profiles are copied too to its id in the source project
    (its data group id). Returns both sides' counts.
    """
    sides = [
        side(
            block.component(rate_wait_s),
            block.connection(),
            location_values(getattr(block, REGION_INPUT)),
            project_id,
        )
        for block, project_id in ((source, source_project_id), (target, target_project_id))
    ]
    summary = copy_between(
        sides[0],
        sides[1],
        from_date=from_date,
        to_date=to_date,
        events=events or (),
        time_offset_hours=time_offset_hours,
        transforms=transforms,
        profiles=profiles,
        groups=groups,
        state_path=state_path,
    )
    _logger().info("Copied %s", summary["events"]["target"])
    return summary


def _logger() -> Any:
    """The run's logger; outside a run (the task's `.fn` called directly) the module's."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)
