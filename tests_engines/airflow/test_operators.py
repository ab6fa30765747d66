"""MixpanelOperator and MixpanelExportOperator: execute() against the sandbox, every kind."""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path

import pytest

from connector.engines.airflow.hooks import MixpanelHook
from connector.engines.airflow.operators import MixpanelExportOperator, MixpanelOperator
from connector.errors import AuthError, InputError
from connector.sandbox import Sandbox

from ..conftest import secrets_of
from ..scenario import (
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
from .conftest import set_connection


def run(action: str, inputs: dict[str, object]) -> object:
    return MixpanelOperator(task_id=action, action=action, inputs=inputs).execute({})


def test_hook_builds_the_connection_mapping_from_the_env_variable(conn: Sandbox) -> None:
    hook = MixpanelHook()
    assert hook.mixpanel_conn_id == "mixpanel_default"
    assert hook.get_conn() == conn.connection
    assert hook.component.base_url == conn.base_url


def test_operator_ingests_events_and_returns_the_result_as_xcom(conn: Sandbox) -> None:
    result = run("importEvents", {"project_id": conn.project_id, "events": events(3)})
    assert isinstance(result, dict) and imported(result) == (3, 3, 0)
    assert conn.store.dedup_event_count() == 3


def test_operator_runs_a_profile_query(conn: Sandbox) -> None:
    assert run("createProfile", profile_inputs()) == {"data": 1}
    assert conn.store.profile(PROFILE_ID) == {"plan": "pro"}
    found = run("queryProfiles", {"project_id": conn.project_id, "distinct_ids": [PROFILE_ID]})
    assert isinstance(found, dict)
    assert [(r["$distinct_id"], r["$properties"]) for r in found["data"]["results"]] == [
        (PROFILE_ID, {"plan": "pro"})
    ]


def test_operator_creates_a_pipeline_and_the_picklist_helper_lists_it(conn: Sandbox) -> None:
    created = run("createGCSPipeline", pipeline_inputs(conn))
    assert created == {"data": {"pipeline_names": ["events-daily-gcs-raw"]}}
    items = MixpanelHook().picklist("pipelines", {"project_id": conn.project_id})
    assert items == [
        {
            "label": f"events-daily-gcs-raw - PipelineId: {conn.project_id}",
            "key": "events-daily-gcs-raw",
        }
    ]


def test_connection_region_fills_the_actions_location_inputs(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_connection(monkeypatch, sandbox, region="api-eu")
    hook = MixpanelHook()
    assert hook.inputs_for("importEvents", {})["region"] == "api-eu"
    assert hook.inputs_for("queryProfiles", {})["regionAndDomain"] == "eu.mixpanel"
    assert hook.inputs_for("downloadData", {})["dataAndDomain"] == "data-eu"
    # A task's own choice wins over the connection's.
    assert hook.inputs_for("downloadData", {"dataAndDomain": "data"})["dataAndDomain"] == "data"


def test_export_operator_writes_json_lines_and_returns_only_path_and_count(
    conn: Sandbox, tmp_path: Path
) -> None:
    sent = events(5)
    run("importEvents", {"project_id": conn.project_id, "events": sent})
    target = tmp_path / "out" / "events.jsonl"
    op = MixpanelExportOperator(task_id="e", path=str(target), inputs=export_inputs(conn))
    xcom = op.execute({})
    assert xcom == exported(str(target), 5)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert sorted(r["properties"]["$insert_id"] for r in rows) == [f"eng{i}" for i in range(5)]
    assert list(target.parent.iterdir()) == [target]  # no partial file left behind


def test_a_failed_export_never_appears_under_the_files_name(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_connection(monkeypatch, sandbox, password="not-the-sandbox-secret")
    target = tmp_path / "events.jsonl"
    target.write_text("yesterday's export\n")
    op = MixpanelExportOperator(task_id="e", path=str(target), inputs=export_inputs(sandbox))
    with pytest.raises(AuthError):
        op.execute({})
    # As the CLI's --output: the complete file stays, what was written is left as .partial.
    assert target.read_text() == "yesterday's export\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.jsonl", "events.jsonl.partial"]


def test_export_operator_writes_to_an_object_storage_path(conn: Sandbox, tmp_path: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    run("importEvents", {"project_id": conn.project_id, "events": events(2)})
    target = ObjectStoragePath(f"file://{tmp_path}/exports/events.jsonl")
    target.parent.mkdir(parents=True)
    xcom = MixpanelExportOperator(task_id="e", path=target, inputs=export_inputs(conn)).execute({})
    assert xcom == exported(str(target), 2)
    assert len(target.read_text().splitlines()) == 2


def test_export_operator_writes_to_an_fsspec_url(conn: Sandbox) -> None:
    import fsspec

    run("importEvents", {"project_id": conn.project_id, "events": events(2)})
    url = "memory://exports/mixpanel/events.jsonl"
    xcom = MixpanelExportOperator(task_id="e", path=url, inputs=export_inputs(conn)).execute({})
    assert xcom == exported(url, 2)
    with fsspec.open(url, "rt") as handle:
        assert [json.loads(line)["event"] for line in handle] == ["Played", "Played"]


def test_a_failed_export_leaves_no_object_behind(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fsspec

    set_connection(monkeypatch, sandbox, password="not-the-sandbox-secret")
    url = "memory://exports/failing/events.jsonl"
    op = MixpanelExportOperator(task_id="e", path=url, inputs=export_inputs(sandbox))
    with pytest.raises(AuthError):
        op.execute({})
    assert not fsspec.filesystem("memory").exists("/exports/failing/events.jsonl")


def test_hook_registers_secrets_and_derived_headers_with_airflows_masker(conn: Sandbox) -> None:
    from airflow.sdk.log import mask_logs

    MixpanelHook().get_conn()
    secrets = secrets_of(conn.connection)
    line = f"creds {sorted(conn.connection.values())} headers {secrets}"
    # mask_logs is the processor Airflow's task runner applies to every task log line.
    masked = mask_logs(None, "info", {"event": line})["event"]
    assert conn.connection["username"] in masked  # not a secret: the line is otherwise intact
    for secret in secrets:
        assert secret not in masked
    # Every connection value but the username is a secret, and so is every derived header.
    assert masked.count("***") == len(conn.connection) - 1 + len(secrets)


def test_operators_check_the_action_and_inputs_when_constructed() -> None:
    from connector import InputError

    with pytest.raises(InputError, match=r"Did you mean Where \(`where`\)"):
        MixpanelOperator(task_id="q", action="queryProfiles", inputs={"project_id": "1", "wher": 1})
    with pytest.raises(InputError, match=r"To Date \(`to_date`\): required"):
        MixpanelExportOperator(task_id="e", path="/tmp/e.jsonl", inputs={"project_id": "1"})
    # Templates are rendered when the task runs: a templated value counts as given, and a
    # templated action is checked then.
    MixpanelOperator(task_id="t", action="queryProfiles", inputs={"project_id": "{{ params.p }}"})
    MixpanelOperator(task_id="a", action="{{ params.action }}", inputs={"anything": 1})


def test_a_record_token_never_reaches_the_xcom_the_error_or_the_task_log(
    conn: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    records = token_events(conn.connection["projectToken"])
    xcom = run("trackEvents", {"events": records, "useProjectToken": False})
    assert isinstance(xcom, dict)
    (refused,) = xcom["data"]["failed_records"]
    assert refused["index"] == 1 and "'token': '***'" in refused["message"]
    assert RECORD_TOKEN not in json.dumps(xcom)
    with pytest.raises(InputError) as caught:  # every record refused: the task fails
        run("trackEvents", {"events": records[1:], "useProjectToken": False})
    assert "'token': '***'" in str(caught.value)
    assert RECORD_TOKEN not in str(caught.value) and RECORD_TOKEN not in caplog.text


@pytest.mark.parametrize("as_text", [False, True], ids=["records", "json-text"])
def test_a_record_token_is_masked_in_the_rendered_template(conn: Sandbox, as_text: bool) -> None:
    from airflow.sdk.execution_time.task_runner import _serialize_rendered_fields

    token = f"RENDERED-{uuid.uuid4().hex}"  # never registered before this test
    records = token_events(conn.connection["projectToken"])
    records[1]["properties"]["token"] = token
    events_input: object = json.dumps(records) if as_text else records
    op = MixpanelOperator(
        task_id="t", action="trackEvents", inputs={"events": events_input, "useProjectToken": False}
    )
    op.render_template_fields({})  # what Airflow's task runner does before storing them
    # Airflow's own masker hides values under keys named like "token"; events given as JSON
    # text have no such key to hide behind: only the registered token masks them.
    # The rendered fields as the task runner sends them to the API server (Rendered Template).
    shown = json.dumps(_serialize_rendered_fields(op))
    assert token not in shown
    assert "***" in shown
