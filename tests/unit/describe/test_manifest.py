"""The manifest validates against its shipped JSON Schema, with and without an overlay."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from connector import load_specs
from connector.cli.main import main
from connector.describe.manifest import MANIFEST_SCHEMA_PATH, manifest
from tests.integration.test_overlays import SET_GROUP_PROPERTIES

SCHEMA = json.loads(MANIFEST_SCHEMA_PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


def _errors(data: Any) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(data)]


def test_schema_is_a_valid_json_schema_and_printed_by_the_cli(
    capsys: pytest.CaptureFixture[str],
) -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert main(["manifest", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMA


def test_shipped_manifest_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manifest"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert _errors(data) == []
    assert {a["source"] for a in data["actions"] + data["data_sources"]} == {"shipped"}


def test_manifest_with_an_overlay_validates(tmp_path: Path) -> None:
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "setGroupProperties.yaml").write_text(SET_GROUP_PROPERTIES)
    data = manifest(load_specs(overlays=[tmp_path]))
    assert _errors(data) == []
    added = next(a for a in data["actions"] if a["key"] == "setGroupProperties")
    assert (added["source"], added["file"]) == (str(tmp_path), "actions/setGroupProperties.yaml")


def test_every_input_says_whether_it_holds_a_secret() -> None:
    data = manifest(load_specs())
    fields = {i["key"]: i["secret"] for i in data["connection"]["inputs"]}
    assert fields == {
        "username": False,
        "password": True,
        "projectToken": True,
        "oauthToken": True,
    }
    token = next(
        i
        for a in data["actions"]
        if a["key"] == "createAlias"
        for i in a["inputs"]
        if i["key"] == "project_token"
    )
    assert token["secret"] is True


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("actions", 0, "source"), None),
        (("actions", 0, "inputs", 0, "secret"), None),
        (("actions", 0, "inputs", 0, "type"), "text"),
        (("connection", "auth_schemes", "none", "type"), "digest"),
    ],
)
def test_the_schema_rejects_a_broken_manifest(path: tuple[Any, ...], value: Any) -> None:
    data = copy.deepcopy(manifest(load_specs()))
    node = data
    for step in path[:-1]:
        node = node[step]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    assert _errors(data) != []


def test_an_action_that_waits_says_how() -> None:
    data = manifest(load_specs())
    waits = {a["key"]: a.get("waits") for a in data["actions"]}
    assert waits["createDataDeletion"] == {
        "status_action": "getDataDeletionStatus",
        "enabled": "waitForCompletion",
        "resume_input": "tracking_id",
    }
    assert waits["createAlias"] is None
