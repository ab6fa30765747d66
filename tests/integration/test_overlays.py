"""The declarative promise: a folder holding one YAML file adds or changes an action, no Python.

Each test writes its overlay folder, loads it next to the shipped specs, and checks the action
end to end: list, manifest, validate, preview, a cassette run and Mixpanel's OpenAPI contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector import Component, load_component
from connector.budgets.memory import BudgetRegistry
from connector.catalog.load import load_specs, specs_root
from connector.cli.main import main
from connector.send.attempts import NO_RETRY
from tests.conftest import TEST_CONNECTION
from tests.contract.wire import WireRequest, check_wire_request

TOKEN = TEST_CONNECTION["projectToken"]

SET_GROUP_PROPERTIES = """\
key: setGroupProperties
label: Set Group Properties
description: Updates or adds properties of a group profile; the profile is created if needed.
notes: >-
  Posts one `$set` update object as a JSON array to /groups (group-set-property). The project
  token travels inside the object as `$token`, so no Authorization header is sent.
openapi: {file: ingestion.openapi.yaml, operation_id: group-set-property}
inputs:
  - use: connection
  - use: region
  - key: groupKey
    label: Group Key
    type: string
    required: true
    notes: The group key, as set up in Project Settings (e.g. company_id).
    example: company_id
  - key: groupId
    label: Group ID
    type: string
    required: true
    notes: The group this update is for.
    example: Acme Inc
  - key: properties
    label: Properties
    type: json
    required: true
    schema: {type: object, minProperties: 1}
    notes: The properties to set, as a JSON object.
    example: '{"Address": "1313 Mockingbird Lane", "Employees": 120}'
  - use: verbose
    group: null
rules:
  - when: "not connection.get('projectToken')"
    inputs: [connection]
    message: needs the connection's Project Token (`projectToken`); it is sent as `$token`.
request:
  method: POST
  url: "https://{{ region }}.mixpanel.com/groups"
  auth: none
  query:
    verbose: "{{ 1 if verbose else none }}"
  body:
    format: json
    content:
      - $token: "{{ connection.projectToken }}"
        $group_key: "{{ groupKey }}"
        $group_id: "{{ groupId }}"
        $set: "{{ properties }}"
retry:
  idempotent: true
response:
  fail_when:
    - if: "body == 0"
      message: "Mixpanel rejected the group update (it answered 0). Set Verbose to get the reason."
sample:
  data: 1
"""
GROUP_INPUTS = {
    "groupKey": "company_id",
    "groupId": "Acme Inc",
    "properties": '{"Address": "1313 Mockingbird Lane", "Employees": 120}',
}


@pytest.fixture
def group_overlay(tmp_path: Path) -> Path:
    """An overlay folder with one YAML file and nothing else."""
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "setGroupProperties.yaml").write_text(SET_GROUP_PROPERTIES)
    return tmp_path


@pytest.fixture
def region_overlay(tmp_path: Path) -> Path:
    """Overrides the shipped Create Alias so Region defaults to the EU."""
    shipped = (specs_root() / "actions" / "createAlias.yaml").read_text()
    assert "\n  - use: region\n" in shipped
    changed = shipped.replace("\n  - use: region\n", "\n  - use: region\n    default: api-eu\n")
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "createAlias.yaml").write_text(changed)
    return tmp_path


def _component(overlay: Path) -> Component:
    return load_component(spec_paths=[overlay], retry=NO_RETRY, rate_registry=BudgetRegistry())


def _wire(component: Component, key: str, inputs: dict[str, str]) -> WireRequest:
    op = component.spec.actions[key]
    request, authorization = component.prepare(op, inputs, TEST_CONNECTION)
    headers = dict(request.headers)
    if authorization:
        headers["Authorization"] = authorization
    return WireRequest(request.method, request.full_url, headers, request.content)


def test_yaml_only_action_is_listed_with_its_source(
    group_overlay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list", "--specs", str(group_overlay)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "setGroupProperties" in x)
    assert line.split()[:2] == ["action", "setGroupProperties"]
    assert line.endswith(str(group_overlay))
    assert main(["list"]) == 0
    assert "setGroupProperties" not in capsys.readouterr().out


def test_yaml_only_action_is_in_the_manifest(
    group_overlay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["manifest", "--specs", str(group_overlay)]) == 0
    actions = {a["key"]: a for a in json.loads(capsys.readouterr().out)["actions"]}
    entry = actions["setGroupProperties"]
    assert entry["source"] == str(group_overlay)
    assert entry["file"] == "actions/setGroupProperties.yaml"
    assert [i["key"] for i in entry["inputs"]] == [
        "connection",
        "region",
        "groupKey",
        "groupId",
        "properties",
        "verbose",
    ]
    assert actions["createAlias"]["source"] == "shipped"


def test_yaml_only_action_passes_validate(
    group_overlay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--specs", str(group_overlay)]) == 0
    assert f"{len(load_specs().actions) + 1} actions" in capsys.readouterr().out


def test_yaml_only_action_previews_the_right_request(group_overlay: Path) -> None:
    preview = _component(group_overlay).preview(
        "setGroupProperties", {**GROUP_INPUTS, "region": "api-eu"}, TEST_CONNECTION
    )
    (request,) = preview
    assert request["method"] == "POST"
    assert request["url"] == "https://api-eu.mixpanel.com/groups"
    assert request["headers"] == {"Content-Type": "application/json"}
    assert "Authorization" not in json.dumps(request)
    assert request["body"] == [
        {
            "$token": "***",
            "$group_key": "company_id",
            "$group_id": "Acme Inc",
            "$set": {"Address": "1313 Mockingbird Lane", "Employees": 120},
        }
    ]


@pytest.mark.vcr
def test_yaml_only_action_runs_against_a_cassette(group_overlay: Path) -> None:
    result = _component(group_overlay).run("setGroupProperties", GROUP_INPUTS, TEST_CONNECTION)
    assert result == {"data": 1}


def test_yaml_only_action_passes_the_openapi_contract(group_overlay: Path) -> None:
    wire = _wire(_component(group_overlay), "setGroupProperties", GROUP_INPUTS)
    assert check_wire_request(wire, operation_id="group-set-property") == []
    body = json.loads(wire.body or b"")
    assert body[0]["$token"] == TOKEN
    del body[0]["$group_id"]
    broken = WireRequest(wire.method, wire.url, wire.headers, json.dumps(body).encode())
    assert check_wire_request(broken, operation_id="group-set-property") != []


def test_override_changes_a_shipped_default_everywhere(
    region_overlay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--specs", str(region_overlay)]) == 0
    assert f"{len(load_specs().actions)} actions" in capsys.readouterr().out
    assert main(["manifest", "--specs", str(region_overlay)]) == 0
    actions = {a["key"]: a for a in json.loads(capsys.readouterr().out)["actions"]}
    region = next(i for i in actions["createAlias"]["inputs"] if i["key"] == "region")
    assert (actions["createAlias"]["source"], region["default"]) == (str(region_overlay), "api-eu")
    assert main(["list", "--specs", str(region_overlay)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "createAlias" in x)
    assert line.endswith(str(region_overlay))


ALIAS_INPUTS = {"alias": "user-alias-67890", "distinct_id": "user-12345"}


def test_override_previews_and_passes_the_contract(region_overlay: Path) -> None:
    component = _component(region_overlay)
    (request,) = component.preview("createAlias", ALIAS_INPUTS, TEST_CONNECTION)
    assert request["url"] == "https://api-eu.mixpanel.com/track"
    (shipped,) = load_component().preview("createAlias", ALIAS_INPUTS, TEST_CONNECTION)
    assert shipped["url"] == "https://api.mixpanel.com/track"
    wire = _wire(component, "createAlias", ALIAS_INPUTS)
    assert check_wire_request(wire, operation_id="identity-create-alias") == []


@pytest.mark.vcr
def test_override_runs_against_a_cassette(region_overlay: Path) -> None:
    result = _component(region_overlay).run("createAlias", ALIAS_INPUTS, TEST_CONNECTION)
    assert result == {"data": 1}


def test_yaml_only_action_is_in_the_generated_docs(
    group_overlay: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["docs", "--specs", str(group_overlay)]) == 0
    text = capsys.readouterr().out
    section = text.split("### Set Group Properties\n", 1)[1].split("\n### ", 1)[0]
    assert f"From the overlay folder `{group_overlay}`" in section
    assert "Region (`region`) `api-eu`: `https://api-eu.mixpanel.com/groups`" in section
    assert "| Group Key | `groupKey` | text; required |" in section
    assert "Mixpanel operation: `group-set-property` in `ingestion.openapi.yaml`." in section
