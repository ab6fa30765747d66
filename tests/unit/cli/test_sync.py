"""The `sync` command: names from the specs, members and profiles against a sandbox, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector.cli.main import main
from connector.sandbox import Sandbox


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    with Sandbox() as sb:
        monkeypatch.setenv("MIXPANEL_USERNAME", sb.connection["username"])
        monkeypatch.setenv("MIXPANEL_PASSWORD", sb.connection["password"])
        yield sb


def test_an_unknown_sync_names_those_the_specs_declare(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["sync", "event", "--state", str(tmp_path / "s")]) == 2
    assert "events, members, profiles" in capsys.readouterr().err


def test_a_negative_lookback_and_a_bad_date_are_refused_before_any_request(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = ["--state", str(tmp_path / "s"), "--base-url", "http://127.0.0.1:9"]
    assert main(["sync", "events", *state, "--lookback-days", "-1"]) == 2
    assert "--lookback-days" in capsys.readouterr().err
    assert main(["sync", "events", *state, "--until", "2026-02-30"]) == 2
    assert "expected a date such as" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_sync_members_prints_the_changes_and_a_rerun_none(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from connector.sandbox.models.base import Context
    from connector.sandbox.models.families import PROFILES

    sandbox.store.save_report("cohorts", 1001, "Pro", {"where": 'properties["plan"] == "pro"'})
    body = {"$distinct_id": "ann", "$properties": {"plan": "pro"}}
    sandbox.store.resources.put(PROFILES, Context(), "ann", body)
    argv = ["sync", "members", "--base-url", sandbox.base_url, "--state", str(tmp_path / "m")]
    argv += ["-i", f"project_id={sandbox.project_id}", "-i", 'filter_by_cohort={"id": 1001}']
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["added"] == ["ann"]
    assert main(argv) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["added"], shown["removed"], shown["members"]) == ([], [], 1)


def test_sync_members_without_the_cohort_names_the_input(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["sync", "members", "--base-url", sandbox.base_url, "--state", str(tmp_path / "m")]
    assert main([*argv, "-i", f"project_id={sandbox.project_id}"]) == 2
    assert "Filter By Cohort (`filter_by_cohort`)" in capsys.readouterr().err
