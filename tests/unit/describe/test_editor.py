"""Editor support: JSON schemas in sync with the YAML meta-schema, and a modeline in every spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from connector.catalog.load import specs_root
from connector.cli.main import main
from connector.describe.editor import MODELINE, json_schemas, kind_of, schema_dir, schema_text

# The runtime's spec files. migrate.yaml and mappings/ belong to the migration commands
# (connector/migrate), which check them against their own schemas when they load them.
SPEC_FILES = sorted(
    path
    for path in specs_root().rglob("*.yaml")
    if path.name != "migrate.yaml" and "mappings" not in path.relative_to(specs_root()).parts
)


def test_json_schemas_are_generated_from_the_yaml_meta_schema() -> None:
    """Out of sync? Run python tools/gen_schemas.py."""
    shipped = {p.name: p.read_text(encoding="utf-8") for p in schema_dir().glob("*.json")}
    assert shipped == {name: schema_text(s) for name, s in json_schemas().items()}
    for schema in json_schemas().values():
        Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.relative_to(specs_root()).as_posix())
def test_every_spec_file_names_its_schema_and_matches_it(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(MODELINE)
    target = (path.parent / first.removeprefix(MODELINE)).resolve()
    assert target.name == kind_of(path.relative_to(specs_root()))
    schema = json.loads(target.read_text(encoding="utf-8"))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(data)) == []


def test_the_json_schemas_catch_mistakes_an_editor_should_show() -> None:
    schemas = {n: Draft202012Validator(s) for n, s in json_schemas().items()}
    alias = yaml.safe_load((specs_root() / "actions" / "createAlias.yaml").read_text())
    del alias["request"]
    assert not schemas["operation.schema.json"].is_valid(alias)
    partial = {"rate_limits": {"pings": {"per_hour": 10}}}
    assert schemas["component-overlay.schema.json"].is_valid(partial)
    assert not schemas["component.schema.json"].is_valid(partial)
    assert not schemas["component-overlay.schema.json"].is_valid({"rate_limit": {}})


def test_validate_prints_the_installed_schema_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--print-schema-path"]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder == schema_dir() and (folder / "operation.schema.json").is_file()


def test_kind_of_overlay_component_is_the_partial_schema() -> None:
    assert kind_of(Path("component.yaml"), overlay=True) == "component-overlay.schema.json"
    assert kind_of(Path("actions/x.yaml"), overlay=True) == "operation.schema.json"
