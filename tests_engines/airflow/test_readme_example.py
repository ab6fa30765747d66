"""The README's Airflow example runs as written against the sandbox (only IDs and paths swapped)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox import Sandbox

from ..readme import example, retarget
from ..scenario import PROFILE_ID, events, exported, profile_inputs, today
from .conftest import set_connection


def test_readme_dag_queries_profiles_and_exports(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_connection(monkeypatch, sandbox, region="api-eu")
    from connector import load_component

    seed = load_component(base_url=sandbox.base_url)
    seed.run(
        "importEvents", {"project_id": sandbox.project_id, "events": events(3)}, sandbox.connection
    )
    seed.run("createProfile", profile_inputs(), sandbox.connection)

    namespace: dict[str, Any] = {"__name__": "readme_dag"}
    exec(retarget(example("Airflow"), sandbox.project_id, str(tmp_path)), namespace)
    dag = namespace["dag"]
    results = {}
    for task in dag.topological_sort():
        task.render_template_fields({"ds": today()})
        results[task.task_id] = task.execute({})

    profiles = results["profiles"]["data"]["results"]
    assert [(p["$distinct_id"], p["$properties"]) for p in profiles] == [
        (PROFILE_ID, {"plan": "pro"})
    ]
    path = tmp_path / f"{today()}.jsonl"
    assert results["export"] == exported(str(path), 3)
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == 3
