"""A real DAG run (`dag.test()`) against the sandbox: templated inputs and XComs, end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox import Sandbox

from ..scenario import EVERY_KIND_PATHS, PROFILE_ID, events, exported, imported, profile_inputs
from .conftest import set_connection

TASKS = ["ingest", "profile", "query", "export", "pipeline"]


@pytest.fixture(scope="module")
def dag_run(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    export_path = tmp_path_factory.mktemp("export") / "events.jsonl"
    with Sandbox() as sandbox, pytest.MonkeyPatch.context() as monkeypatch:
        set_connection(monkeypatch, sandbox)
        from .dags.mixpanel_every_kind import dag

        run = dag.test(
            run_conf={
                "project_id": sandbox.project_id,
                "events": events(4),
                "profiles": profile_inputs()["properties"],
                "distinct_ids": [PROFILE_ID],
                "export_path": str(export_path),
                "bucket": "engine-exports",
            }
        )
        yield run, sandbox, export_path
        assert sandbox.errors == []


def xcom(run: Any, task_id: str) -> Any:
    return run.get_task_instance(task_id).xcom_pull(task_ids=task_id)


def test_every_task_succeeds(dag_run: Any) -> None:
    run, *_ = dag_run
    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == dict.fromkeys(
        TASKS, "success"
    )


def test_the_sandbox_holds_what_the_run_sent(dag_run: Any) -> None:
    _, sandbox, _ = dag_run
    assert sandbox.store.dedup_event_count() == 4
    assert sandbox.store.profile(PROFILE_ID) == {"plan": "pro"}
    assert [r["path"] for r in sandbox.store.requests()] == EVERY_KIND_PATHS


def test_results_are_the_xcoms(dag_run: Any) -> None:
    run, _, export_path = dag_run
    assert imported(xcom(run, "ingest")) == (4, 4, 0)
    assert xcom(run, "profile") == {"data": 1}
    assert [r["$distinct_id"] for r in xcom(run, "query")["data"]["results"]] == [PROFILE_ID]
    assert xcom(run, "pipeline") == {"data": {"pipeline_names": ["events-daily-gcs-raw"]}}
    # The export's XCom says where the events went and how many, never the events.
    assert xcom(run, "export") == exported(str(export_path), 4)
    rows = [json.loads(line) for line in Path(export_path).read_text().splitlines()]
    assert sorted(r["properties"]["$insert_id"] for r in rows) == [f"eng{i}" for i in range(4)]
