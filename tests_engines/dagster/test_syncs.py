"""The component's syncs against the sandbox: daily partitions, late events, a cohort sensor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from connector.sandbox import Sandbox
from connector.sandbox.models.base import Context
from connector.sandbox.models.families import PROFILES

from ..sync_scenario import DAY0, assert_each_once, run_week
from .test_component import defs_of


@pytest.fixture
def connected(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    from .conftest import connection_env

    for variable, value in connection_env(sandbox).items():
        monkeypatch.setenv(variable, value)
    return sandbox


def test_daily_partitions_deliver_each_event_once_and_mark_the_late_days(
    connected: Sandbox, tmp_path: Path
) -> None:
    path = str(tmp_path / "events-{date}.jsonl")
    sync = {"name": "events", "path": path, "start_date": DAY0.isoformat()}
    defs = defs_of({"syncs": [{**sync, "inputs": {"project_id": connected.project_id}}]})
    key = dg.AssetKey(["mixpanel", "events"])
    asset = defs.resolve_assets_def(key)
    assert defs.resolve_schedule_def("events_schedule").cron_schedule == "0 1 * * *"
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:

        def sync_day(day: dt.date) -> dict[str, Any]:
            result = dg.materialize([asset], partition_key=day.isoformat(), instance=instance)
            assert result.success
            *_, materialized = result.asset_materializations_for_node("mixpanel__events")
            return {k: v.value for k, v in materialized.metadata.items()}

        week = run_week(connected, sync_day)
        # Day N's partition shows the late event delivered on day N+3, besides its own run.
        records = instance.fetch_materializations(key, limit=100).records
        marks = [r.asset_materialization for r in records if r.asset_materialization]
        late = [m for m in marks if "late_records" in m.metadata]
        assert sorted((m.partition, m.metadata["late_records"].value) for m in late) == [
            (DAY0.isoformat(), 1),
            ((DAY0 + dt.timedelta(days=1)).isoformat(), 1),
        ]
    files = sorted(tmp_path.glob("events-*.jsonl"))
    assert_each_once(files, week)


def test_the_cohort_sensor_requests_a_run_with_who_joined_and_left(connected: Sandbox) -> None:
    cohorts = [
        {"name": "pro_users", "cohort_id": 1001, "inputs": {"project_id": connected.project_id}}
    ]
    defs = defs_of({"cohorts": cohorts})
    sensor = defs.resolve_sensor_def("pro_users")
    resources = {"mixpanel": defs.resources["mixpanel"]}

    def tick(cursor: str | None) -> Any:
        with dg.build_sensor_context(cursor=cursor, resources=resources) as context:
            return sensor(context)

    def profile(who: str, plan: str) -> None:
        body = {"$distinct_id": who, "$properties": {"plan": plan}}
        connected.store.resources.put(PROFILES, Context(), who, body)

    connected.store.save_report("cohorts", 1001, "Pro", {"where": 'properties["plan"] == "pro"'})
    profile("a", "pro")
    first = tick(None)
    assert first.run_requests[0].run_config["ops"]["pro_users_changes"]["config"]["added"] == ["a"]
    profile("a", "free")
    profile("b", "pro")
    second = tick(first.cursor)
    config = second.run_requests[0].run_config["ops"]["pro_users_changes"]["config"]
    assert (config["added"], config["removed"], config["members"]) == (["b"], ["a"], 1)
    third = tick(second.cursor)
    assert third.run_requests == [] and "$insert_id" not in third.cursor
    job = defs.resolve_job_def("pro_users_job")
    assert job.execute_in_process(run_config=second.run_requests[0].run_config).success
