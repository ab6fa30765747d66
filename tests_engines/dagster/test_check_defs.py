"""`dg` finds the component; `dg check defs` accepts the README's project and rejects mistakes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ..readme import example, retarget
from .conftest import dg, make_project

COMPONENT = "connector.engines.dagster.MixpanelComponent"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MISTAKES = """\
type: connector.engines.dagster.MixpanelComponent
attributes:
  connection:
    region: api-xx
  exports:
    - name: events
      path: /tmp/events/{date}.jsonl
      start_date: "2026-01-01"
  actions:
    - name: misspelt_action
      action: queryProfile
    - name: misspelt_input
      action: queryProfiles
      inputs:
        project_id: "2891273"
        wherre: 'properties["plan"] == "pro"'
"""


@pytest.fixture(scope="module")
def readme_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("readme-project")
    make_project(root, retarget(example("Dagster components", "yaml"), str(root)))
    return root


def test_dg_lists_the_component_from_its_entry_point(readme_project: Path) -> None:
    listed = dg(readme_project, "list", "components", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = {entry["key"]: entry for entry in json.loads(listed.stdout)["items"]}
    assert entries[COMPONENT]["summary"].startswith("Mixpanel exports and actions")


def test_dg_check_defs_accepts_the_readme_project(readme_project: Path) -> None:
    checked = dg(readme_project, "check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully." in checked.stdout


def test_dg_check_defs_names_the_file_the_action_and_the_inputs_label(tmp_path: Path) -> None:
    defs_yaml = make_project(tmp_path, MISTAKES)
    checked = dg(tmp_path, "check", "defs")
    assert checked.returncode != 0
    output = re.sub(r"\s+", " ", ANSI.sub("", checked.stdout + checked.stderr))
    # Each mistake is reported against its place in the file, every one in the same check.
    for line in (3, 6, 10, 12):
        assert f"{defs_yaml}:{line}" in output
    assert "Region (`region`) must be one of ['api', 'api-eu', 'api-in'], not 'api-xx'" in output
    assert "Download Data (`downloadData`): Project ID (`project_id`): required" in output
    assert "no action 'queryProfile'. Did you mean queryProfiles" in output
    assert (
        "Query Profile (`queryProfiles`): Unknown input (`wherre`): Query Profile has no input "
        "`wherre`. Did you mean Where (`where`)?" in output
    )
