"""DAGs written in YAML with dag-factory; a file that does not build fails the import, named."""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from ... import ConnectorError


class YamlDagError(ConnectorError):
    """A dag-factory YAML file did not build (a wrong action, input or operator argument)."""


def load_yaml_dags(globals_dict: MutableMapping[str, Any], *paths: str | Path) -> None:
    """Build the DAGs of each YAML file into `globals_dict` (a DAG file's `globals()`).

    dag-factory, scanning a folder, only logs a file it cannot build; here that file fails the
    import of the DAG file that loads it, so Airflow lists it as an import error whose message
    names the YAML file and what is wrong (for a Mixpanel task: the action and the input's
    label). Load one YAML file per DAG file to keep a broken file from hiding the others.
    """
    from dagfactory import load_yaml_dags as build

    problems = []
    for path in paths:
        config = Path(path).resolve()
        try:
            build(globals_dict=globals_dict, config_filepath=str(config))
        except Exception as error:  # any failure to build names the file that caused it
            problems.append(f"{config}: {type(error).__name__}: {error}")
    if problems:
        raise YamlDagError("\n".join(problems))
