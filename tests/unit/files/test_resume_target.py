"""A resume belongs to its target: another server, project or credential starts fresh, says why.

Server A fails after two batches (or export windows); the same job run against server B, or
with another project or credential, sends everything there and keeps nothing of A's.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connector import APIError, RetryPolicy, load_component
from connector.budgets.memory import BudgetRegistry
from connector.cli.main import main
from tests.conftest import TEST_CONNECTION
from tests.unit.export_server import ExportServer, Plan, day_lines, event

FAST = RetryPolicy(max_attempts=1)
OTHER_CONNECTION = {**TEST_CONNECTION, "password": "OTHERSECRETc0ffee5ca1ab1e9876543210"}


class Ingest:
    """An /import on 127.0.0.1 that counts the events it got; it may refuse after N requests."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.ids: list[str] = []
        self.answered = 0
        self.server = HTTPServer(host="127.0.0.1", port=0)
        self.server.expect_request("/import").respond_with_handler(self.answer)

    def answer(self, request: Request) -> Response:
        if self.fail_after is not None and self.answered >= self.fail_after:
            return Response('{"error": "Unauthorized"}', 401, content_type="application/json")
        events = json.loads(gzip.decompress(request.get_data()))
        self.ids.extend(e["properties"]["$insert_id"] for e in events)
        self.answered += 1
        body = {"code": 200, "num_records_imported": len(events), "status": "OK"}
        return Response(json.dumps(body), 200, content_type="application/json")

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")


@pytest.fixture
def servers() -> Iterator[tuple[Ingest, Ingest]]:
    a, b = Ingest(fail_after=2), Ingest()
    a.server.start()
    b.server.start()
    try:
        yield a, b
    finally:
        a.server.stop()
        b.server.stop()


def _events(count: int) -> list[dict[str, Any]]:
    return [
        {"event": "e", "properties": {"time": 1618716477 + n, "distinct_id": f"u{n}"}}
        for n in range(count)
    ]


def _import(url: str, checkpoint: Path, project: str, connection: dict[str, str]) -> Any:
    component = load_component(url, rate_registry=BudgetRegistry(), retry=FAST)
    inputs = {"events": _events(5000), "project_id": project}
    return component.run("importEvents", inputs, connection, workers=1, checkpoint=checkpoint)


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("server", "another server"),
        ("project", "other inputs: Project ID (project_id)"),
        ("credential", "another credential"),
    ],
)
def test_an_import_checkpoint_of_another_target_is_not_used(
    servers: tuple[Ingest, Ingest],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    where: str,
    why: str,
) -> None:
    a, b = servers
    checkpoint = tmp_path / "import.checkpoint"
    with pytest.raises(APIError):
        _import(a.url, checkpoint, "1", TEST_CONNECTION)
    assert len(a.ids) == 4000 and checkpoint.exists()  # 2 batches of 2000 acknowledged
    recorded = checkpoint.read_text()
    assert (
        TEST_CONNECTION["password"] not in recorded and TEST_CONNECTION["username"] not in recorded
    )

    a.fail_after = None  # the same server works again: only the target decides
    again = b if where == "server" else a
    before = len(again.ids)
    project = "2" if where == "project" else "1"
    connection = OTHER_CONNECTION if where == "credential" else TEST_CONNECTION
    data = _import(again.url, checkpoint, project, connection)["data"]

    assert len(again.ids) - before == 5000  # every event went to the new target
    assert len(set(again.ids[before:])) == 5000
    assert "batches_skipped" not in data and data["records_sent"] == 5000
    assert why in data["started_over"] and "every batch is sent" in data["started_over"]
    assert why in caplog.text
    assert not checkpoint.exists()


def test_an_import_checkpoint_of_the_same_target_is_still_used(
    servers: tuple[Ingest, Ingest], tmp_path: Path
) -> None:
    a, _ = servers
    checkpoint = tmp_path / "import.checkpoint"
    with pytest.raises(APIError):
        _import(a.url, checkpoint, "1", TEST_CONNECTION)
    a.fail_after = None
    data = _import(a.url, checkpoint, "1", TEST_CONNECTION)["data"]
    assert data["batches_skipped"] == 2 and data["records_sent"] == 1000
    assert "started_over" not in data and len(set(a.ids)) == len(a.ids) == 5000


DAYS = [f"2024-03-0{d}" for d in range(1, 6)]


def _server(tag: str) -> ExportServer:
    events = {day: [event(day, n, source=tag) for n in range(4)] for day in DAYS}
    return ExportServer(day_lines(events))


def _export(url: str, target: Path, project: str) -> int:
    return main(
        [
            "run", "downloadData", "-i", f"from_date={DAYS[0]}", "-i", f"to_date={DAYS[-1]}",
            "-i", f"project_id={project}", "-i", "daysPerRequest=1",
            "--base-url", url, "--output", str(target),
        ]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("where", "why"),
    [
        ("server", "another server"),
        ("project", "other inputs: Project ID (project_id)"),
        ("credential", "another credential"),
    ],
)
def test_a_partial_export_of_another_target_is_not_kept(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    why: str,
) -> None:
    monkeypatch.setenv("MIXPANEL_USERNAME", TEST_CONNECTION["username"])
    monkeypatch.setenv("MIXPANEL_PASSWORD", TEST_CONNECTION["password"])
    target = tmp_path / "out.jsonl"
    with _server("A") as a, _server("B") as b:
        a.plans[DAYS[3]] = [Plan(status=401)]  # A fails after three windows
        assert _export(a.url, target, "7") == 1
        state = json.loads((tmp_path / "out.jsonl.partial.json").read_text())
        assert len(state["windows"]) == 3
        assert TEST_CONNECTION["password"] not in json.dumps(state)
        capsys.readouterr()

        if where == "credential":
            monkeypatch.setenv("MIXPANEL_PASSWORD", OTHER_CONNECTION["password"])
        again = b if where == "server" else a
        again.lines = b.lines  # the same server now answers what B holds: only the target decides
        again.requests.clear()
        project = "8" if where == "project" else "7"
        assert _export(again.url, target, project) == 0
        summary = json.loads(capsys.readouterr().out)
        assert len(again.requests) == 5  # every window fetched from the new target
    lines = [json.loads(line) for line in target.read_bytes().splitlines()]
    assert len(lines) == 20 and {e["properties"]["source"] for e in lines} == {"B"}
    assert "windows_kept" not in summary and why in summary["started_over"]


def test_a_partial_export_of_the_same_target_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIXPANEL_USERNAME", TEST_CONNECTION["username"])
    monkeypatch.setenv("MIXPANEL_PASSWORD", TEST_CONNECTION["password"])
    target = tmp_path / "out.jsonl"
    with _server("A") as a:
        a.plans[DAYS[3]] = [Plan(status=401)]
        assert _export(a.url, target, "7") == 1
        capsys.readouterr()
        assert _export(a.url, target, "7") == 0
        summary = json.loads(capsys.readouterr().out)
    assert summary["windows_kept"] == 3 and "started_over" not in summary
    assert len(target.read_bytes().splitlines()) == 20


@pytest.mark.parametrize("where", ["server", "credential"])
def test_a_file_import_run_again_elsewhere_sends_every_event_there(
    servers: tuple[Ingest, Ingest],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
) -> None:
    a, b = servers
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in _events(5000)))
    monkeypatch.setenv("MIXPANEL_USERNAME", TEST_CONNECTION["username"])
    monkeypatch.setenv("MIXPANEL_PASSWORD", TEST_CONNECTION["password"])

    def run(url: str) -> int:
        return main(
            [
                "run", "importEvents", "--input-file", f"events={source}", "-i", "project_id=1",
                "--workers", "1", "--base-url", url,
            ]
        )  # fmt: skip

    assert run(a.url) == 1 and len(a.ids) == 4000  # A failed after two batches
    capsys.readouterr()
    a.fail_after = None
    if where == "credential":
        monkeypatch.setenv("MIXPANEL_PASSWORD", OTHER_CONNECTION["password"])
    again = b if where == "server" else a
    before = len(again.ids)
    assert run(again.url) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert len(again.ids) - before == 5000 and "batches_skipped" not in data
    assert ("another server" if where == "server" else "another credential") in data["started_over"]
