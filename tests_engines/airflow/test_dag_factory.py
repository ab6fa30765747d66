"""The README's dag-factory DAG: parsed by a DagBag, run with dag.test(); mistakes fail parsing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from connector import load_component
from connector.sandbox import Sandbox

from ..readme import README, example, retarget
from ..scenario import PROFILE_ID, events, exported, profile_inputs, today
from .conftest import set_connection

OPERATORS = "connector.engines.airflow.operators"
LOADER = example("dag-factory")
# The names the README gives the YAML DAG: its id (the YAML's top key) and its files' stem.
README_DAG = example("dag-factory", "yaml").split(":", 1)[0]
README_FILE = re.search(r"Saved as `~/airflow/dags/(\w+)\.yaml`", README.read_text()).group(1)  # type: ignore[union-attr]


def test_the_yaml_dag_has_names_of_its_own_beside_the_airflow_example() -> None:
    namespace: dict[str, Any] = {"__name__": "readme_dag"}
    exec(example("Airflow"), namespace)
    airflow_file = re.search(r"save the DAG below there as (\w+)\.py", README.read_text())
    assert airflow_file is not None
    assert README_FILE != airflow_file.group(1)
    assert README_DAG != namespace["dag"].dag_id
    assert f"airflow dags test {README_DAG} " in README.read_text()


def dag_file(folder: Path, name: str, yaml_text: str) -> Path:
    """`name`.yaml and the README's loader beside it as `name`.py; returns the loader."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(yaml_text)
    loader = folder / f"{name}.py"
    loader.write_text(LOADER)
    return loader


def dagbag(folder: Path):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


def test_dag_factory_reports_no_usage_over_the_internet() -> None:
    from dagfactory import telemetry

    assert telemetry.should_emit() is False


def test_readme_yaml_dag_parses_and_runs_with_its_templates(
    airflow_db: None, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    set_connection(monkeypatch, sandbox, region="api-eu")
    seed = load_component(base_url=sandbox.base_url)
    project = sandbox.project_id
    seed.run("importEvents", {"project_id": project, "events": events(3)}, sandbox.connection)
    seed.run("createProfile", profile_inputs(), sandbox.connection)
    yaml_text = retarget(example("dag-factory", "yaml"), str(tmp_path / "out"), project_id=project)
    dag_file(tmp_path / "dags", README_FILE, yaml_text)

    bag = dagbag(tmp_path / "dags")
    assert bag.import_errors == {}
    dag = bag.get_dag(README_DAG)
    assert [t.task_id for t in dag.topological_sort()] == ["profiles", "export"]
    # As the DAG processor would: serialise the parsed DAG (it lives outside the dags folder).
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    run = dag.test()

    assert {ti.task_id: ti.state for ti in run.get_task_instances()} == {
        "profiles": "success",
        "export": "success",
    }
    profiles = run.get_task_instance("profiles").xcom_pull(task_ids="profiles")
    assert [p["$distinct_id"] for p in profiles["data"]["results"]] == [PROFILE_ID]
    path = tmp_path / "out" / f"{today()}.jsonl"  # {{ ds }} rendered in the path and the dates
    assert run.get_task_instance("export").xcom_pull(task_ids="export") == exported(str(path), 3)
    assert len([json.loads(line) for line in path.read_text().splitlines()]) == 3
    assert [r["path"] for r in sandbox.store.requests()[-2:]] == [
        "/api/query/engage",
        "/api/2.0/export",
    ]


TASK = """
broken_{name}:
  schedule: null
  start_date: 2026-01-01
  tasks:
    - task_id: fine
      operator: {operators}.MixpanelOperator
      action: queryProfiles
      inputs:
        project_id: "{{{{ var.value.project }}}}"
    - task_id: broken
      operator: {operators}.{operator}
{arguments}
"""
MISTAKES = {
    "wrong_action": (
        "MixpanelOperator",
        "      action: queryProfile\n",
        "Invalid input for queryProfile: Action (`action`): no action 'queryProfile'. "
        "Did you mean queryProfiles",
    ),
    "unknown_input": (
        "MixpanelOperator",
        '      action: queryProfiles\n      inputs:\n        project_id: "1"\n        wherre: x\n',
        "Query Profile (`queryProfiles`): Unknown input (`wherre`): Query Profile has no input "
        "`wherre`. Did you mean Where (`where`)?",
    ),
    "missing_input": (
        "MixpanelExportOperator",
        '      path: /tmp/x.jsonl\n      inputs:\n        project_id: "1"\n'
        '        from_date: "{{ ds }}"\n',
        "Invalid input for Download Data (`downloadData`): To Date (`to_date`): required",
    ),
}


def test_a_wrong_action_unknown_or_missing_input_is_an_import_error_naming_it(
    tmp_path: Path,
) -> None:
    loaders = {}
    for name, (operator, arguments, _) in MISTAKES.items():
        text = TASK.format(name=name, operators=OPERATORS, operator=operator, arguments=arguments)
        loaders[name] = dag_file(tmp_path, name, text)
    bag = dagbag(tmp_path)
    assert bag.dag_ids == []  # none of the three DAGs exists: each failed as it was parsed
    assert sorted(bag.import_errors) == sorted(str(loader) for loader in loaders.values())
    for name, (_, _, message) in MISTAKES.items():
        error = re.sub(r"\s+", " ", bag.import_errors[str(loaders[name])])
        where = f"{tmp_path / name}.yaml: task broken (DAG broken_{name}): InputError: "
        assert f"YamlDagError: {where}" in error
        assert message in error


def test_every_broken_task_of_a_file_is_reported_at_once_with_its_task_id(tmp_path: Path) -> None:
    from connector.engines.airflow.yaml_dags import YamlDagError, load_yaml_dags

    tasks = "".join(
        f"    - task_id: {name}\n      operator: {OPERATORS}.{operator}\n{arguments}"
        for name, (operator, arguments, _) in MISTAKES.items()
    )
    config = tmp_path / "three.yaml"
    config.write_text(f"three:\n  schedule: null\n  start_date: 2026-01-01\n  tasks:\n{tasks}")
    namespace: dict[str, Any] = {}
    with pytest.raises(YamlDagError) as raised:
        load_yaml_dags(namespace, config)
    lines = str(raised.value).splitlines()
    assert len(lines) == len(MISTAKES)
    for line, (name, (_, _, message)) in zip(lines, MISTAKES.items(), strict=True):
        assert line.startswith(f"{config}: task {name} (DAG three): InputError: ")
        assert message in re.sub(r"\s+", " ", line)
    assert namespace == {}  # nothing half-built
