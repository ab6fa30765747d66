"""The README's defs.yaml, materialised with `dg launch`: two export partitions and one action."""

from __future__ import annotations

import json
import pickle
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector import load_component
from connector.sandbox import Sandbox

from ..conftest import secrets_of
from ..readme import example, retarget
from ..scenario import PROFILE_ID, profile_inputs
from .conftest import connection_env, day, dg, events_on, make_project

EVENTS = ["mixpanel", "events"]
README_DAY = "2026-01-31"


def readme_launches() -> list[list[str]]:
    """The README's `dg launch` commands: its one day's export run for two days, then the rest."""
    commands = [
        shlex.split(line.split("#")[0])[1:]
        for line in example("Dagster components", "sh", index=1).splitlines()
        if line.startswith("dg launch")
    ]
    assert [README_DAY in " ".join(c) for c in commands] == [True, False]
    export, action = (" ".join(c) for c in commands)
    return [shlex.split(export.replace(README_DAY, d)) for d in (day(2), day(1))] + [
        shlex.split(action)
    ]


PRO_USERS = ["mixpanel", "pro_users"]


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Sandbox, list[str]]]:
    root = tmp_path_factory.mktemp("project")
    with Sandbox() as sandbox:
        seed = load_component(base_url=sandbox.base_url)
        sent = events_on(2, 3, "two-days-ago") + events_on(1, 2, "yesterday")
        project = sandbox.project_id
        seed.run("importEvents", {"project_id": project, "events": sent}, sandbox.connection)
        seed.run("createProfile", profile_inputs(), sandbox.connection)
        before = len(sandbox.store.requests())
        code = retarget(
            example("Dagster components", "yaml"), str(root), project_id=sandbox.project_id
        )
        make_project(root, code)
        env = connection_env(sandbox)
        outputs = []
        for args in readme_launches():
            done = dg(root, *args, env=env)
            assert done.returncode == 0, done.stdout + done.stderr
            outputs.append(done.stdout + done.stderr)
        yield root, sandbox, [r["path"] for r in sandbox.store.requests()[before:]] + outputs
        assert sandbox.errors == []


def instance(root: Path) -> Any:
    import dagster as dg

    return dg.DagsterInstance.from_config(str(root / "home"))


def test_each_partition_is_one_days_export_in_its_own_file(launched: Any) -> None:
    root, _, _ = launched
    for days_ago, count, prefix in ((2, 3, "two-days-ago"), (1, 2, "yesterday")):
        rows = [json.loads(line) for line in (root / "events" / f"{day(days_ago)}.jsonl").open()]
        assert sorted(r["properties"]["$insert_id"] for r in rows) == [
            f"{prefix}{i}" for i in range(count)
        ]
    assert sorted(p.name for p in (root / "events").iterdir()) == [
        f"{day(2)}.jsonl",
        f"{day(1)}.jsonl",
    ]


def test_the_sandbox_saw_two_exports_then_the_query(launched: Any) -> None:
    _, _, seen = launched
    assert seen[:3] == ["/api/2.0/export", "/api/2.0/export", "/api/query/engage"]


def test_materialisations_record_path_and_count_never_records(launched: Any) -> None:
    import dagster as dg

    root, _, _ = launched
    with instance(root) as dagster_instance:
        found = dagster_instance.fetch_materializations(dg.AssetKey(EVENTS), limit=10).records
        by_day = {r.asset_materialization.partition: r.asset_materialization for r in found}
        assert sorted(by_day) == [day(2), day(1)]
        metadata = {k: v.value for k, v in by_day[day(2)].metadata.items()}
        assert metadata == {
            "path": str(root / "events" / f"{day(2)}.jsonl"),
            "count": 3,
            "days": 1,
            "resumed_cuts": 0,
        }


def test_the_action_assets_value_is_the_actions_result(launched: Any) -> None:
    root, _, _ = launched
    stored = pickle.loads((root / "home" / "storage" / "mixpanel" / "pro_users").read_bytes())
    assert [(p["$distinct_id"], p["$properties"]) for p in stored["data"]["results"]] == [
        (PROFILE_ID, {"plan": "pro"})
    ]


def test_no_secret_reaches_dagsters_storage_logs_or_output(launched: Any) -> None:
    root, sandbox, outputs = launched
    files = [p for p in (root / "home").rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)  # the event log and run storage are there
    for secret in secrets_of(sandbox.connection):
        assert all(secret not in text for text in outputs)
        for path in files:
            assert secret.encode() not in path.read_bytes(), path
