"""A job-creating action, deferred: the task creates the job, a trigger polls it, the task resumes.

Against the sandbox, whose GDPR jobs go PENDING, STAGING, SUCCESS over a few seconds. The
trigger is rebuilt from its serialized form first, as the triggerer does.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from connector.engines.airflow.operators import MixpanelOperator
from connector.engines.airflow.provider import get_provider_info
from connector.engines.airflow.triggers import MixpanelJobTrigger
from connector.errors import JobFailed, JobTimeout
from connector.sandbox import Sandbox

from .conftest import set_connection

ACTION = "createDataDeletion"


def _deferred(inputs: dict[str, Any]) -> tuple[MixpanelOperator, TaskDeferred]:
    operator = MixpanelOperator(task_id="gdpr", action=ACTION, inputs=inputs, deferrable=True)
    with pytest.raises(TaskDeferred) as caught:
        operator.execute({})
    return operator, caught.value


def _event(deferred: TaskDeferred) -> dict[str, Any]:
    """The trigger's one event, run from its serialized form as the triggerer would."""
    classpath, kwargs = deferred.trigger.serialize()
    module, _, name = classpath.rpartition(".")
    trigger = getattr(importlib.import_module(module), name)(**kwargs)
    assert isinstance(trigger, MixpanelJobTrigger)

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first())


def _creates(sandbox: Sandbox) -> int:
    return sum(1 for r in sandbox.requests() if r["method"] == "POST")


def test_the_task_defers_while_the_job_runs_and_resumes_with_its_last_status(
    conn: Sandbox,
) -> None:
    operator, deferred = _deferred({"distinct_ids": "u1, u2", "waitForCompletion": True})
    assert deferred.method_name == "execute_complete"
    assert _creates(conn) == 1  # the job exists before the task lets go of its worker
    event = _event(deferred)
    assert event["event"] == "done" and event["status"] == "SUCCESS"
    result = operator.execute_complete({}, event)
    assert result["data"]["results"]["status"] == "SUCCESS"
    assert result["data"]["results"]["tracking_id"] == event["job_id"]
    assert _creates(conn) == 1  # polling created nothing


def test_a_failed_job_fails_the_resumed_task_naming_the_job(conn: Sandbox) -> None:
    operator, deferred = _deferred({"distinct_ids": "sandbox-fail", "waitForCompletion": True})
    event = _event(deferred)
    assert event["event"] == "error" and event["error"] == "JobFailed"
    with pytest.raises(JobFailed) as caught:
        operator.execute_complete({}, event)
    assert caught.value.job_id == event["job_id"]
    assert f"job {event['job_id']} failed" in str(caught.value)


def test_past_the_maximum_wait_the_task_fails_then_resumes_by_the_job_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [time.time()]  # the sandbox's clock: its jobs stay PENDING until it moves
    with Sandbox(clock=lambda: now[0]) as sandbox:
        set_connection(monkeypatch, sandbox)
        inputs = {"distinct_ids": "u1", "waitForCompletion": True, "maxWaitSeconds": 1}
        operator, deferred = _deferred(inputs)
        event = _event(deferred)
        assert event["error"] == "JobTimeout"
        with pytest.raises(JobTimeout) as caught:
            operator.execute_complete({}, event)
        job_id = caught.value.job_id
        assert caught.value.status == "PENDING"
        assert f"Tracking ID (`tracking_id`) = {job_id}" in str(caught.value)
        now[0] += 10  # the job finishes
        resumed, again = _deferred({"tracking_id": job_id, "waitForCompletion": True})
        assert again.trigger.serialize()[1]["job_id"] == job_id
        result = resumed.execute_complete({}, _event(again))
        assert result["data"]["results"]["tracking_id"] == job_id
        assert _creates(sandbox) == 1  # the resume created no job
        assert sandbox.errors == []


def test_without_wait_for_completion_nothing_is_deferred(conn: Sandbox) -> None:
    operator = MixpanelOperator(
        task_id="gdpr", action=ACTION, inputs={"distinct_ids": "u1"}, deferrable=True
    )
    result = operator.execute({})
    assert result["data"]["results"]["task_id"]
    alias = MixpanelOperator(
        task_id="alias",
        action="createAlias",
        inputs={"alias": "a-1", "distinct_id": "d-1"},
        deferrable=True,
    )
    assert alias.execute({}) == {"data": 1}


def test_the_blocking_task_waits_for_the_same_job_itself(conn: Sandbox) -> None:
    operator = MixpanelOperator(
        task_id="gdpr",
        action=ACTION,
        inputs={"distinct_ids": "u1", "waitForCompletion": True},
        deferrable=False,
    )
    assert operator.execute({})["data"]["results"]["status"] == "SUCCESS"


def test_the_provider_declares_the_trigger_module() -> None:
    modules = [m for t in get_provider_info()["triggers"] for m in t["python-modules"]]
    assert modules == ["connector.engines.airflow.triggers"]


GDPR_DAG = """
mixpanel_gdpr:
  schedule: null
  start_date: 2026-01-01
  tasks:
    - task_id: forget
      operator: connector.engines.airflow.operators.MixpanelOperator
      action: createDataDeletion
      deferrable: true
      inputs:
        distinct_ids: u1, u2
        waitForCompletion: true
"""


def test_a_dag_factory_task_defers_and_the_dag_run_succeeds(
    airflow_db: None, conn: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dag.test() runs the trigger in process, as the triggerer would between the two halves."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    from connector.engines.airflow import triggers

    from .test_dag_factory import dag_file, dagbag

    polled: list[str] = []
    checked = triggers._checked

    def recorded(*args: Any) -> dict[str, Any]:
        found = checked(*args)
        polled.append(found.get("status") or found["event"])
        return found

    monkeypatch.setattr(triggers, "_checked", recorded)

    dag_file(tmp_path / "dags", "mixpanel_gdpr", GDPR_DAG)
    bag = dagbag(tmp_path / "dags")
    assert bag.import_errors == {}
    dag = bag.get_dag("mixpanel_gdpr")
    assert dag.get_task("forget").deferrable is True
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    run = dag.test()
    assert run.get_task_instance("forget").state == "success"
    result = run.get_task_instance("forget").xcom_pull(task_ids="forget")
    assert result["data"]["results"]["status"] == "SUCCESS"
    assert polled[0] == "PENDING" and polled[-1] == "SUCCESS"  # the trigger polled, not the task
    assert _creates(conn) == 1
