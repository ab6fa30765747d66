"""A job-creating action in Dagster: one op (or asset) that blocks until the job is done.

Dagster runs an op to completion in its run worker; the action's spec (`wait:`) makes the
runtime poll the job's status inside that op. A failed job fails the run, naming the job's id.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from connector.sandbox import Sandbox

from ..conftest import secrets_of
from .test_component import defs_of


def _defs(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, distinct_ids: str) -> dg.Definitions:
    variables = {"username": "U", "password": "P", "projectToken": "T", "oauthToken": "O"}
    for key, variable in variables.items():
        monkeypatch.setenv(f"TEST_MIXPANEL_{variable}", sandbox.connection[key])
    connection = {f"{key}_env": f"TEST_MIXPANEL_{v}" for key, v in variables.items()}
    inputs = {"distinct_ids": distinct_ids, "waitForCompletion": True}
    actions = [{"name": "forget", "action": "createDataDeletion", "kind": "job", "inputs": inputs}]
    return defs_of({"connection": {**connection, "base_url": sandbox.base_url}, "actions": actions})


def test_the_op_blocks_until_the_job_is_done(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    defs = _defs(sandbox, monkeypatch, "u1, u2")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = defs.resolve_job_def("forget").execute_in_process(instance=instance)
        logged = " ".join(str(e) for e in instance.all_logs(result.run_id))
    assert result.success
    assert result.output_for_node("forget_op")["data"]["results"]["status"] == "SUCCESS"
    assert [r["method"] for r in sandbox.requests()].count("POST") == 1
    for secret in secrets_of(sandbox.connection):
        assert secret not in logged


def test_a_failed_job_fails_the_run_naming_the_job(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    defs = _defs(sandbox, monkeypatch, "sandbox-fail")
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        result = defs.resolve_job_def("forget").execute_in_process(
            instance=instance, raise_on_error=False
        )
    assert not result.success
    failure = result.failure_data_for_node("forget_op")
    assert failure is not None
    assert "failed: Get Data Deletion Status says results.status = 'FAILURE'" in str(failure.error)
