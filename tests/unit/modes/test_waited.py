"""Wait until done: GDPR jobs against the sandbox, on a clock shared by both sides."""

from __future__ import annotations

import json
import logging
import pickle
import random
from collections.abc import Iterator
from typing import Any

import pytest

from connector import APIError, Component, InputError, JobError, JobFailed, JobTimeout, load_specs
from connector.core.progress import Figures
from connector.sandbox import Sandbox
from tests.http.helpers import FakeClock

EPOCH = 1_780_000_000.0


class Recorded:
    """A Progress that keeps every update."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update(self, figures: Figures) -> None:
        self.updates.append(dict(figures))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[Sandbox]:
    with Sandbox(clock=lambda: EPOCH + clock.t) as sb:
        yield sb
        assert sb.errors == []


@pytest.fixture
def component(sandbox: Sandbox, clock: FakeClock) -> Component:
    made = Component(
        load_specs(),
        base_url=sandbox.base_url,
        clock=clock,
        rng=random.Random(3),
        rate_registry=clock.registry(),
    )
    made.progress = Recorded()
    return made


def _posts(sandbox: Sandbox) -> list[str]:
    return [r["path"] for r in sandbox.requests() if r["method"] == "POST"]


def test_a_deletion_is_waited_for_until_success(
    component: Component, sandbox: Sandbox, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    inputs = {"distinct_ids": "u1, u2", "waitForCompletion": "true"}
    with caplog.at_level(logging.WARNING, logger="connector.waits"):
        result = component.run("createDataDeletion", inputs, sandbox.connection)
    job = result["data"]["results"]
    assert job["status"] == "SUCCESS" and job["distinct_ids"] == ["u1", "u2"]
    assert clock.sleeps == [5.0]  # PENDING at once, SUCCESS 5 s later (the job takes 3 s)
    notices = [r.getMessage() for r in caplog.records]
    assert notices == [
        f"Create Data Deletion: job {job['tracking_id']} is PENDING: checking again in 5.0 s "
        "(waited 0.0 s of at most 60 min 0 s)"
    ]
    updates = component.progress.updates  # type: ignore[attr-defined]
    assert [u.get("status") for u in updates if "status" in u] == ["PENDING", "SUCCESS"]
    assert {"waiting": notices[0]} in updates
    assert _posts(sandbox) == ["/api/app/data-deletions/v3.0"]


def test_the_interval_shows_each_status_as_the_job_moves(
    component: Component, sandbox: Sandbox, clock: FakeClock
) -> None:
    spec = component.spec.actions["createDataRetrieval"]
    faster = {**spec.wait, "interval_s": 1}
    component.spec.actions["createDataRetrieval"] = type(spec)(**{**vars(spec), "wait": faster})
    inputs = {"distinct_ids": "u1", "waitForCompletion": True}
    result = component.run("createDataRetrieval", inputs, sandbox.connection)
    assert result["data"]["results"]["status"] == "SUCCESS"
    assert result["data"]["results"]["results"].startswith("https://")
    statuses = [u["status"] for u in component.progress.updates if "status" in u]  # type: ignore[attr-defined]
    assert statuses == ["PENDING", "STAGING", "STAGING", "SUCCESS"]
    assert clock.sleeps == [1.0, 1.0, 1.0]


def test_a_failed_job_stops_with_its_id_and_status(component: Component, sandbox: Sandbox) -> None:
    inputs = {"distinct_ids": "sandbox-fail", "waitForCompletion": True}
    with pytest.raises(JobFailed) as caught:
        component.run("createDataDeletion", inputs, sandbox.connection)
    error = caught.value
    assert error.status == "FAILURE" and error.job_id
    assert str(error) == (
        f"Create Data Deletion: job {error.job_id} failed: Get Data Deletion Status says "
        "results.status = 'FAILURE', a failed status (FAILURE, REVOKED, NOT_FOUND)."
    )
    assert isinstance(pickle.loads(pickle.dumps(error)), JobFailed)


def test_a_cancelled_deletion_is_a_failed_job(component: Component, sandbox: Sandbox) -> None:
    created = component.run("createDataDeletion", {"distinct_ids": "u9"}, sandbox.connection)
    job_id = created["data"]["results"]["task_id"]
    assert component.run("cancelDataDeletion", {"tracking_id": job_id}, sandbox.connection) == {
        "data": None
    }
    with pytest.raises(JobFailed, match="'REVOKED'"):
        component.run(
            "createDataDeletion",
            {"tracking_id": job_id, "waitForCompletion": True},
            sandbox.connection,
        )


def test_a_slow_job_times_out_then_resumes_by_its_id(
    component: Component, sandbox: Sandbox, clock: FakeClock
) -> None:
    inputs = {"distinct_ids": "u1", "waitForCompletion": True, "maxWaitSeconds": 2}
    with pytest.raises(JobTimeout) as caught:
        component.run("createDataDeletion", inputs, sandbox.connection)
    job_id = caught.value.job_id
    assert caught.value.status == "STAGING"
    assert clock.sleeps == [2.0]  # never past the maximum wait
    assert f"Run Create Data Deletion again with Tracking ID (`tracking_id`) = {job_id}" in str(
        caught.value
    )
    resumed = {"tracking_id": job_id, "waitForCompletion": True}
    result = component.run("createDataDeletion", resumed, sandbox.connection)
    assert result["data"]["results"]["tracking_id"] == job_id
    assert result["data"]["results"]["status"] == "SUCCESS"
    assert _posts(sandbox) == ["/api/app/data-deletions/v3.0"]  # the resume created nothing


def test_without_waiting_the_answer_is_the_created_job_or_a_resumed_job_s_status(
    component: Component, sandbox: Sandbox, clock: FakeClock
) -> None:
    created = component.run("createDataRetrieval", {"distinct_ids": "u1"}, sandbox.connection)
    job_id = created["data"]["results"]["task_id"]
    assert created == {"data": {"status": "ok", "results": {"task_id": job_id}}}
    status = component.run("createDataRetrieval", {"tracking_id": job_id}, sandbox.connection)
    assert status["data"]["results"]["status"] == "PENDING"
    assert clock.sleeps == []


def test_a_resumed_id_is_one_path_segment(component: Component, sandbox: Sandbox) -> None:
    resume = {"tracking_id": "..", "waitForCompletion": True}
    with pytest.raises(InputError, match=r"Tracking ID \(`tracking_id`\): the URL would get"):
        component.run("createDataDeletion", resume, sandbox.connection)
    assert sandbox.requests() == []
    resume["tracking_id"] = "../x"
    with pytest.raises(APIError, match="no job with tracking id '../x'"):
        component.run("createDataDeletion", resume, sandbox.connection)
    assert [r["path"] for r in sandbox.requests()] == ["/api/app/data-deletions/v3.0/..%2Fx"]


def test_an_answer_without_a_job_id_is_a_clear_error(component: Component) -> None:
    from connector.modes.waited import _job_of

    call = component.bind("createDataDeletion", {"distinct_ids": "u1"}, {"projectToken": "t"})
    with pytest.raises(JobError, match="the answer names no job"):
        _job_of(call, {"status": "ok", "results": {}})


def test_no_secret_shows_in_waits_errors_or_progress(
    component: Component, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = [sandbox.oauth_token, sandbox.project_token, sandbox.password]
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(JobFailed) as caught:
            component.run(
                "createDataDeletion",
                {"distinct_ids": "sandbox-fail", "waitForCompletion": True},
                sandbox.connection,
            )
        preview = component.preview(
            "createDataDeletion", {"distinct_ids": "u1"}, sandbox.connection
        )
    shown = "\n".join(
        [
            caplog.text,
            str(caught.value),
            repr(caught.value),
            json.dumps(preview),
            json.dumps(component.progress.updates),  # type: ignore[attr-defined]
        ]
    )
    assert preview[0]["url"].endswith("?token=***")
    assert preview[0]["headers"]["Authorization"] == "***"
    for secret in secrets:
        assert secret not in shown


def test_the_steps_apart_start_check_and_resume_as_the_blocking_call_does(
    component: Component, sandbox: Sandbox, clock: FakeClock
) -> None:
    from connector.jobs import check_job, job_wait, start_job

    inputs = {"distinct_ids": "u1", "waitForCompletion": True, "maxWaitSeconds": 30}
    assert (
        job_wait(component, "createDataDeletion", {"distinct_ids": "u1"}, sandbox.connection)
        is None
    )
    assert (
        job_wait(component, "createAlias", {"alias": "a", "distinct_id": "b"}, sandbox.connection)
        is None
    )
    assert job_wait(component, "createDataDeletion", inputs, sandbox.connection) == {
        "interval_s": 5.0,
        "max_wait_s": 30.0,
    }
    job_id = start_job(component, "createDataDeletion", inputs, sandbox.connection)
    first = check_job(component, "createDataDeletion", job_id, inputs, sandbox.connection)
    assert (first["done"], first["status"]) == (False, "PENDING")
    clock.t += 5
    last = check_job(component, "createDataDeletion", job_id, inputs, sandbox.connection)
    assert last["done"] and last["data"]["results"]["status"] == "SUCCESS"
    resumed = {**inputs, "tracking_id": job_id}
    assert start_job(component, "createDataDeletion", resumed, sandbox.connection) == job_id
    assert _posts(sandbox) == ["/api/app/data-deletions/v3.0"]  # one job created, once
    made = start_job(component, "createDataDeletion", inputs, sandbox.connection)
    assert made != job_id
    with pytest.raises(JobTimeout, match=f"= {made} to wait for it again"):
        check_job(component, "createDataDeletion", made, inputs, sandbox.connection, waited_s=30)
    failing = {**inputs, "distinct_ids": "sandbox-fail"}
    failed = start_job(component, "createDataDeletion", failing, sandbox.connection)
    clock.t += 5
    with pytest.raises(JobFailed, match=f"job {failed} failed"):
        check_job(component, "createDataDeletion", failed, failing, sandbox.connection)
