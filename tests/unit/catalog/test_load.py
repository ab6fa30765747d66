from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from connector.catalog.load import check_specs, load_specs, meta_schema, specs_root
from connector.errors import SpecError

GOOD_ACTION = """\
key: sample
label: Sample
description: A sample action.
inputs:
  - use: connection
  - use: region
  - key: mode
    label: Mode
    type: string
    default: fast
    choices: [fast, slow]
request:
  method: GET
  url: "https://{{ region }}.mixpanel.com/x"
  auth: none
  query:
    mode: "{{ mode }}"
sample:
  data: 1
"""


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    root = tmp_path / "specs"
    root.mkdir()
    source = specs_root()
    for name in ("component.yaml", "connection.yaml", "inputs.yaml"):
        shutil.copy(source / name, root / name)
    (root / "actions").mkdir()
    (root / "data_sources").mkdir()
    (root / "actions" / "sample.yaml").write_text(GOOD_ACTION)
    return root


def test_a_good_spec_loads(specs: Path) -> None:
    component = load_specs(specs)
    action = component.actions["sample"]
    assert [i.key for i in action.inputs] == ["connection", "region", "mode"]
    assert action.input("region").choices == ("api", "api-eu", "api-in")


def test_broken_spec_reports_every_problem_with_file_and_line(specs: Path) -> None:
    broken = (
        GOOD_ACTION.replace('mode: "{{ mode }}"', 'mode: "{{ modde }}"')
        .replace("default: fast", "default: medium")
        .replace("sample:\n  data: 1\n", "")
    )
    (specs / "actions" / "sample.yaml").write_text(broken)
    component, problems = check_specs(specs)
    assert component is None
    text = [str(p) for p in problems]
    assert any(
        t.startswith(
            "actions/sample.yaml:17: /request/query/mode: template uses undeclared name(s) modde"
        )
        for t in text
    ), text
    assert any(
        t.startswith("actions/sample.yaml:10: /inputs/2/default: default 'medium'") for t in text
    ), text
    assert any(t.startswith("actions/sample.yaml") and "missing `sample`" in t for t in text), text
    assert len(problems) == 3


def test_schema_errors_cite_pointer_and_line(specs: Path) -> None:
    (specs / "actions" / "sample.yaml").write_text(
        GOOD_ACTION.replace("type: string\n", "type: text\n")
    )
    _, problems = check_specs(specs)
    assert len(problems) == 1
    assert problems[0].pointer == "/inputs/2/type"
    assert problems[0].line == 9
    assert "'text' is not one of" in problems[0].message


def test_key_must_match_file_name_and_use_must_exist(specs: Path) -> None:
    (specs / "actions" / "other.yaml").write_text(
        GOOD_ACTION.replace("- use: region", "- use: regoin")
    )
    _, problems = check_specs(specs)
    messages = " | ".join(p.message for p in problems)
    assert "does not match the file name 'other'" in messages
    assert "no shared input 'regoin'" in messages


def test_load_specs_raises_spec_error(specs: Path) -> None:
    (specs / "actions" / "sample.yaml").write_text("key: [unclosed\n")
    with pytest.raises(SpecError, match="YAML syntax error"):
        load_specs(specs)


def _properties(node: object, path: str = "") -> list[tuple[str, object]]:
    found: list[tuple[str, object]] = []
    if isinstance(node, dict):
        for name, sub in (node.get("properties") or {}).items():
            found.append((f"{path}/{name}", sub))
        for key, value in node.items():
            if key in ("examples", "default"):
                continue
            found.extend(_properties(value, f"{path}/{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_properties(value, f"{path}/{index}"))
    return found


def test_meta_schema_describes_every_property() -> None:
    missing = [
        path
        for path, sub in _properties(meta_schema())
        if not (isinstance(sub, dict) and sub.get("description"))
    ]
    assert missing == []


def test_data_source_links_must_name_a_data_source(specs: Path) -> None:
    (specs / "actions" / "sample.yaml").write_text(
        GOOD_ACTION.replace("    default: fast\n", "    default: fast\n    data_source: funelz\n")
    )
    _, problems = check_specs(specs)
    assert [p.message for p in problems] == ["no data source 'funelz'; known: "]


def test_list_item_enum_errors_name_the_valid_values() -> None:
    from connector import InputError, load_component

    with pytest.raises(InputError) as caught:
        load_component().preview(
            "getPipeline",
            {"project_id": "1", "name": "p", "status": "pending, bogus"},
            {"username": "u", "password": "p-secret"},
        )
    assert "'bogus' is not allowed. Valid values are: 'pending', 'running'" in str(caught.value)


def test_rate_limit_names_must_be_declared_by_the_component(specs: Path) -> None:
    (specs / "actions" / "sample.yaml").write_text(
        GOOD_ACTION.replace("sample:\n", "retry:\n  rate_limit: querry\nsample:\n")
    )
    _, problems = check_specs(specs)
    assert [(p.pointer, p.message) for p in problems] == [
        (
            "/retry/rate_limit",
            "unknown rate limit 'querry'; "
            "component.yaml declares export, gdpr, lexicon, none, query",
        )
    ]


def test_shared_input_default_outside_choices_points_at_the_shared_input(specs: Path) -> None:
    path = specs / "inputs.yaml"
    path.write_text(path.read_text().replace("  default: api\n", "  default: api-us\n", 1))
    _, problems = check_specs(specs)
    [problem] = [p for p in problems if p.file == "inputs.yaml"]
    assert problem.pointer == "/region/default"
    assert problem.line is not None
    assert "default 'api-us' of input 'region' is not one of its choices" in problem.message


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        pytest.param(
            "batch:\n  input: mode\n  item: thing\n  max_items: 10\n",
            [("/batch/input", "batch input 'mode' is not a `json` input")],
            id="input-not-json",
        ),
        pytest.param(
            "batch:\n  input: nope\n  item: thing\n  max_items: 10\n",
            [("/batch/input", "batch input 'nope' is not a `json` input")],
            id="input-unknown",
        ),
        pytest.param(
            "batch:\n  input: mode\n  item: thing\n  max_items: 0\n",
            [("/batch/max_items", "0 is less than the minimum of 1")],
            id="max-items-zero",
        ),
        pytest.param(
            "batch:\n  input: mode\n  item: t\n  max_items: 1\n  fill:\n"
            "    - {path: a, value: '{{ nope }}'}\n",
            [
                ("/batch/input", "batch input 'mode' is not a `json` input"),
                (
                    "/batch/fill/0/value",
                    "template uses undeclared name(s) nope; declared here: body, connection, mode,"
                    " region",
                ),
            ],
            id="fill-template-undeclared",
        ),
    ],
)
def test_batch_sections_are_checked(specs: Path, batch: str, expected: list[Any]) -> None:
    (specs / "actions" / "sample.yaml").write_text(
        GOOD_ACTION.replace("sample:\n", batch + "sample:\n")
    )
    _, problems = check_specs(specs)
    assert sorted((p.pointer, p.message) for p in problems) == sorted(expected)


def test_a_batch_section_with_a_json_array_input_loads(specs: Path) -> None:
    action = GOOD_ACTION.replace(
        "request:",
        "  - key: rows\n    label: Rows\n    type: json\n    schema: {type: array}\nrequest:",
    ).replace("sample:\n", "batch:\n  input: rows\n  item: row\n  max_items: 5\nsample:\n")
    (specs / "actions" / "sample.yaml").write_text(action)
    assert load_specs(specs).actions["sample"].batch == {
        "input": "rows",
        "item": "row",
        "max_items": 5,
    }
