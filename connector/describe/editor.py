"""Editor support: the spec meta-schema as JSON, one file per kind of spec file, and modelines."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from ..catalog.load import meta_schema, specs_root

# Schema file name -> the meta-schema definition a file of that kind must match.
KINDS = {
    "component.schema.json": "component",
    "component-overlay.schema.json": "component_overlay",
    "connection.schema.json": "connection",
    "inputs.schema.json": "shared_inputs",
    "operation.schema.json": "operation",
}
# Where they live: inside the specs folder, so one relative modeline works in a checkout and in
# the installed package alike.
SCHEMA_FOLDER = "schemas"
MODELINE = "# yaml-language-server: $schema="


def schema_dir(root: Path | None = None) -> Path:
    """The folder holding the JSON schemas of the (shipped) specs."""
    return (root or specs_root()) / SCHEMA_FOLDER


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every JSON schema by file name, generated from the YAML meta-schema."""
    base = copy.deepcopy(meta_schema())
    partial = copy.deepcopy(base["$defs"]["component"])
    partial.pop("required", None)
    partial["description"] = (
        "component.yaml in an overlay folder: any of the component's fields, merged over the "
        "shipped ones (rate_limits by name)."
    )
    base["$defs"]["component_overlay"] = partial
    schemas = {}
    for name, definition in KINDS.items():
        schema = {**base, "$id": base["$id"].rsplit("/", 1)[0] + "/" + name}
        schema["$ref"] = f"#/$defs/{definition}"
        schemas[name] = schema
    return schemas


def schema_text(schema: dict[str, Any]) -> str:
    """The exact text a schema file holds."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def kind_of(relative: Path, overlay: bool = False) -> str:
    """The schema file name for a spec file at `relative` inside a spec folder."""
    if relative.parent.name in ("actions", "data_sources"):
        return "operation.schema.json"
    name = {"component.yaml": "component", "connection.yaml": "connection"}.get(relative.name)
    if name == "component" and overlay:
        return "component-overlay.schema.json"
    return f"{name or 'inputs'}.schema.json"


def runtime_spec_files(root: Path | None = None) -> list[Path]:
    """The runtime's spec files under `root`, sorted: not migrate.yaml nor mappings/.

    Those two belong to the migration commands, which check them against their own schemas.
    """
    root = root or specs_root()
    return sorted(
        path
        for path in root.rglob("*.yaml")
        if path.name != "migrate.yaml" and "mappings" not in path.relative_to(root).parts
    )


def modeline(relative: Path) -> str:
    """The first line of a shipped spec file: its schema, relative to the file."""
    up = "../" * (len(relative.parts) - 1)
    return f"{MODELINE}{up}{SCHEMA_FOLDER}/{kind_of(relative)}"


def write_json_schemas(root: Path | None = None) -> list[Path]:
    """Write the JSON schemas and put the modeline first in every spec file; return changes."""
    root = root or specs_root()
    changed = []
    folder = schema_dir(root)
    folder.mkdir(exist_ok=True)
    for name, schema in json_schemas().items():
        path, text = folder / name, schema_text(schema)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for path in runtime_spec_files(root):
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        line = modeline(path.relative_to(root)) + "\n"
        if lines and lines[0].startswith(MODELINE):
            lines = lines[1:]
        if [line, *lines] != path.read_text(encoding="utf-8").splitlines(keepends=True):
            path.write_text("".join([line, *lines]), encoding="utf-8")
            changed.append(path)
    return changed
