"""Every action and data source once against a sandbox, through the tour's (and `run`'s) path."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.catalog.cache import CACHE_ENV
from connector.cli.main import main
from connector.sandbox import Sandbox
from connector.sandbox.models.base import Context
from connector.sandbox.models.jobs import DELETIONS, LOOKUP_TABLES
from connector.sandbox.tour import STEPS, run_step

EXPECTED = {
    "trackEvents": "accepted (1)",
    "importEvents": "4 events imported",
    "createAlias": "alice@example.com → user-alice",
    "createIdentity": "anonymous device merged into user-bob",
    "createProfile": "2 profiles set",
    "updateMultipleProfiles": "2 updates applied (one through the alias)",
    "queryProfiles": "1 pro profile(s): Alice",
    "deleteProfile": "user-bob deleted",
    "listSavedFunnels": "2 saved funnels",
    "funnels": "2 picklist entries",
    "queryFunnelSavedReports": "step counts App Open 3 → Signed Up 1 → Purchase 1",
    "queryInsightsSavedReports": "Signed Up: 1, Purchase: 1",
    "downloadData": "7 raw events exported",
    "createGCSPipeline": "created trial-events-daily-gcs-raw",
    "createGenericPipeline": "created events-daily-s3-raw",
    "pipelines": "2 picklist entries",
    "listPipelines": "2 active pipelines",
    "editGCSPipeline": "events limited to Purchase",
    "editGenericPipeline": "where changed",
    "deletePipeline": "pipeline canceled",
    "rawRequest": "2 saved funnels via a raw GET",
    "createDataRetrieval": "job created",
    "getDataRetrievalStatus": "job PENDING",
    "createDataDeletion": "job created",
    "getDataDeletionStatus": "job PENDING",
    "cancelDataDeletion": "deletion cancelled",
    "listLookupTables": "2 lookup tables",
    "replaceLookupTable": "lookup table replaced: OK",
    "customJQLQuery": "The sandbox does not run JQL; run this action against a real Mixpanel"
    " project.",
}


@pytest.fixture(scope="module")
def toured() -> Iterator[tuple[Sandbox, dict[str, tuple[str, str]]]]:
    with Sandbox() as sb:
        component = load_component(base_url=sb.base_url, rate_registry=BudgetRegistry())
        yield sb, {step.key: run_step(component, sb, step) for step in STEPS}


def test_the_tour_covers_every_action_and_data_source() -> None:
    spec = load_component().spec
    assert sorted(step.key for step in STEPS) == sorted({*spec.actions, *spec.data_sources})


@pytest.mark.parametrize("key", [step.key for step in STEPS])
def test_round_trip(toured: tuple[Sandbox, dict[str, tuple[str, str]]], key: str) -> None:
    _, results = toured
    outcome, summary = results[key]
    assert outcome == ("refused (expected)" if key == "customJQLQuery" else "ok"), summary
    if key == "getPipeline":
        assert summary.endswith("succeeded")
    else:
        assert summary == EXPECTED[key]


def test_the_tour_left_the_state_it_describes(
    toured: tuple[Sandbox, dict[str, tuple[str, str]]],
) -> None:
    sb, _ = toured
    assert sb.store.profile("alice@example.com") == {
        "$name": "Alice",
        "plan": "pro",
        "logins": 3,
        "tags": ["beta"],
    }
    assert sb.store.profile("user-bob") is None
    states = {p["name"]: p["state"] for p in sb.store.pipelines(sb.project_id)}
    assert states == {"trial-events-daily-gcs-raw": "active", "events-daily-s3-raw": "canceled"}
    events = {e["properties"].get("$insert_id") for e in sb.store.recent_events(50)}
    assert "tour-user-alice-2" in events
    table = sb.store.resources.get(LOOKUP_TABLES, Context(), "55b4fb2b-e8de-466c-930f-8b36640b9b5e")
    assert table is not None and table["rows"] == [["acme", "pro"]]
    cancelled = sb.store.resources.list(DELETIONS, Context(clock=sb.clock))
    assert [job["status"] for job in cancelled][-1] == "REVOKED"
    assert sb.errors == []


def _servers() -> int:
    return sum(t.name == "mixpanel-sandbox" for t in threading.enumerate())


def test_tour_command_prints_the_table_and_leaves_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _servers()
    assert main(["tour"]) == 0
    assert _servers() == before  # its server thread is gone
    out = capsys.readouterr().out
    assert "live view: http://127.0.0.1:" in out
    assert "30/30 as expected" in out
    for key in EXPECTED:
        assert key in out


def _fresh_home(tmp_path: Path) -> dict[str, str]:
    """An environment whose home, XDG folders, temp folder and working folder are empty."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MIXPANEL", "XDG_")) and k not in ("HOME", "TMPDIR")
    }
    for name in ("home", "cwd", "tmp", "cache", "data", "state", "config"):
        (tmp_path / name).mkdir()
    return {
        **env,
        "HOME": str(tmp_path / "home"),
        "TMPDIR": str(tmp_path / "tmp"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


@pytest.mark.parametrize("keep", [False, True])
def test_the_tour_leaves_no_file_unless_asked(tmp_path: Path, keep: bool) -> None:
    env = _fresh_home(tmp_path)
    args = [sys.executable, "-m", "connector.cli", "tour", *(["--keep-cache"] if keep else [])]
    done = subprocess.run(
        args, cwd=tmp_path / "cwd", env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "30/30 as expected" in done.stdout
    if keep:
        assert (
            "nothing was kept but the spec cache and the local key that authenticates it."
            in done.stdout
        )
        entry, key = _files(tmp_path)
        assert entry.startswith("cache/mixpanel-connector/specs-")
        assert key == "state/mixpanel-connector/local.key"
        assert (tmp_path / key).stat().st_mode & 0o777 == 0o600
    else:
        assert "nothing was kept." in done.stdout
        assert _files(tmp_path) == []


def test_the_tour_restores_the_cache_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "/somewhere/else")
    assert main(["tour"]) == 0
    assert os.environ[CACHE_ENV] == "/somewhere/else"
