"""The migration specs: specs/migrate.yaml and the mappings in specs/mappings/, with overlays.

An overlay folder (--specs, MIXPANEL_CONNECTOR_SPECS) holding `mappings/KEY.yaml` adds a
mapping or replaces the shipped one of the same key, as it does for actions. Every file is read
within the spec files' bounds and checked against its JSON Schema before use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..catalog.layers import overlay_paths
from ..catalog.load import specs_root
from ..core.yamlbound import load_bounded
from ..errors import InputError, InputProblem, SpecError, SpecProblem, YAMLProblem
from .mapping import RecordMapping

__all__ = ["Layout", "load_layout", "load_mappings", "schema", "transforms_schema"]

_HERE = Path(__file__).parent


@cache
def schema(name: str) -> dict[str, Any]:
    """The JSON Schema `name` (mapping, migrate, transforms) shipped beside this module."""
    data = yaml.safe_load((_HERE / f"{name}.schema.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def transforms_schema() -> dict[str, Any]:
    """The JSON Schema of a transforms file."""
    return schema("transforms")


def checked(path: Path, kind: str) -> Any:
    """The data of one spec file, checked against schema `kind`; SpecError names each problem."""
    try:
        data = load_bounded(path).data
    except YAMLProblem as exc:
        raise SpecError(
            [SpecProblem(str(path), exc.line if hasattr(exc, "line") else None, "", str(exc))]
        ) from None
    except OSError as exc:
        raise SpecError(
            [SpecProblem(str(path), None, "", f"cannot read: {exc.strerror}")]
        ) from None
    validator = jsonschema.Draft202012Validator(
        schema(kind), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    problems = [
        SpecProblem(str(path), None, "/".join(str(p) for p in error.absolute_path), error.message)
        for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise SpecError(problems)
    return data


@dataclass(frozen=True)
class Layout:
    """Where events' and profiles' parts are, and the actions a copy chains (migrate.yaml)."""

    events: Mapping[str, Any]
    profiles: Mapping[str, str]
    copy: Mapping[str, Mapping[str, Any]]
    project: str
    regions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)

    def side_inputs(self, project: str | None, region: str | None) -> dict[str, Any]:
        """The inputs that name a project and choose its region (`us`, `eu`, ...)."""
        inputs: dict[str, Any] = {self.project: project} if project else {}
        if region:
            if region not in self.regions:
                known = ", ".join(self.regions)
                problem = InputProblem("region", "region", f"{region!r} is not one of {known}")
                raise InputError("region", [problem])
            inputs.update(self.regions[region])
        return inputs


def _folders(overlays: Sequence[Path | str] | None) -> list[Path]:
    return [specs_root(), *overlay_paths(overlays)]


def load_layout(overlays: Sequence[Path | str] | None = None) -> Layout:
    """specs/migrate.yaml, the last overlay's own when one has it."""
    found = [f / "migrate.yaml" for f in _folders(overlays) if (f / "migrate.yaml").is_file()]
    if not found:
        raise SpecError([SpecProblem(str(specs_root()), None, "", "migrate.yaml is missing")])
    data = checked(found[-1], "migrate")
    return Layout(
        data["events"],
        data["profiles"],
        data["copy"],
        data["project"],
        data["regions"],
        data.get("groups") or {},
    )


def load_mappings(overlays: Sequence[Path | str] | None = None) -> dict[str, RecordMapping]:
    """Every mapping by key: shipped ones, then each overlay's (a same key replaces)."""
    found: dict[str, RecordMapping] = {}
    for folder in _folders(overlays):
        for path in sorted((folder / "mappings").glob("*.yaml")):
            data = checked(path, "mapping")
            if data["key"] != path.stem:
                message = f"key {data['key']!r} differs from the file's name ({path.stem})"
                raise SpecError([SpecProblem(str(path), None, "key", message)])
            found[data["key"]] = RecordMapping.from_spec(data, str(path))
    return found
