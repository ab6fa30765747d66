"""Loads and checks every spec file (meta-schema and cross-field rules), then builds the specs."""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import SpecError, SpecProblem
from . import cache, lazy, stamps
from .build import build_component
from .crosschecks import Names, check_defaults_in_choices, check_operation
from .documents import SpecDocument, escape_pointer, load_yaml
from .layers import Layer, merge_component, spec_layers
from .spec import (
    ComponentSpec,
    InputSpec,
)
from .widening import OPT_IN, component_widening, operation_widening, refusal

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

log = logging.getLogger("connector.specs")

PACKAGE_DIR = Path(__file__).resolve().parent.parent
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
    from jsonschema import Draft202012Validator  # only when a spec is checked (cold start)

    return Draft202012Validator({**meta_schema(), "$ref": f"#/$defs/{definition}"})


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{escape_pointer(str(p))}" for p in error.absolute_path)


def _schema_problems(
    doc: SpecDocument, definition: str, root: Path | None, *, partial: bool = False
) -> list[SpecProblem]:
    problems = []
    for error in _validator(definition).iter_errors(doc.data):
        if partial and error.validator == "required" and not error.absolute_path:
            continue
        if error.context:
            # Of a oneOf's branches, the deepest error is the one that says what is wrong.
            error = max(error.context, key=lambda e: len(e.absolute_path))
        problems.append(doc.problem(_pointer(error), error.message, root))
    return problems


def _resolve_inputs(
    raw: list[dict[str, Any]], shared: dict[str, Any], doc: SpecDocument, root: Path | None
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
                        f"no shared input {item['use']!r}; inputs.yaml defines: {known}",
                        root,
                    )
                )
                continue
            item = {**base, **{k: v for k, v in item.items() if k != "use"}}
        resolved.append(item)
    return resolved, problems


class _Collector:
    """Collects problems across files so `validate` can report all of them at once."""

    def __init__(self, refused: set[Path] | None = None) -> None:
        self.problems: list[SpecProblem] = []
        self.refused = refused or set()  # files never read (Layer.problems says why)

    def load(
        self, path: Path, definition: str, root: Path | None, *, partial: bool = False
    ) -> SpecDocument | None:
        """Load and schema-check one file; `partial` ignores missing required fields."""
        if path in self.refused:
            return None
        try:
            doc = load_yaml(path)
        except SpecError as exc:
            self.problems.extend(exc.problems)
            return None
        found = _schema_problems(doc, definition, root, partial=partial)
        self.problems.extend(found)
        return None if found else doc


def check_specs(
    root: Path | None = None,
    overlays: Sequence[Path | str] = (),
    *,
    allow_overlay_trust_widening: bool = False,
) -> tuple[ComponentSpec | None, list[SpecProblem]]:
    """Load and check every spec, then each overlay folder over them (later ones win).

    Returns the component (None if any problem) and all problems. An overlay that widens where
    credentials go (connector.widening) is a problem unless `allow_overlay_trust_widening`.
    """
    layers = spec_layers(root or specs_root(), overlays)
    resolved, problems = check_layers(layers, allow_trust_widening=allow_overlay_trust_widening)
    if resolved is None:
        return None, problems
    return build_component(resolved), []


def check_layers(
    layers: Sequence[Layer], *, allow_trust_widening: bool = False
) -> tuple[dict[str, Any] | None, list[SpecProblem]]:
    """Check every layer's files; return the merged, resolved specs as plain data, or problems.

    Trust an overlay widens is a problem, or with `allow_trust_widening` a note on each
    operation it affects (`widened`).
    """
    collect = _Collector({path for layer in layers for path in layer.escaping()})
    widened: list[str] = []

    def widening(doc: SpecDocument, layer: Layer, found: list[tuple[str, str]]) -> list[str]:
        shown = [doc.problem(p, m, layer.shown_root) for p, m in found]
        if not allow_trust_widening:
            collect.problems.extend(replace(p, message=refusal(p.message)) for p in shown)
            return []
        return [str(p) for p in shown]

    component: dict[str, Any] = {}
    connection: dict[str, Any] | None = None
    shared: dict[str, Any] = {}
    pending: list[tuple[Layer, str, Path]] = []
    for layer in layers:
        collect.problems.extend(layer.problems())
        shown = layer.shown_root
        path = layer.root / "component.yaml"
        if path.is_file() or not layer.overlay:
            doc = collect.load(path, "component", shown, partial=layer.overlay)
            if doc and layer.overlay:
                widened += widening(doc, layer, component_widening(component, doc.data))
            component = merge_component(component, doc.data if doc else {})
        path = layer.root / "connection.yaml"
        if path.is_file() or not layer.overlay:
            doc = collect.load(path, "connection", shown)
            connection = doc.data if doc else connection
        path = layer.root / "inputs.yaml"
        if path.is_file() or not layer.overlay:
            doc = collect.load(path, "shared_inputs", shown)
            if doc:
                found = check_defaults_in_choices(
                    {f"/{escape_pointer(name)}": spec for name, spec in doc.data.items()}
                )
                collect.problems.extend(doc.problem(p, m, shown) for p, m in found)
                shared = {**shared, **doc.data}
        for kind, folder in (("action", "actions"), ("data_source", "data_sources")):
            pending += [(layer, kind, p) for p in sorted((layer.root / folder).glob("*.yaml"))]
        layer.shared = dict(shared)
    schemes = set((connection or {}).get("auth_schemes", {}))
    data_sources = {path.stem for _, kind, path in pending if kind == "data_source"}
    actions = {path.stem for _, kind, path in pending if kind == "action"}
    names = Names(schemes, data_sources, set(component.get("rate_limits") or {}), actions)
    operations: dict[tuple[str, str], dict[str, Any]] = {}
    secrets = _secret_keys(connection)
    for layer, kind, path in pending:
        doc = collect.load(path, "operation", layer.shown_root)
        if doc is None:
            continue
        inputs, problems = _resolve_inputs(doc.data["inputs"], layer.shared, doc, layer.shown_root)
        collect.problems.extend(problems)
        found = check_operation(doc.data, inputs, doc, kind, names)
        collect.problems.extend(doc.problem(p, m, layer.shown_root) for p, m in found)
        notes: list[str] = []
        if layer.overlay:
            replaced = operations.get((kind, doc.data["key"]))
            trusted = component.get("trusted_hosts") or ()
            replaced_data = replaced and replaced["data"]
            wide = operation_widening(doc.data, replaced_data, secrets, trusted, inputs)
            notes = widening(doc, layer, wide)
        if not problems and not found:
            file = str(path.relative_to(layer.root))
            operations[kind, doc.data["key"]] = {
                "kind": kind,
                "source": layer.source,
                "file": file,
                "data": doc.data,
                "inputs": inputs,
                "widened": notes,
            }
    if collect.problems or not connection or not component:
        return None, collect.problems
    ordered = [operations[k] for k in sorted(operations, key=lambda k: k[1])]
    for entry in ordered:
        entry["widened"] = [*widened, *entry.get("widened", ())]
    return {"component": component, "connection": connection, "operations": ordered}, []


def _secret_keys(connection: dict[str, Any] | None) -> list[str]:
    """The keys of the connection's secret fields."""
    return [
        i.get("key", "")
        for i in (connection or {}).get("inputs") or ()
        if isinstance(i, dict) and "key" in i and InputSpec.from_dict(i).is_secret
    ]


def _declared_hosts(layers: Sequence[Layer], overlays_too: bool) -> set[str]:
    """The trusted host patterns the layers' component files declare (overlays' if asked)."""
    hosts: set[str] = set()
    for layer in layers:
        path = layer.root / "component.yaml"
        if layer.overlay and (not overlays_too or not path.is_file()):
            continue
        data = load_yaml(path).data
        if isinstance(data, dict):
            hosts.update(str(host) for host in data.get("trusted_hosts") or ())
    return hosts


def _from_cache(
    cached: dict[str, Any], layers: Sequence[Layer], allow: bool, recheck: lazy.Recheck
) -> ComponentSpec | None:
    """The component a cache entry holds, re-checked for trust (see lazy); None if refused."""
    try:
        hosts = _declared_hosts(layers, overlays_too=allow)
        secrets = _secret_keys(cached["connection"])
        roots = [str(layer.root) for layer in layers]
        return lazy.cached_component(
            cached, hosts, secrets, allow_trust_widening=allow, recheck=recheck, roots=roots
        )
    except (SpecError, KeyError, TypeError, AttributeError, ValueError):
        return None


def load_specs(
    root: Path | None = None,
    overlays: Sequence[Path | str] = (),
    *,
    allow_overlay_trust_widening: bool = False,
) -> ComponentSpec:
    """Load the specs and overlay folders; raise SpecError listing every problem.

    Checked specs are cached on disk under a key made from the content of every file loaded, so
    an unchanged set is not checked again at each process start (`check_specs` always checks);
    a cached operation is read back, and its files looked at, only when first used
    (connector.catalog.lazy, connector.catalog.stamps): a file edited since is checked again.
    An overlay widening where credentials go is refused unless `allow_overlay_trust_widening`.
    """
    layers = spec_layers(root or specs_root(), overlays)
    key = cache.quick_key(layers) if not any(layer.problems() for layer in layers) else ""

    def entry_key(content_key: str) -> str:  # a widened set has its own entry, never reused
        if not allow_overlay_trust_widening:
            return content_key
        return hashlib.sha256(f"{content_key}\0{OPT_IN}".encode()).hexdigest()

    def checked() -> dict[str, Any]:
        before = stamps.taken(layers, cache.SETTLED_NS) if key else None
        resolved, problems = check_layers(layers, allow_trust_widening=allow_overlay_trust_widening)
        if resolved is None:
            raise SpecError(problems or [SpecProblem(str(root), None, "", "specs incomplete")])
        files = stamps.per_operation(layers, resolved, before) if before is not None else None
        if files is not None:  # under the key of the files as checked, which the index now names
            cache.write(entry_key(cache.remember(layers)), lazy.packed(resolved, files))
        return resolved

    cached = cache.read(entry_key(key)) if key else None
    if cached is not None:
        component = _from_cache(cached, layers, allow_overlay_trust_widening, checked)
        if component is not None:
            return component
    return build_component(checked())
