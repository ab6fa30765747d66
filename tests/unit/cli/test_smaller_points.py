"""The newcomer's smaller findings: --output's request count for any action, a resumed export's
summary after the bar, checkpoints that can no longer apply are removed, describe in plain
text."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import load_component
from connector.budgets import open_budgets
from connector.cli.main import main
from connector.files.checkpoint import ORPHAN_AFTER_S, Checkpoint, file_checkpoint, sweep
from connector.sandbox import Sandbox
from tests.unit.cli.terminal import on_a_terminal


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def as_user(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sandbox:
    monkeypatch.setenv("MIXPANEL_USERNAME", sandbox.username)
    monkeypatch.setenv("MIXPANEL_PASSWORD", sandbox.password)
    monkeypatch.delenv("MIXPANEL_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return sandbox


@pytest.mark.parametrize(
    ("action", "inputs", "requests"),
    [
        ("listSavedFunnels", [], 1),  # one answer's items
        ("queryProfiles", ["-i", "allPages=true"], 1),  # every page: here one
    ],
)
def test_output_counts_the_requests_of_any_action(
    as_user: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    action: str,
    inputs: list[str],
    requests: int,
) -> None:
    argv = ["run", action, "--base-url", as_user.base_url, "-i", f"project_id={as_user.project_id}"]
    assert main([*argv, *inputs, "--output", str(tmp_path / "out.jsonl"), "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["requests"] == requests
    served = [r for r in as_user.store.requests() if r["status"] == 200]
    assert len(served) >= requests


def test_a_resumed_export_prints_its_summary_after_the_bar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Sandbox() as sandbox:
        sandbox.faults.advertise_limits = False  # the documented hour, to stop the first run
        monkeypatch.setenv("MIXPANEL_USERNAME", sandbox.username)
        monkeypatch.setenv("MIXPANEL_PASSWORD", sandbox.password)
        now = int(time.time())
        events = [
            {"event": "e", "properties": {"time": now - day * 86_400, "distinct_id": f"u{day}"}}
            for day in range(1, 4)
        ]
        component = load_component(base_url=sandbox.base_url, budgets="memory")
        inputs = {"project_id": sandbox.project_id, "events": events}
        component.run("importEvents", inputs, sandbox.connection)
        first = time.strftime("%Y-%m-%d", time.gmtime(now - 3 * 86_400))
        last = time.strftime("%Y-%m-%d", time.gmtime(now - 86_400))
        argv = [
            "run", "downloadData", "--base-url", sandbox.base_url,
            "-i", f"project_id={sandbox.project_id}", "-i", f"from_date={first}",
            "-i", f"to_date={last}", "-i", "daysPerRequest=1",
            "--output", str(tmp_path / "events.jsonl"), "--rate-wait", "0",
        ]  # fmt: skip
        # A first run with room for one request of the hour: one window kept, then stopped.
        full = f"sqlite:///{tmp_path / 'full.sqlite3'}"
        key = f"{sandbox.project_id} at {sandbox.base_url}"
        open_budgets(full).budget(component.spec.rate_limits["export"]).seconds_until_free(key)
        with sqlite3.connect(tmp_path / "full.sqlite3") as db:  # the hour's other 59 calls
            at = time.time() - 60
            rows = [("export", key, at, f"t{n}") for n in range(59)]
            db.executemany("INSERT INTO grants VALUES (?, ?, ?, ?)", rows)
        assert main([*argv, "--budgets", full, "--quiet"]) == 1
        assert (tmp_path / "events.jsonl.partial").exists()
        # The rerun, with the hour free, resumes on a terminal.
        fresh = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        code, shown = on_a_terminal([*argv, "--budgets", fresh])
    assert code == 0, shown
    summary = shown.index('{"events": 3')
    assert json.loads(shown[summary:].splitlines()[0])["windows_kept"] == 1  # it resumed
    assert "windows 3/3" in shown[:summary]  # the bar's last state, drawn before the summary
    assert "windows 3/3" not in shown[summary:]  # and not redrawn over or after it


def test_a_checkpoint_of_a_file_since_changed_is_removed_at_its_next_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = tmp_path / "events.jsonl"
    path.write_text('{"event": "a"}\n', encoding="utf-8")
    old = file_checkpoint(str(path), "importEvents", {"project_id": "1"}, "mixpanel-connector")
    assert old is not None
    old.ack(0)  # a run stopped after one batch, because line 2,001 was broken, say
    other = Checkpoint(old.path.with_name("unrelated.json"), "k", source="importEvents /else")
    other.ack(0)
    path.write_text('{"event": "a"}\n{"event": "fixed"}\n', encoding="utf-8")  # fixed
    new = file_checkpoint(str(path), "importEvents", {"project_id": "1"}, "mixpanel-connector")
    assert new is not None and new.path != old.path
    assert not old.path.exists()  # it could never apply again
    assert other.path.exists()  # another file's import may still resume


def test_a_checkpoint_untouched_for_a_month_is_removed(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    stale, fresh = Checkpoint(folder / "a.json", "a"), Checkpoint(folder / "b.json", "b")
    stale.ack(0)
    fresh.ack(0)
    month_ago = time.time() - ORPHAN_AFTER_S - 60
    os.utime(stale.path, (month_ago, month_ago))
    keep = folder / "c.json"
    assert sweep(folder, "importEvents /x", keep=keep) == [stale.path]
    assert fresh.path.exists()


def test_describe_prints_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["describe", "queryProfiles"]) == 0
    text = capsys.readouterr().out
    assert "<strong>" not in text and "</strong>" not in text
    assert "Required:" in text or "Required" in text
    assert main(["describe", "queryProfiles", "--json"]) == 0  # as the manifest has it
    assert "<strong>" in capsys.readouterr().out
