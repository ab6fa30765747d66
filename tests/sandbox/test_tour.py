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
from connector.sandbox.models.families import COHORTS, GROUPS
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
    # The families beyond the first actions (connector/sandbox/tour_families.py), in tour order.
    "setProfilePropertyOnce": "answered 1",
    "incrementProfileProperty": "answered 1",
    "unionProfileListProperty": "answered 1",
    "appendToProfileListProperty": "answered 1",
    "removeFromProfileListProperty": "answered 1",
    "deleteProfileProperty": "answered 1",
    "setGroupProperty": "answered 1",
    "setGroupPropertyOnce": "answered 1",
    "unionGroupListProperty": "answered 1",
    "removeFromGroupListProperty": "answered 1",
    "deleteGroupProperty": "answered 1",
    "updateMultipleGroups": "answered 1",
    "deleteGroup": "answered 1",
    "mergeIdentities": "1 merge event imported",
    "queryRetention": "1 cohort day(s)",
    "queryFrequency": "1 day(s)",
    "querySegmentation": "1 segment(s)",
    "querySegmentationNumeric": "status ok",
    "querySegmentationSum": "status ok",
    "querySegmentationAverage": "status ok",
    "queryActivityStream": "4 event(s) of user-alice",
    "listCohorts": "2 saved cohorts",
    "lookupTables": "2 picklist entries",
    "cohorts": "2 picklist entries",
    "queryEventCounts": "1 event series",
    "queryTodaysTopEvents": "5 event(s) today",
    "queryTopEventNames": "5 event name(s)",
    "queryEventPropertyValues": "1 value(s) of source",
    "queryTopEventProperties": "1 propert(ies)",
    "queryTopPropertyValues": "1 value(s)",
    "pausePipeline": "answered None",
    "resumePipeline": "answered None",
    "listPipelineSyncDates": "status ok",
    "createAnnotationTag": "tag deploy",
    "listAnnotationTags": "1 tag(s)",
    "annotationTags": "1 picklist entries",
    "createAnnotation": "Deploy 1.2",
    "listAnnotations": "1 annotation(s)",
    "getAnnotation": "Deploy 1.2",
    "updateAnnotation": "Deploy 1.2.1",
    "deleteAnnotation": "status ok",
    "uploadSchemas": "1 schema(s) added",
    "uploadSchema": "status ok",
    "listSchemas": "2 schema(s)",
    "schemaEntityTypes": "2 picklist entries",
    "listSchemasForEntity": "1 event schema(s)",
    "getSchema": "A purchase",
    "deleteSchema": "1 deleted",
    "deleteSchemasForEntity": "1 deleted",
    "deleteAllSchemas": "0 deleted",
    "createServiceAccount": "account ci",
    "listServiceAccounts": "1 account(s)",
    "getServiceAccount": "account ci",
    "addServiceAccountsToProjects": "status ok",
    "listProjectServiceAccounts": "1 member(s)",
    "removeServiceAccountsFromProjects": "status ok",
    "deleteServiceAccount": "status ok",
    "createEventStreamImport": "event_stream",
    "createPeopleImport": "people",
    "createGroupsImport": "groups",
    "createLookupTableImport": "lookup_table",
    "listWarehouseImports": "4 import(s)",
    "getWarehouseImport": "lookup_table",
    "updateWarehouseImport": "paused True",
    "runWarehouseImport": "sync started",
    "getWarehouseImportHistory": "1 run(s)",
    "deleteWarehouseImport": "status ok",
    "createExperiment": "Checkout test",
    "listExperiments": "1 experiment(s)",
    "experiments": "1 picklist entries",
    "getExperiment": "draft",
    "updateExperiment": "Shorter checkout converts better",
    "launchExperiment": "active",
    "decideExperiment": "decided",
    "concludeExperiment": "concluded",
    "archiveExperiment": "status ok",
    "unarchiveExperiment": "archived False",
    "deleteExperiment": "status ok",
    "createFeatureFlag": "new-checkout",
    "listFeatureFlags": "1 flag(s)",
    "featureFlags": "1 picklist entries",
    "getFeatureFlag": "enabled",
    "updateFeatureFlag": "web, beta",
    "getFeatureFlagDefinitions": "1 definition(s)",
    "evaluateFeatureFlags": "new-checkout: on",
    "deleteFeatureFlag": "status ok",
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
        "logins": 4,  # 3, then 1 from Increment Profile Property
        "tags": ["beta", "vip"],  # vip from Union, "early" appended and removed again
    }
    assert sb.store.profile("user-bob") is None
    states = {p["name"]: p["state"] for p in sb.store.pipelines(sb.project_id)}
    assert states == {"trial-events-daily-gcs-raw": "active", "events-daily-s3-raw": "canceled"}
    events = {e["properties"].get("$insert_id") for e in sb.store.recent_events(50)}
    assert "tour-user-alice-2" in events
    groups = sb.store.resources
    initech = groups.get(GROUPS, Context(scope={"$group_key": "Company"}), "Initech")
    assert initech is not None and initech["$properties"] == {"plan": "pro"}
    assert groups.get(GROUPS, Context(scope={"$group_key": "Company"}), "Acme") is None
    assert sb.store.alias_map().get("user-dave") == "user-carol"
    assert groups.list(COHORTS, Context()) != []
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
    assert f"{len(STEPS)}/{len(STEPS)} as expected" in out
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
    assert f"{len(STEPS)}/{len(STEPS)} as expected" in done.stdout
    if keep:
        assert (
            "nothing was kept but the spec cache and the local key that authenticates it."
            in done.stdout
        )
        *cached, key = _files(tmp_path)
        # The entry, and the index of the files' stat data that finds its key (when written).
        names = [name.removeprefix("cache/mixpanel-connector/").split("-")[0] for name in cached]
        assert names in (["specs"], ["keys", "specs"])
        assert key == "state/mixpanel-connector/local.key"
        assert (tmp_path / key).stat().st_mode & 0o777 == 0o600
    else:
        assert "nothing was kept." in done.stdout
        assert _files(tmp_path) == []


def test_the_tour_restores_the_cache_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "/somewhere/else")
    assert main(["tour"]) == 0
    assert os.environ[CACHE_ENV] == "/somewhere/else"
