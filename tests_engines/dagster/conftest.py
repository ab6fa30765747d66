"""A throw-away dg project per test: pyproject, definitions.py and one defs.yaml; `dg` runs it."""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from connector.sandbox import Sandbox

DG = str(Path(sys.executable).with_name("dg"))
MODULE = "mixpanel_project"
PYPROJECT = f"""
[project]
name = "{MODULE}"
version = "0.1.0"

[tool.dg]
directory_type = "project"

[tool.dg.project]
root_module = "{MODULE}"

[tool.dg.cli.telemetry]
enabled = false
"""
DEFINITIONS = """
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def make_project(root: Path, defs_yaml: str) -> Path:
    """A dg project at `root` whose only component is `defs_yaml` (defs/mixpanel/defs.yaml)."""
    (root / MODULE / "defs" / "mixpanel").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / MODULE / "__init__.py").write_text("")
    (root / MODULE / "definitions.py").write_text(DEFINITIONS)
    (root / MODULE / "defs" / "mixpanel" / "defs.yaml").write_text(defs_yaml)
    (root / "home").mkdir()
    (root / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return root / MODULE / "defs" / "mixpanel" / "defs.yaml"


def connection_env(sandbox: Sandbox) -> dict[str, str]:
    """The connection as the component reads it: variables named in defs.yaml (or the spec's)."""
    return {
        "MIXPANEL_USERNAME": sandbox.connection["username"],
        "MIXPANEL_PASSWORD": sandbox.connection["password"],
        "MIXPANEL_PROJECT_TOKEN": sandbox.connection["projectToken"],
        "MIXPANEL_BASE_URL": sandbox.base_url,
    }


def dg(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`dg ARGS` in the project, with the project importable and a Dagster home of its own."""
    full_env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "DAGSTER_HOME": str(root / "home"),
        "NO_COLOR": "1",
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [DG, *args], cwd=root, env=full_env, capture_output=True, text=True, timeout=300
    )


def day(days_ago: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400 * days_ago))


def events_on(days_ago: int, n: int, prefix: str) -> list[dict[str, Any]]:
    """`n` events at noon (UTC) of the day `days_ago` days before today."""
    noon = calendar.timegm((*time.gmtime(time.time() - 86400 * days_ago)[:3], 12, 0, 0))
    return [
        {
            "event": "Played",
            "properties": {"distinct_id": "dg", "time": noon + i, "$insert_id": f"{prefix}{i}"},
        }
        for i in range(n)
    ]
