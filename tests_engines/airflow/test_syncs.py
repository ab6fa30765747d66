"""MixpanelSyncOperator in real daily DAG runs against the sandbox: late events once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pendulum
import pytest

from connector.sandbox import Sandbox
from connector.sandbox.models.base import Context
from connector.sandbox.models.families import PROFILES

from ..sync_scenario import DAY0, DAYS, assert_each_once, run_week
from .conftest import set_connection


def _xcom(run: Any, task_id: str) -> Any:
    return run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


def test_a_week_of_daily_dag_runs_delivers_each_event_once(
    airflow_db: None, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, sandbox)
    from .dags.mixpanel_sync import dag

    path = tmp_path / "events.jsonl"
    sandbox.store.save_report("cohorts", 1001, "Pro", {"where": 'properties["plan"] == "pro"'})
    cohorts: list[Any] = []

    def sync_day(day: dt.date) -> dict[str, Any]:
        who = f"p{day:%d}"
        body = {"$distinct_id": who, "$properties": {"plan": "pro"}}
        sandbox.store.resources.put(PROFILES, Context(), who, body)
        # The daily run for `day` starts at midnight after it: its data interval ends then.
        after = pendulum.datetime(day.year, day.month, day.day, tz="UTC").add(days=1)
        run = dag.test(
            logical_date=after,
            run_conf={"project_id": sandbox.project_id, "path": str(path)},
        )
        cohorts.append(_xcom(run, "pro_cohort"))
        summary: dict[str, Any] = _xcom(run, "events")
        assert summary["until"] == day.isoformat()
        return summary

    week = run_week(sandbox, sync_day)
    assert_each_once(path, week)
    # Each day one profile joins the "pro" cohort: the task's XCom names it, once.
    joined = [f"p{DAY0 + dt.timedelta(days=n):%d}" for n in range(DAYS)]
    assert [c["added"] for c in cohorts] == [[who] for who in joined] + [[]]
    assert all(c["removed"] == [] for c in cohorts)
