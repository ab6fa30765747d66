"""Progress tells the truth: "(stopped)" with counts when a run fails, "(done)" only when it
finished, summaries after the bar, and a sample instead of 50 MB for a large dry run."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli.main import main
from connector.sandbox import Sandbox
from tests.unit.cli.terminal import on_a_terminal


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _events(path: Path, count: int, *, broken_at: int | None = None) -> Path:
    now = int(time.time()) - 600
    with open(path, "w", encoding="utf-8") as out:
        for i in range(count):
            if i == broken_at:
                out.write('{"event": "cut\n')
                continue
            event = {"event": "e", "properties": {"time": now, "distinct_id": f"u{i}"}}
            out.write(json.dumps(event) + "\n")
    return path


@pytest.fixture
def as_user(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("MIXPANEL_USERNAME", sandbox.username)
    monkeypatch.setenv("MIXPANEL_PASSWORD", sandbox.password)
    monkeypatch.delenv("MIXPANEL_BASE_URL", raising=False)
    return sandbox


def _progress_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "connector.progress"]


@pytest.mark.parametrize(
    ("case", "code", "says"),
    [
        ("refused credentials", 1, "0 records had been imported: no request was accepted"),
        ("no project id", 2, "Project ID (`project_id`): is required"),
        ("a broken line", 2, "line 2501, column 11: not valid JSON"),
    ],
)
def test_a_run_that_fails_says_stopped_with_its_counts_never_done(
    as_user: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    case: str,
    code: int,
    says: str,
) -> None:
    caplog.set_level(logging.INFO, logger="connector.progress")
    path = _events(tmp_path / "events.jsonl", 5000, broken_at=2500 if "broken" in case else None)
    argv = ["run", "importEvents", "--base-url", as_user.base_url, "--input-file", f"events={path}"]
    if case != "no project id":
        argv += ["-i", f"project_id={as_user.project_id}"]
    if case == "refused credentials":
        monkeypatch.setenv("MIXPANEL_PASSWORD", "wrong")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert main(argv) == code
    assert says in capsys.readouterr().err
    [last] = _progress_lines(caplog)[-1:]
    assert last.startswith("importEvents (stopped): ") and "records" in last
    assert not any("(done)" in line for line in _progress_lines(caplog))


def test_a_run_that_finishes_says_done_once_before_its_result(
    as_user: Sandbox,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO, logger="connector.progress")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = _events(tmp_path / "events.jsonl", 2500)
    argv = ["run", "importEvents", "--base-url", as_user.base_url, "--input-file", f"events={path}"]
    assert main([*argv, "-i", f"project_id={as_user.project_id}"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["records_imported"] == 2500
    finals = [line for line in _progress_lines(caplog) if "(" in line.split(":")[0]]
    assert len(finals) == 1 and finals[0].startswith("importEvents (done): 2,500 records")


def test_the_result_is_printed_after_the_bar_is_left_never_through_it(
    as_user: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = _events(tmp_path / "events.jsonl", 4500)
    argv = ["run", "importEvents", "--base-url", as_user.base_url, "--input-file", f"events={path}"]
    code, shown = on_a_terminal([*argv, "-i", f"project_id={as_user.project_id}"])
    assert code == 0
    result = shown.index('"data"')
    assert "4.50k records" in shown[:result]  # the bar's last state, drawn before the result
    assert " records" not in shown[result:]  # and never redrawn over or after it
    assert "(stopped)" not in shown


def test_a_failed_run_leaves_its_bar_marked_stopped(
    as_user: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = _events(tmp_path / "events.jsonl", 4500, broken_at=4000)
    argv = ["run", "importEvents", "--base-url", as_user.base_url, "--input-file", f"events={path}"]
    code, shown = on_a_terminal([*argv, "-i", f"project_id={as_user.project_id}"])
    assert code == 2
    assert "importEvents (stopped)" in shown
    assert shown.index("importEvents (stopped)") < shown.index("error: ")


def _dry_run_import(path: Path, capsys: pytest.CaptureFixture[str]) -> Any:
    argv = ["run", "importEvents", "--dry-run", "--input-file", f"events={path}"]
    assert main([*argv, "-i", "project_id=1"]) == 0
    return capsys.readouterr()


def test_a_dry_run_of_a_large_file_prints_a_sample_and_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _events(tmp_path / "events.jsonl", 9000)
    captured = _dry_run_import(path, capsys)
    shown = json.loads(captured.out)
    assert [len(request["body"]) for request in shown] == [3, 3, 3]
    assert shown[0]["body"][0]["properties"]["distinct_id"] == "u0"
    assert "dry run: 5 request(s) carrying 9,000 record(s) would be sent" in captured.err
    assert "--dry-run-all" in captured.err
    assert len(captured.out) < 10_000


def test_a_form_body_is_sampled_too_and_dry_run_all_prints_everything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _events(tmp_path / "events.jsonl", 2500)
    argv = ["run", "trackEvents", "--dry-run", "--input-file", f"events={path}"]
    assert main(argv) == 0
    sample = json.loads(capsys.readouterr().out)
    assert [len(json.loads(r["body"]["data"])) for r in sample] == [3, 3]
    assert main([*argv, "--dry-run-all"]) == 0
    captured = capsys.readouterr()
    assert [len(json.loads(r["body"]["data"])) for r in json.loads(captured.out)] == [2000, 500]
    assert "would be sent" not in captured.err


def test_a_small_dry_run_is_printed_whole_without_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _events(tmp_path / "events.jsonl", 3)
    captured = _dry_run_import(path, capsys)
    assert [len(r["body"]) for r in json.loads(captured.out)] == [3]
    assert "would be sent" not in captured.err
