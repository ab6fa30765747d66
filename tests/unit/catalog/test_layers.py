"""Overlay folders: added and replaced operations, shared inputs, component pieces, errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from connector import SpecError, load_component, load_specs
from connector.catalog.layers import SPECS_ENV, merge_component, overlay_paths
from connector.catalog.load import check_specs
from connector.cli.main import main

ACTION = """\
key: ping
label: Ping
description: Asks an API whether it is there.
inputs:
  - use: connection
  - use: tier
request:
  method: GET
  url: "https://api.mixpanel.com/ping"
  auth: none
  query: {tier: "{{ tier }}"}
retry:
  rate_limit: pings
sample:
  data: ok
"""
SHARED = """\
tier:
  key: tier
  label: Tier
  type: string
  default: gold
  choices: [gold, silver]
"""
COMPONENT = """\
rate_limits:
  pings:
    label: Ping API
    per_hour: 10
"""


def _overlay(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_overlay_brings_its_own_shared_inputs_and_rate_limits(tmp_path: Path) -> None:
    overlay = _overlay(
        tmp_path,
        {"actions/ping.yaml": ACTION, "inputs.yaml": SHARED, "component.yaml": COMPONENT},
    )
    spec = load_specs(overlays=[overlay])
    ping = spec.actions["ping"]
    assert (ping.source, ping.file) == (str(overlay), "actions/ping.yaml")
    assert ping.input("tier").choices == ("gold", "silver")
    assert spec.rate_limits["pings"].per_hour == 10
    assert set(spec.rate_limits) >= {"query", "export", "pings"}
    assert spec.key == "mixpanel"


def test_overlay_problems_name_the_overlay_file_and_line(tmp_path: Path) -> None:
    broken = ACTION.replace('tier: "{{ tier }}"', 'tier: "{{ tire }}"')
    overlay = _overlay(tmp_path, {"actions/ping.yaml": broken, "inputs.yaml": SHARED})
    _, problems = check_specs(overlays=[overlay])
    shown = [str(p) for p in problems]
    path = str(overlay / "actions" / "ping.yaml")
    assert any(s.startswith(f"{path}:11") and "undeclared name(s) tire" in s for s in shown)
    # Its rate limit is unknown without its component.yaml.
    assert any(s.startswith(f"{path}:13") and "unknown rate limit 'pings'" in s for s in shown)


def test_overlay_component_yaml_is_checked_against_the_meta_schema(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, {"component.yaml": "rate_limits:\n  pings: {per_hour: 0}\n"})
    _, problems = check_specs(overlays=[overlay])
    (problem,) = problems
    assert str(problem).startswith(f"{overlay / 'component.yaml'}:2")
    assert "less than the minimum of 1" in str(problem)


def test_overlay_shared_inputs_do_not_change_shipped_actions(tmp_path: Path) -> None:
    region = "region:\n  key: region\n  label: Zone\n  type: string\n  default: api-in\n"
    overlay = _overlay(tmp_path, {"inputs.yaml": region})
    spec = load_specs(overlays=[overlay])
    assert spec.actions["createAlias"].input("region").label == "Region"


def test_unknown_use_in_an_overlay_lists_what_exists(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path, {"actions/ping.yaml": ACTION})
    with pytest.raises(SpecError, match="no shared input 'tier'; inputs.yaml defines: .*region"):
        load_specs(overlays=[overlay])


def test_missing_or_empty_overlay_folder_is_a_problem(tmp_path: Path) -> None:
    _, problems = check_specs(overlays=[tmp_path / "nope"])
    assert [p.message for p in problems] == ["overlay folder does not exist"]
    _, problems = check_specs(overlays=[tmp_path])
    assert [p.message for p in problems][0].startswith("overlay folder holds no spec files")


def test_later_overlays_win(tmp_path: Path) -> None:
    first = _overlay(
        tmp_path / "a",
        {"actions/ping.yaml": ACTION, "inputs.yaml": SHARED, "component.yaml": COMPONENT},
    )
    second = _overlay(
        tmp_path / "b",
        {"actions/ping.yaml": ACTION.replace("label: Ping", "label: Pong")},
    )
    spec = load_specs(overlays=[first, second])
    assert (spec.actions["ping"].label, spec.actions["ping"].source) == ("Pong", str(second))


def test_environment_names_overlays_and_an_explicit_list_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlay = _overlay(
        tmp_path / "a",
        {"actions/ping.yaml": ACTION, "inputs.yaml": SHARED, "component.yaml": COMPONENT},
    )
    monkeypatch.setenv(SPECS_ENV, os.pathsep.join([str(overlay), ""]))
    assert overlay_paths(None) == [overlay]
    assert overlay_paths([]) == []
    assert "ping" in load_component().spec.actions
    assert "ping" not in load_component(spec_paths=[]).spec.actions


def test_cli_specs_is_repeatable_on_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _overlay(tmp_path / "a", {"inputs.yaml": SHARED, "component.yaml": COMPONENT})
    second = _overlay(tmp_path / "b", {"actions/ping.yaml": ACTION})
    specs = ["--specs", str(first), "--specs", str(second)]
    assert main(["validate", *specs]) == 0
    assert main(["describe", "ping", *specs]) == 0
    assert f"source: {second}" in capsys.readouterr().out
    assert main(["run", "ping", "--dry-run", *specs]) == 0
    assert '"url": "https://api.mixpanel.com/ping?tier=gold"' in capsys.readouterr().out
    assert main(["validate", "--specs", str(second)]) == 1
    assert "no shared input 'tier'" in capsys.readouterr().err


def test_merge_component_merges_rate_limits_by_name() -> None:
    base = {"key": "k", "rate_limits": {"a": {"per_hour": 1}, "b": {"per_hour": 2}}}
    over = {"name": "N", "rate_limits": {"b": {"per_hour": 3}}}
    assert merge_component(base, over) == {
        "key": "k",
        "name": "N",
        "rate_limits": {"a": {"per_hour": 1}, "b": {"per_hour": 3}},
    }


def test_an_overlay_file_linking_outside_its_folder_is_refused_unread(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    private = outside / "private.yaml"
    private.write_text("root:x:0:0:PRIVATE-LINE\n")
    overlay = tmp_path / "overlay"
    (overlay / "actions").mkdir(parents=True)
    (overlay / "component.yaml").symlink_to(private)
    (overlay / "actions" / "leak.yaml").symlink_to(private)
    component, problems = check_specs(overlays=[overlay])
    assert component is None
    assert sorted(p.file for p in problems) == sorted(
        [str(overlay / "component.yaml"), str(overlay / "actions" / "leak.yaml")]
    )
    for problem in problems:
        assert f"resolves to {private}, outside the overlay folder {overlay}" in problem.message
    assert "PRIVATE" not in "".join(map(str, problems))
    with pytest.raises(SpecError) as caught:
        load_specs(overlays=[overlay])
    assert "PRIVATE" not in str(caught.value) and "outside the overlay folder" in str(caught.value)


def test_a_linked_actions_folder_outside_the_overlay_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.yaml").write_text("key: x\n")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "actions").symlink_to(elsewhere, target_is_directory=True)
    _, problems = check_specs(overlays=[overlay])
    assert [p.file for p in problems] == [str(overlay / "actions" / "x.yaml")]


def test_links_inside_the_overlay_folder_are_fine(tmp_path: Path) -> None:
    from connector.catalog import specs_root

    overlay = tmp_path / "overlay"
    (overlay / "actions").mkdir(parents=True)
    real = overlay / "listSavedFunnels.yaml.src"
    real.write_text((specs_root() / "actions" / "listSavedFunnels.yaml").read_text())
    (overlay / "actions" / "listSavedFunnels.yaml").symlink_to(real)
    component, problems = check_specs(overlays=[overlay])
    assert problems == [] and component is not None
