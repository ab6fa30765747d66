"""A job-creating action in Prefect: one blocking task that waits until the job is done.

Prefect tasks hold their worker while they run and have no deferral; the documented way to
wait for an external job is the task itself polling (here the runtime's `wait:` mode, as the
action's spec declares it). A failed job fails the task run, naming the job's id.
"""

from __future__ import annotations

from typing import Any

from prefect import flow

from connector.engines.prefect import MixpanelCredentials, run_action
from connector.sandbox import Sandbox


@flow
def gdpr(connection: dict[str, Any], base_url: str, distinct_ids: str) -> dict[str, Any]:
    credentials = MixpanelCredentials(**connection, base_url=base_url)
    inputs = {"distinct_ids": distinct_ids, "waitForCompletion": True}
    return run_action(credentials, "createDataDeletion", inputs)


def test_the_task_blocks_until_the_job_is_done(harness: None, sandbox: Sandbox) -> None:
    result = gdpr(sandbox.connection, sandbox.base_url, "u1, u2")
    assert result["data"]["results"]["status"] == "SUCCESS"
    assert result["data"]["results"]["distinct_ids"] == ["u1", "u2"]
    assert [r["method"] for r in sandbox.requests()].count("POST") == 1


def test_a_failed_job_fails_the_task_run_naming_the_job(harness: None, sandbox: Sandbox) -> None:
    state = gdpr(sandbox.connection, sandbox.base_url, "sandbox-fail", return_state=True)
    assert state.is_failed()
    message = str(state.message) + repr(state.result(raise_on_failure=False))
    assert "failed: Get Data Deletion Status says results.status = 'FAILURE'" in message
