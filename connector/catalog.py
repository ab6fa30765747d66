"""Loads and checks every spec file (meta-schema and cross-field rules), then builds the specs."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from .checks import Names, check_defaults_in_choices, check_operation
from .errors import SpecError, SpecProblem
from .loader import SpecDocument, escape_pointer, load_yaml
from .ratelimit import RateLimit
from .spec import (
    AuthSchemeSpec,
    ComponentSpec,
    ConnectionSpec,
    InputSpec,
    OperationSpec,
)

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMA_PATH = PACKAGE_DIR / "schemas" / "spec.schema.yaml"


def specs_root() -> Path:
    """Where the specs are: inside the installed package, else the checkout's specs/."""
    for candidate in (PACKAGE_DIR / "specs", PACKAGE_DIR.parent / "specs"):
        if (candidate / "component.yaml").is_file():
            return candidate
    raise SpecError([SpecProblem(str(PACKAGE_DIR / "specs"), None, "", "no specs found")])


@functools.lru_cache(maxsize=1)
def meta_schema() -> dict[str, Any]:
    """The meta-schema for spec files."""
    loaded: dict[str, Any] = yaml.safe_load(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@functools.lru_cache(maxsize=8)
def _validator(definition: str) -> Draft202012Validator:
    return Draft202012Validator({**meta_schema(), "$ref": f"#/$defs/{definition}"})


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{escape_pointer(str(p))}" for p in error.absolute_path)


def _schema_problems(doc: SpecDocument, definition: str, root: Path) -> list[SpecProblem]:
    problems = []
    for error in _validator(definition).iter_errors(doc.data):
        if error.context:
            # Of a oneOf's branches, the deepest error is the one that says what is wrong.
            error = max(error.context, key=lambda e: len(e.absolute_path))
        problems.append(doc.problem(_pointer(error), error.message, root))
    return problems


def _resolve_inputs(
    raw: list[dict[str, Any]], shared: dict[str, Any], doc: SpecDocument, root: Path
) -> tuple[list[dict[str, Any]], list[SpecProblem]]:
    resolved, problems = [], []
    for index, item in enumerate(raw):
        if "use" in item:
            base = shared.get(item["use"])
            if base is None:
                known = ", ".join(sorted(shared))
                problems.append(
                    doc.problem(
                        f"/inputs/{index}/use",
                        f"no shared input {item['use']!r}; specs/inputs.yaml defines: {known}",
                        root,
                    )
                )
                continue
            item = {**base, **{k: v for k, v in item.items() if k != "use"}}
        resolved.append(item)
    return resolved, problems


class _Collector:
    """Collects problems across files so `validate` can report all of them at once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[SpecProblem] = []

    def load(self, path: Path, definition: str) -> SpecDocument | None:
        try:
            doc = load_yaml(path)
        except SpecError as exc:
            self.problems.extend(exc.problems)
            return None
        found = _schema_problems(doc, definition, self.root)
        self.problems.extend(found)
        return None if found else doc


def check_specs(root: Path | None = None) -> tuple[ComponentSpec | None, list[SpecProblem]]:
    """Load and check every spec; return the component (None if any problem) and all problems."""
    root = root or specs_root()
    collect = _Collector(root)
    component = collect.load(root / "component.yaml", "component")
    connection = collect.load(root / "connection.yaml", "connection")
    shared_doc = collect.load(root / "inputs.yaml", "shared_inputs")
    shared: dict[str, Any] = shared_doc.data if shared_doc else {}
    if shared_doc:
        by_pointer = {f"/{escape_pointer(name)}": spec for name, spec in shared.items()}
        for pointer, message in check_defaults_in_choices(by_pointer):
            collect.problems.append(shared_doc.problem(pointer, message, root))
    schemes = set((connection.data if connection else {}).get("auth_schemes", {}))
    operations: dict[str, dict[str, OperationSpec]] = {"action": {}, "data_source": {}}
    data_sources = {path.stem for path in (root / "data_sources").glob("*.yaml")}
    rate_limits = set((component.data if component else {}).get("rate_limits") or {})
    for kind, folder in (("action", "actions"), ("data_source", "data_sources")):
        for path in sorted((root / folder).glob("*.yaml")):
            doc = collect.load(path, "operation")
            if doc is None:
                continue
            inputs, problems = _resolve_inputs(doc.data["inputs"], shared, doc, root)
            collect.problems.extend(problems)
            found = check_operation(
                doc.data, inputs, doc, kind, Names(schemes, data_sources, rate_limits)
            )
            collect.problems.extend(doc.problem(p, m, root) for p, m in found)
            if not problems and not found:
                operations[kind][doc.data["key"]] = _build_operation(doc, inputs, kind, root)
    if collect.problems or not (component and connection):
        return None, collect.problems
    return _build_component(component.data, connection.data, operations), []


def _build_operation(
    doc: SpecDocument, inputs: list[dict[str, Any]], kind: str, root: Path
) -> OperationSpec:
    data = doc.data
    return OperationSpec(
        key=data["key"],
        kind=kind,
        label=data["label"],
        description=data["description"],
        inputs=tuple(InputSpec.from_dict(i) for i in inputs),
        request=data["request"],
        sample=data["sample"],
        notes=data.get("notes", ""),
        type=data.get("type", ""),
        rules=tuple(data.get("rules") or ()),
        response=data.get("response") or {},
        retry=data.get("retry") or {},
        picklist=data.get("picklist") or {},
        output_schema=data.get("output_schema") or {},
        openapi=data.get("openapi") or {},
        seed_sample=data.get("seed_sample"),
        file=str(doc.path.relative_to(root)),
        batch=data.get("batch") or {},
    )


def _build_component(
    component: dict[str, Any],
    connection: dict[str, Any],
    operations: dict[str, dict[str, OperationSpec]],
) -> ComponentSpec:
    schemes = {
        name: AuthSchemeSpec(
            name=name,
            type=s["type"],
            username=s.get("username"),
            password=s.get("password"),
            description=s.get("description", ""),
        )
        for name, s in connection["auth_schemes"].items()
    }
    return ComponentSpec(
        key=component["key"],
        name=component["name"],
        description=component["description"],
        overview=component.get("overview", ""),
        documentation_url=component.get("documentation_url", ""),
        trusted_hosts=tuple(component.get("trusted_hosts") or ()),
        rate_limits={
            name: RateLimit(
                name,
                per_hour=limit.get("per_hour"),
                per_second=limit.get("per_second"),
                max_concurrent=limit.get("max_concurrent"),
                label=limit.get("label", ""),
                unit=limit.get("unit", "calls"),
            )
            for name, limit in (component.get("rate_limits") or {}).items()
        },
        connection=ConnectionSpec(
            key=connection["key"],
            label=connection["label"],
            description=connection.get("description", ""),
            setup=connection.get("setup", ""),
            inputs=tuple(InputSpec.from_dict(i) for i in connection["inputs"]),
            auth_schemes=schemes,
        ),
        actions=dict(sorted(operations["action"].items())),
        data_sources=dict(sorted(operations["data_source"].items())),
    )


def load_specs(root: Path | None = None) -> ComponentSpec:
    """Load and check the specs; raise SpecError listing every problem."""
    component, problems = check_specs(root)
    if component is None:
        raise SpecError(problems or [SpecProblem(str(root), None, "", "specs incomplete")])
    return component
