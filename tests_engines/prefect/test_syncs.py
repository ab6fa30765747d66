"""The Prefect sync flows against the sandbox: late events once, the state in a Prefect block."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from connector.engines.prefect import (
    MixpanelCredentials,
    MixpanelSyncState,
    cohort_changes,
    sync_to_file,
)
from connector.sandbox import Sandbox

from ..sync_scenario import assert_each_once, run_week


def test_a_week_of_daily_flows_delivers_each_event_once(
    harness: None, sandbox: Sandbox, tmp_path: Path
) -> None:
    credentials = MixpanelCredentials(**sandbox.connection, base_url=sandbox.base_url)
    path = tmp_path / "events.jsonl"

    def sync_day(day: dt.date) -> dict[str, Any]:
        return sync_to_file(
            credentials, str(path), {"project_id": sandbox.project_id},
            until=day.isoformat(), state_block="week-events",
        )  # fmt: skip

    week = run_week(sandbox, sync_day)
    assert_each_once(path, week)
    kept = MixpanelSyncState.load("week-events")
    assert '"cursor"' in kept.document and "$insert_id" not in kept.document


def test_cohort_changes_flow_reports_joins_and_leaves(harness: None, sandbox: Sandbox) -> None:
    credentials = MixpanelCredentials(**sandbox.connection, base_url=sandbox.base_url)
    inputs = {"project_id": sandbox.project_id}
    sandbox.store.save_report("cohorts", 1001, "Pro", {"where": 'properties["plan"] == "pro"'})
    sandbox.store.resources.put(*_profile("a", "pro"))
    first = cohort_changes(credentials, 1001, inputs, state_block="week-cohort")
    sandbox.store.resources.put(*_profile("a", "free"))
    sandbox.store.resources.put(*_profile("b", "pro"))
    second = cohort_changes(credentials, 1001, inputs, state_block="week-cohort")
    again = cohort_changes(credentials, 1001, inputs, state_block="week-cohort")
    assert (first["added"], first["first_run"]) == (["a"], True)
    assert (second["added"], second["removed"]) == (["b"], ["a"])
    assert (again["added"], again["removed"]) == ([], [])


def _profile(who: str, plan: str) -> tuple[Any, ...]:
    from connector.sandbox.models.base import Context
    from connector.sandbox.models.families import PROFILES

    return PROFILES, Context(), who, {"$distinct_id": who, "$properties": {"plan": plan}}
