"""Editor support: JSON schemas in sync with the YAML meta-schema, and a modeline in every spec."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from connector.catalog.load import specs_root
from connector.cli.main import main
from connector.describe.editor import (
    MODELINE,
    json_schemas,
    kind_of,
    runtime_spec_files,
    schema_dir,
    schema_text,
    write_json_schemas,
)

SPEC_FILES = runtime_spec_files()


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


def test_regenerating_leaves_the_migration_specs_alone(tmp_path: Path) -> None:
    # migrate.yaml and mappings/ name their own schemas; regenerating must not repoint them.
    folder = tmp_path / "specs"
    shutil.copytree(specs_root(), folder)
    before = {p: p.read_bytes() for p in folder.rglob("*.yaml")}
    assert write_json_schemas(folder) == []
    assert {p: p.read_bytes() for p in folder.rglob("*.yaml")} == before
    assert any("mappings" in p.parts for p in before) and (folder / "migrate.yaml") in before
