"""The README's Airflow section runs as written against the sandbox it starts (only the port of
the sandbox and the export folder swapped)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox import Sandbox

from ..readme import (
    SAMPLE_DAY,
    SANDBOX_URL,
    example,
    exported_variable,
    load_sample_events,
    retarget,
    sandbox_options,
    shell,
)
from ..scenario import PROFILE_ID, exported, profile_inputs
from .conftest import CONN_ENV


def test_readme_commands_prepare_airflow_before_the_dag_runs() -> None:
    commands = shell("Airflow")
    migrate = commands.index(next(c for c in commands if c.startswith("airflow db migrate")))
    run = commands.index(next(c for c in commands if c.startswith("airflow dags test ")))
    connection = next(i for i, c in enumerate(commands) if c.startswith(f"export {CONN_ENV}="))
    assert migrate < run and connection < run
    assert any(c.startswith("pip install -e '.[airflow]'") for c in commands[:migrate])
    # The DAG the last command runs is the README's DAG.
    namespace: dict[str, Any] = {"__name__": "readme_dag"}
    exec(example("Airflow"), namespace)
    assert shlex.split(commands[run])[3] == namespace["dag"].dag_id


def test_readme_commands_quiet_dag_factory_s_telemetry_as_the_tests_do() -> None:
    commands = shell("Airflow")
    run = commands.index(next(c for c in commands if c.startswith("airflow dags test ")))
    [line] = [c for c in commands if "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY" in c]
    assert commands.index(line) < run
    assert shlex.split(line)[1] == "AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY=False"
    assert os.environ["AIRFLOW__DAG_FACTORY__ENABLE_TELEMETRY"] == "False"  # the tests' too


def test_readme_connection_points_at_the_readme_sandbox() -> None:
    conn = exported_variable("Airflow", CONN_ENV)
    options = sandbox_options()
    assert conn["conn_type"] == "mixpanel" and conn["host"] == SANDBOX_URL
    assert conn["extra"]["username"] == options["username"]
    assert conn["extra"]["password"] == options["password"]
    assert conn["extra"]["projectToken"] == options["project_token"]


def test_readme_dag_queries_profiles_and_exports(
    readme_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conn = exported_variable("Airflow", CONN_ENV)
    conn["host"] = readme_sandbox.base_url  # the sandbox runs on a free port, not 8080
    monkeypatch.setenv(CONN_ENV, json.dumps(conn))
    from connector import load_component

    component = load_component(base_url=readme_sandbox.base_url)
    sample = load_sample_events(readme_sandbox.base_url)  # the README's own command
    component.run("createProfile", profile_inputs(), readme_sandbox.connection)

    namespace: dict[str, Any] = {"__name__": "readme_dag"}
    exec(retarget(example("Airflow"), str(tmp_path)), namespace)
    dag = namespace["dag"]
    commands = shell("Airflow")
    [run] = [c for c in commands if c.startswith("airflow dags test ")]
    day = shlex.split(run)[4]
    assert day == SAMPLE_DAY
    results = {}
    for task in dag.topological_sort():
        task.render_template_fields({"ds": day})
        results[task.task_id] = task.execute({})

    profiles = results["profiles"]["data"]["results"]
    assert [(p["$distinct_id"], p["$properties"]) for p in profiles] == [
        (PROFILE_ID, {"plan": "pro"})
    ]
    path = tmp_path / f"{day}.jsonl"
    assert results["export"] == exported(str(path), sample)
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == sample == 60
