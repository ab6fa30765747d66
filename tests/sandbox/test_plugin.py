"""The `sandbox` command, `run --sandbox`, `load_component(sandbox=True)` and `sandbox --reset`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import ConnectorError, InputError, load_component
from connector.budgets.memory import BudgetRegistry
from connector.catalog.spec import OperationSpec
from connector.cli.main import main
from connector.prepare.request import HTTPRequest
from connector.sandbox import Sandbox, plugin
from connector.send.response import RawResponse
from connector.send.transport import StreamedResponse, Transport
from tests.sandbox.commands import assert_lists_no_pipelines
from tests.specs.cases import example_inputs


@pytest.fixture
def state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "state" / "sandbox.sqlite3"
    monkeypatch.setenv(plugin.DB_ENV, str(path))
    yield path
    plugin.stop_embedded()


def test_embedded_sandbox_keeps_state_between_components_and_says_so(state_file: Path) -> None:
    first = load_component(sandbox=True, rate_registry=BudgetRegistry())
    events = [{"event": "Opened", "properties": {"distinct_id": "u1"}}]
    result = first.run("trackEvents", {"events": events}, {})
    assert result["data"] == 1
    assert result["sandbox"]["note"] == plugin.NOTE
    assert result["sandbox"]["db"] == str(state_file.resolve())
    plugin.stop_embedded()  # a later process: same file, same credentials, same events
    second = load_component(sandbox=True, rate_registry=BudgetRegistry())
    day = time.strftime("%Y-%m-%d", time.gmtime())
    exported = second.run("downloadData", {"from_date": day, "to_date": day}, {})
    assert [e["event"] for e in exported["data"]] == ["Opened"]
    assert set(exported) == {"data", "sandbox"}


class _Recording(Transport):
    """Sends as usual and keeps every request it was handed."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[HTTPRequest] = []

    def send(self, request: HTTPRequest, authorization: str | None) -> RawResponse:
        self.sent.append(request)
        return super().send(request, authorization)

    def open_stream(self, request: HTTPRequest, authorization: str | None) -> StreamedResponse:
        self.sent.append(request)
        return super().open_stream(request, authorization)


def _has_project_id(op: OperationSpec) -> bool:
    return any(
        spec.key == "project_id" or spec.label.lower() == "project id" for spec in op.value_inputs
    )


def _carries(request: HTTPRequest, project_id: str) -> bool:
    """The project id is in what the sandbox receives (query, form, body or path)."""
    return (
        f"/projects/{project_id}/" in request.url
        or ("project_id", project_id) in request.params
        or ("project_id", project_id) in request.form_fields
        or f"project_id={project_id}" in request.url
        or project_id.encode() in (request.content or b"")
    )


def test_every_operation_with_a_project_id_gets_the_sandbox_one(state_file: Path) -> None:
    transport = _Recording()
    component = load_component(sandbox=True, transport=transport, rate_registry=BudgetRegistry())
    project_id = component.embedded.sandbox.project_id
    spec = component.spec
    calls: list[tuple[str, str]] = []
    for key, op in {**spec.actions, **spec.data_sources}.items():
        if not _has_project_id(op):
            continue
        inputs = {k: v for k, v in example_inputs(op).items() if k != "project_id"}
        entries = ["fetch"] if key in spec.data_sources else ["run"]
        if op.paging or op.stream:
            entries.append("iter")
        for entry in entries:
            transport.sent.clear()
            try:
                if entry == "fetch":
                    component.fetch(key, inputs, {})
                elif entry == "run":
                    component.run(key, inputs, {})
                else:
                    list(component.iter(key, inputs, {}))
            except InputError as exc:
                pytest.fail(f"{entry} {key}: {exc}")
            except ConnectorError:  # the sandbox may refuse the examples (JQL, unknown names)
                pass
            assert transport.sent, f"{entry} {key} sent nothing"
            assert all(_carries(r, project_id) for r in transport.sent), (entry, key)
            calls.append((entry, key))
    keys = {key for _, key in calls}
    assert {"queryProfiles", "listSavedFunnels", "downloadData", "funnels"} <= keys
    assert ("iter", "queryProfiles") in calls and ("iter", "downloadData") in calls


def test_query_profiles_runs_on_the_sandbox_without_a_project_id(
    state_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "queryProfiles", "--sandbox"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["status"] == "ok"


def test_run_sandbox_prints_the_note(state_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "listSavedFunnels", "--sandbox"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["data"][0] == {"funnel_id": 7509, "name": "Signup funnel"}
    assert "not from Mixpanel" in printed["sandbox"]["note"]


def test_jql_through_the_cli_is_one_clear_line(
    state_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "customJQLQuery", "--sandbox", "--input", "script=x"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "The sandbox does not run JQL" in err


def test_reset_empties_the_state_file(state_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    component = load_component(sandbox=True, rate_registry=BudgetRegistry())
    component.run("createProfile", {"properties": [{"$distinct_id": "a", "$set": {"x": 1}}]}, {})
    plugin.stop_embedded()
    assert main(["sandbox", "--reset"]) == 0
    assert str(state_file) in capsys.readouterr().out
    with Sandbox(db=str(state_file)) as sb:
        assert sb.store.profile_count() == 0
        assert len(sb.store.reports("funnels")) == 2  # saved reports are seeded again


def test_sandbox_command_serves_until_interrupted(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "connector.cli", "sandbox", "--project-id", "4242", "--seed", "1"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(7)]
        base_url = lines[0]
        assert base_url.startswith("http://127.0.0.1:")
        fields = dict(line.split(": ", 1) for line in lines[1:])
        assert set(fields) == {
            "username",
            "password",
            "project token",
            "project id",
            "project secret",
            "oauth token",
        }
        assert fields["project id"] == "4242"
        assert_lists_no_pipelines(base_url, fields)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0


def test_a_file_database_keeps_credentials_and_state(tmp_path: Path) -> None:
    path = str(tmp_path / "kept.sqlite3")
    with Sandbox(db=path, project_id="777") as first:
        connection, token = first.connection, first.project_token
        first.store.save_report("funnels", 1, "Edited", {"id": 1, "name": "Edited", "steps": ["A"]})
    with Sandbox(db=path) as second:
        assert second.connection == connection and second.project_token == token
        assert second.project_id == "777"
        assert (1, "Edited") in [(i, n) for i, n, _ in second.store.reports("funnels")]
