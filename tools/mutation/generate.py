"""Wire mutations of every operation, generated from the keys of its spec's request section.

Each mutant changes one thing Mixpanel would see: the method, the host chosen for one region
choice, the path, a query key or value, a header, the auth scheme, the body format, gzip, the
Content-Type, a fixed body field's key or value (event names included), or the default of an
input that the request template reads. Nothing here knows Mixpanel: the mutants come from
whatever keys the specs declare, so new actions and new request keys are covered as they land.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connector.catalog.load import load_specs
from connector.catalog.spec import InputSpec, OperationSpec
from connector.core.templates import is_template, undeclared_names

Doc = dict[str, Any]
Mutations = Iterator[tuple[str, Callable[[Doc], None]]]
MARK = "X"
BODY_FORMATS = ("json", "ndjson", "form")
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}|\{\{|\{%).)*)\}\}\s*$", re.DOTALL)
# The last literal path segment of a URL template: "/import", or "/api" in "'…com/api/2.0'".
_SEGMENT = re.compile(r"/(?P<seg>[A-Za-z][\w.-]*)(?=['\"/]|$)")


@dataclass(frozen=True)
class Mutant:
    """One mutation of one operation's spec file."""

    id: str
    operation: str
    file: str
    apply: Callable[[Doc], None]


def changed(value: Any) -> Any:
    """A different value that renders differently wherever the original renders non-empty."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        match = _SINGLE.match(value)
        if match:
            expr = match.group("expr").strip()
            return f"{{{{ none if ({expr}) is none or ({expr}) == '' else ({expr}) ~ '{MARK}' }}}}"
        return value + MARK
    return None


def _at(doc: Doc, path: tuple[Any, ...]) -> Any:
    node = doc
    for key in path:
        node = node[key]
    return node


def _setter(path: tuple[Any, ...], value: Any) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        _at(doc, path[:-1])[path[-1]] = value

    return apply


def _renamer(path: tuple[Any, ...]) -> Callable[[Doc], None]:
    def apply(doc: Doc) -> None:
        parent = _at(doc, path[:-1])
        items = list(parent.items())
        parent.clear()
        for key, value in items:
            parent[f"{key}_{MARK}" if key == path[-1] else key] = value

    return apply


def _fields(
    node: Any, path: tuple[Any, ...], label: str
) -> Iterator[tuple[str, Callable[[Doc], None]]]:
    """Rename each key and change each value of a fixed mapping, recursively."""
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        where = f"{label}.{key}"
        yield f"{where} key", _renamer((*path, key))
        if isinstance(value, dict):
            yield from _fields(value, (*path, key), where)
        elif changed(value) is not None:
            yield f"{where} value", _setter((*path, key), changed(value))


def _host_mutants(
    url: str, inputs: dict[str, InputSpec]
) -> Iterator[tuple[str, Callable[[Doc], None]]]:
    """For each choice of each input the URL reads: send that choice to the next choice's host."""
    for name in sorted(undeclared_names(url)):
        field = inputs.get(name)
        if field is None or len(field.choices) < 2:
            continue
        for index, choice in enumerate(field.choices):
            other = field.choices[(index + 1) % len(field.choices)]
            prefix = f"{{% set {name} = {other!r} if {name} == {choice!r} else {name} %}}"
            yield f"host when {name}={choice}", _setter(("request", "url"), prefix + url)


def _wire_names(request: Any) -> set[str]:
    if isinstance(request, str):
        return undeclared_names(request) if is_template(request) else set()
    if isinstance(request, dict):
        return set().union(*(_wire_names(v) for v in request.values()), set())
    if isinstance(request, list):
        return set().union(*(_wire_names(v) for v in request), set())
    return set()


def _changed_default(field: InputSpec) -> Any:
    if field.choices:
        index = field.choices.index(field.default) if field.default in field.choices else -1
        return field.choices[(index + 1) % len(field.choices)]
    if isinstance(field.default, str) and field.default.lower() in ("true", "false"):
        return "false" if field.default.lower() == "true" else "true"
    return changed(field.default)


def _default_mutants(doc: Doc, op: OperationSpec) -> Mutations:
    """Change the default of each input the request template reads."""
    read = _wire_names(doc["request"])
    by_key = {f.key: f for f in op.inputs}
    for index, item in enumerate(doc["inputs"]):
        # A shared input (`use: name`) is keyed by its name in specs/inputs.yaml.
        field = by_key.get(item.get("key") or item.get("use", ""))
        if field is None or field.default is None or field.key not in read:
            continue
        value = _changed_default(field)
        if value is not None and value != field.default:
            yield f"default of {field.key}", _setter(("inputs", index, "default"), value)


def _request_mutants(
    doc: Doc, op: OperationSpec, schemes: list[str]
) -> Iterator[tuple[str, Callable[[Doc], None]]]:
    request = doc["request"]
    method = request["method"]
    if is_template(method):
        yield "method", _setter(("request", "method"), changed(method))
    else:
        yield "method", _setter(("request", "method"), "GET" if method.upper() != "GET" else "POST")
    url = request["url"]
    yield from _host_mutants(url, {f.key: f for f in op.inputs})
    segments = list(_SEGMENT.finditer(url))
    if segments:
        last = segments[-1]
        yield (
            "path",
            _setter(("request", "url"), url[: last.end("seg")] + MARK + url[last.end("seg") :]),
        )
    for section in ("query", "headers"):
        yield from _fields(request.get(section), ("request", section), section)
    auth = request["auth"]
    for scheme in schemes:
        if scheme != auth:
            yield f"auth {scheme}", _setter(("request", "auth"), scheme)
    body = request.get("body")
    if not isinstance(body, dict) or body.get("format", "none") == "none":
        return
    fmt = body["format"]
    for other in BODY_FORMATS:
        if other != fmt:
            yield f"body format {other}", _setter(("request", "body", "format"), other)
    gzip = body.get("gzip", False)
    for value in ("true", "false"):
        if str(gzip).lower() != value and (value == "true" or gzip):
            yield f"gzip {value}", _setter(("request", "body", "gzip"), value)
    content_type = body.get("content_type")
    new_type = changed(content_type) if content_type else "text/plain"
    yield "content type", _setter(("request", "body", "content_type"), new_type)
    yield from _fields(body.get("content"), ("request", "body", "content"), "body")


def mutants(root: Path) -> list[Mutant]:
    """Every wire mutant of every action and data source under the specs `root`."""
    spec = load_specs(root)
    schemes = sorted(spec.connection.auth_schemes)
    found = []
    for folder in ("actions", "data_sources"):
        for path in sorted((root / folder).glob("*.yaml")):
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
            op = spec.operation(doc["key"])
            file = f"{folder}/{path.name}"
            for label, apply in [*_request_mutants(doc, op, schemes), *_default_mutants(doc, op)]:
                found.append(Mutant(f"{op.key}: {label}", op.key, file, apply))
    return found
