"""DAGs written in YAML with dag-factory; a file that does not build fails the import, named."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import yaml

from ... import ConnectorError


class YamlDagError(ConnectorError):
    """A dag-factory YAML file did not build (a wrong action, input or operator argument)."""


def _operator(path: Any) -> type | None:
    """The class a task's `operator:` names when it is one of the Mixpanel operators, else None."""
    from .operators import MixpanelOperator

    module, _, name = str(path).rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name) if module else None
    except (ImportError, AttributeError, ValueError):
        return None  # dag-factory reports an operator it cannot import itself
    return found if isinstance(found, type) and issubclass(found, MixpanelOperator) else None


def _tasks(config: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(DAG id, task id, task) of each task in a loaded YAML file, as a list or by task id."""
    for dag_id, dag in config.items() if isinstance(config, dict) else ():
        tasks = dag.get("tasks") if isinstance(dag, dict) and dag_id != "default" else None
        if isinstance(tasks, dict):
            pairs = [(task_id, task) for task_id, task in tasks.items()]
        else:
            pairs = [(t.get("task_id"), t) for t in tasks or () if isinstance(t, dict)]
        for task_id, task in pairs:
            if isinstance(task, dict):
                yield str(dag_id), str(task_id), task


def task_problems(config_path: str | Path) -> list[str]:
    """Every Mixpanel task's wrong action, unknown or missing input in one YAML file, at once.

    Each names its DAG and `task_id`; a file that is not YAML is left to dag-factory.
    """
    from .operators import MixpanelExportOperator, check_at_parse_time

    try:
        config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    problems: list[str] = []
    for dag_id, task_id, task in _tasks(config):
        kind = _operator(task.get("operator"))
        if kind is None:
            continue
        default = "downloadData" if issubclass(kind, MixpanelExportOperator) else None
        try:
            check_at_parse_time(task.get("action", default), task.get("inputs") or {})
        except ConnectorError as error:
            problems.append(f"task {task_id} (DAG {dag_id}): {type(error).__name__}: {error}")
    return problems


def load_yaml_dags(globals_dict: MutableMapping[str, Any], *paths: str | Path) -> None:
    """Build the DAGs of each YAML file into `globals_dict` (a DAG file's `globals()`).

    dag-factory, scanning a folder, only logs a file it cannot build; here that file fails the
    import of the DAG file that loads it, so Airflow lists it as an import error whose message
    names the YAML file and every Mixpanel task that is wrong (its `task_id`, the action and
    the input's label), not only the first. Load one YAML file per DAG file to keep a broken
    file from hiding the others.
    """
    from dagfactory import load_yaml_dags as build

    problems: list[str] = []
    for path in paths:
        config = Path(path).resolve()
        found = task_problems(config)
        if found:
            problems.extend(f"{config}: {problem}" for problem in found)
            continue
        try:
            build(globals_dict=globals_dict, config_filepath=str(config))
        except Exception as error:  # any failure to build names the file that caused it
            problems.append(f"{config}: {type(error).__name__}: {error}")
    if problems:
        raise YamlDagError("\n".join(problems))
