"""A Prefect flow imports, queries profiles, exports and creates a pipeline against the sandbox."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from prefect import flow

from connector.engines.prefect import (
    MixpanelCredentials,
    export_to_file,
    fetch_picklist,
    run_action,
)
from connector.errors import InputError, RateLimitError
from connector.sandbox import Sandbox

from ..conftest import BUDGETS, secrets_of
from ..scenario import (
    EVERY_KIND_PATHS,
    PROFILE_ID,
    RECORD_TOKEN,
    events,
    export_inputs,
    exported,
    imported,
    pipeline_inputs,
    profile_inputs,
    token_events,
)


@flow
def every_kind(
    project_id: str, export_path: str, export: dict[str, Any], pipeline: dict[str, Any]
) -> dict[str, Any]:
    credentials = MixpanelCredentials.load("sandbox")
    ingested = run_action(
        credentials, "importEvents", {"project_id": project_id, "events": events(4)}
    )
    profile = run_action(credentials, "createProfile", profile_inputs())
    query = run_action(
        credentials, "queryProfiles", {"project_id": project_id, "distinct_ids": [PROFILE_ID]}
    )
    exported = export_to_file(credentials, export_path, export)
    created = run_action(credentials, "createGCSPipeline", pipeline)
    picklist = fetch_picklist(credentials, "pipelines", {"project_id": project_id})
    return {
        "ingested": ingested,
        "profile": profile,
        "query": query,
        "exported": exported,
        "created": created,
        "picklist": picklist,
    }


@pytest.fixture(scope="module")
def flow_run(harness: None, tmp_path_factory: pytest.TempPathFactory) -> Any:
    export_path = str(tmp_path_factory.mktemp("export") / "events.jsonl")
    with Sandbox() as sandbox:
        MixpanelCredentials(**sandbox.connection, base_url=sandbox.base_url).save(
            "sandbox", overwrite=True
        )
        result = every_kind(
            sandbox.project_id, export_path, export_inputs(sandbox), pipeline_inputs(sandbox)
        )
        yield result, sandbox, export_path
        assert sandbox.errors == []


def test_the_flow_ingests_and_queries(flow_run: Any) -> None:
    result, sandbox, _ = flow_run
    assert imported(result["ingested"]) == (4, 4, 0)
    assert sandbox.store.dedup_event_count() == 4
    assert result["profile"] == {"data": 1}
    assert sandbox.store.profile(PROFILE_ID) == {"plan": "pro"}
    found = result["query"]["data"]["results"]
    assert [(r["$distinct_id"], r["$properties"]) for r in found] == [(PROFILE_ID, {"plan": "pro"})]


def test_the_flow_exports_to_a_file_and_returns_only_path_and_count(flow_run: Any) -> None:
    result, _, export_path = flow_run
    assert result["exported"] == exported(export_path, 4)
    rows = [json.loads(line) for line in Path(export_path).read_text().splitlines()]
    assert sorted(r["properties"]["$insert_id"] for r in rows) == [f"eng{i}" for i in range(4)]


def test_the_flow_creates_a_pipeline_and_lists_it(flow_run: Any) -> None:
    result, sandbox, _ = flow_run
    assert result["created"] == {"data": {"pipeline_names": ["events-daily-gcs-raw"]}}
    assert result["picklist"] == [
        {
            "label": f"events-daily-gcs-raw - PipelineId: {sandbox.project_id}",
            "key": "events-daily-gcs-raw",
        }
    ]
    paths = [r["path"] for r in sandbox.store.requests()]
    assert paths == [*EVERY_KIND_PATHS, "/api/2.0/nessie/pipeline/jobs"]


def test_region_on_the_block_reaches_every_location_input(harness: None) -> None:
    block = MixpanelCredentials(region="api-in")
    component = block.component()
    assert block.inputs_for(component, "importEvents", {})["region"] == "api-in"
    assert block.inputs_for(component, "downloadData", {})["dataAndDomain"] == "data-in"
    assert block.inputs_for(component, "queryProfiles", {})["regionAndDomain"] == "in.mixpanel"


def test_task_logs_carry_no_secret(
    harness: None, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    @flow
    def failing() -> None:
        credentials = MixpanelCredentials(
            **{**sandbox.connection, "password": "WRONGSECRET-prefect-42"},
            base_url=sandbox.base_url,
        )
        run_action(credentials, "downloadData", export_inputs(sandbox))

    caplog.set_level(logging.DEBUG)
    state = failing(return_state=True)
    assert state.is_failed()
    assert "401" in caplog.text or "Auth" in caplog.text
    for secret in [*secrets_of(sandbox.connection), "WRONGSECRET-prefect-42"]:
        assert secret not in caplog.text


def test_tasks_wait_for_the_export_budget_instead_of_failing(
    harness: None, sandbox: Sandbox
) -> None:
    # Raw export allows 3 calls per second; five in a row must spread over two seconds at the
    # server, each task waiting for the budget rather than failing (rate_wait_s, 60 s default).
    credentials = MixpanelCredentials(**sandbox.connection, base_url=sandbox.base_url)

    @flow
    def five_exports() -> list[int]:
        return [
            len(run_action(credentials, "downloadData", export_inputs(sandbox))["data"])
            for _ in range(5)
        ]

    assert five_exports() == [0] * 5
    assert Path(BUDGETS).stat().st_size > 0  # the grants went through the SQLite store
    starts = sorted(r["started"] for r in sandbox.store.requests())  # milliseconds
    assert len(starts) == 5
    # No 4 requests within one second: the 4th and 5th waited for the first two to age out.
    assert all(later - earlier >= 1000 for earlier, later in zip(starts, starts[3:], strict=False))


def test_a_task_that_may_not_wait_fails_on_the_hourly_budget_but_waits_out_a_second(
    harness: None, sandbox: Sandbox
) -> None:
    credentials = MixpanelCredentials(**sandbox.connection, base_url=sandbox.base_url)

    @flow
    def exports(count: int) -> Any:
        for _ in range(count):
            run_action(credentials, "downloadData", export_inputs(sandbox), rate_wait_s=0)

    # The per-second window is always waited for, even by a task allowed no wait.
    assert exports(4, return_state=True).is_completed()
    assert len(sandbox.store.requests()) == 4
    with sqlite3.connect(BUDGETS) as db:  # the rest of the hour's 60, used just now
        at = time.time()
        db.executemany(
            "INSERT INTO grants VALUES (?, ?, ?, ?)",
            [
                ("export", f"{sandbox.project_id} at {sandbox.base_url}", at, f"other-{n}")
                for n in range(56)
            ],
        )
    state = exports(1, return_state=True)
    assert state.is_failed()
    with pytest.raises(RateLimitError, match="Raw Export API budget of 60 queries per hour"):
        state.result()
    assert len(sandbox.store.requests()) == 4


def test_a_record_token_never_reaches_results_task_logs_or_failed_states(
    harness: None, sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    credentials = MixpanelCredentials(**sandbox.connection, base_url=sandbox.base_url)
    records = token_events(sandbox.connection["projectToken"])

    @flow
    def track(events: list[dict[str, Any]]) -> Any:
        return run_action(credentials, "trackEvents", {"events": events, "useProjectToken": False})

    caplog.set_level(logging.DEBUG)
    result = track(records)
    (refused,) = result["data"]["failed_records"]
    assert refused["index"] == 1 and "'token': '***'" in refused["message"]
    assert RECORD_TOKEN not in json.dumps(result)
    state = track(records[1:], return_state=True)  # every record refused: the flow fails
    assert state.is_failed()
    assert "'token': '***'" in str(state.message) and RECORD_TOKEN not in str(state.message)
    with pytest.raises(InputError) as caught:
        state.result()
    assert RECORD_TOKEN not in str(caught.value)
    assert RECORD_TOKEN not in caplog.text
