"""The README's Dagster section as written: uv, a project pinned to one Dagster version, the
connector added with uv, the base URL among the variables, and the sample day's export."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from connector.sandbox import Sandbox

from ..readme import (
    README,
    SAMPLE_DAY,
    SANDBOX_URL,
    example,
    load_sample_events,
    retarget,
    sandbox_options,
    shell_blocks,
)
from .conftest import dg, make_project

SECTION = "Dagster components"


def _setup() -> list[str]:
    return shell_blocks(SECTION)[0]


def _launch() -> list[str]:
    return shell_blocks(SECTION)[1]


def _index(commands: list[str], start: str) -> int:
    return next(i for i, c in enumerate(commands) if c.startswith(start))


def test_the_setup_says_how_to_get_uv_and_the_connector_into_the_project() -> None:
    commands = _setup()
    uv = _index(commands, "pip install uv")
    create = _index(commands, "uvx create-dagster@")
    enter = _index(commands, "cd ~/my_project")
    add = _index(commands, 'uv add --editable "$REPO[dagster]"')
    scaffold = _index(commands, "dg scaffold defs connector.engines.dagster.MixpanelComponent")
    assert uv < create < enter < add < scaffold
    assert _index(commands, "REPO=$PWD") < enter  # the clone, named before leaving it
    # The generated project allows Python 3.10; the connector needs 3.11: raised before uv add.
    assert _index(commands, "sed -i.bak 's/^requires-python") < add
    assert "--uv-sync" in commands[create]


def test_the_pinned_dagster_is_one_the_extra_allows() -> None:
    version = re.search(r"create-dagster@([0-9.]+)", " ".join(_setup()))
    assert version, "create-dagster is pinned to a version"
    extras = tomllib.loads((README.parent / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["dagster"]
    for requirement in map(Requirement, extras):
        assert version.group(1) in requirement.specifier, requirement


def test_the_variables_include_the_base_url_and_the_readme_sandbox_s_credentials() -> None:
    [line] = [c for c in _launch() if c.startswith("export ")]
    exported = dict(word.split("=", 1) for word in shlex.split(line)[1:])
    options = sandbox_options()
    assert exported == {
        "MIXPANEL_USERNAME": options["username"],
        "MIXPANEL_PASSWORD": options["password"],
        "MIXPANEL_BASE_URL": SANDBOX_URL,
    }


def test_the_readme_launch_exports_the_sample_day(readme_sandbox: Sandbox, tmp_path: Path) -> None:
    count = load_sample_events(readme_sandbox.base_url)
    make_project(tmp_path, retarget(example(SECTION, "yaml"), str(tmp_path)))
    [line] = [c for c in _launch() if c.startswith("export ")]
    env = dict(word.split("=", 1) for word in shlex.split(line)[1:])
    env["MIXPANEL_BASE_URL"] = readme_sandbox.base_url  # the sandbox runs on a free port
    checked = dg(tmp_path, "check", "defs", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [launch] = [c for c in _launch() if c.startswith("dg launch") and SAMPLE_DAY in c]
    done = dg(tmp_path, *shlex.split(launch.split("#")[0])[1:], env=env)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "version" not in output.lower() or "mismatch" not in output.lower()
    rows = [json.loads(r) for r in (tmp_path / "events" / f"{SAMPLE_DAY}.jsonl").open()]
    assert len(rows) == count == 60
