"""Cross-field spec rules that JSON Schema cannot express; each returns a list of problems."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core.templates import is_template, syntax_error, undeclared_names
from .documents import SpecDocument, escape_pointer
from .modechecks import Problem, check_batch, check_limits, check_streaming, check_wait

# Names templates may read besides the inputs, by the section they sit in.
_RESPONSE_NAMES = {"body", "status", "headers"}
_SECTION_NAMES: dict[str, set[str]] = {
    "request": {"connection"},
    "retry": {"connection"},
    "rules": {"connection"},
    "response": _RESPONSE_NAMES,
    "picklist": _RESPONSE_NAMES | {"item"},
    "batch": {"connection", "body"},
    "paging": _RESPONSE_NAMES,
    "wait": {"connection", "body", "job_id"},
}


def _strings(tree: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(tree, str):
        yield pointer, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from _strings(value, f"{pointer}/{escape_pointer(str(key))}")
    elif isinstance(tree, list):
        for index, value in enumerate(tree):
            yield from _strings(value, f"{pointer}/{index}")


_EXPRESSION_FIELDS = {"when", "if", "ok_when", "items", "enabled", "stop_when"}


def check_templates(op: dict[str, Any], inputs: list[dict[str, Any]]) -> list[Problem]:
    """Every template parses and reads only declared inputs and its section's names."""
    declared = {i["key"] for i in inputs} | {i["group"] for i in inputs if i.get("group")}
    problems: list[Problem] = []
    for section, extra in _SECTION_NAMES.items():
        for pointer, text in _strings(op.get(section), f"/{section}"):
            last = pointer.rsplit("/", 1)[-1]
            if last in _EXPRESSION_FIELDS and not is_template(text):
                text = "{{ " + text + " }}"
            if not is_template(text):
                continue
            error = syntax_error(text)
            if error:
                problems.append((pointer, f"template syntax error: {error}"))
                continue
            unknown = sorted(undeclared_names(text) - declared - extra)
            if unknown:
                allowed = ", ".join(sorted(declared | extra))
                problems.append(
                    (
                        pointer,
                        f"template uses undeclared name(s) {', '.join(unknown)}; "
                        f"declared here: {allowed}",
                    )
                )
    return problems


def check_key_matches_file(op: dict[str, Any], doc: SpecDocument) -> list[Problem]:
    """An operation's key equals its file name."""
    if op.get("key") != doc.path.stem:
        return [("/key", f"key {op.get('key')!r} does not match the file name {doc.path.stem!r}")]
    return []


def check_unique_inputs(inputs: list[dict[str, Any]]) -> list[Problem]:
    """No two inputs share a key."""
    seen: set[str] = set()
    problems = []
    for index, spec in enumerate(inputs):
        if spec["key"] in seen:
            problems.append((f"/inputs/{index}", f"input key {spec['key']!r} is used twice"))
        seen.add(spec["key"])
    return problems


def _choice_values(spec: dict[str, Any]) -> list[Any]:
    return [c["value"] if isinstance(c, dict) else c for c in spec.get("choices") or ()]


def check_defaults_in_choices(inputs: dict[str, dict[str, Any]]) -> list[Problem]:
    """A default is one of the input's choices, when it has choices (inputs by JSON pointer)."""
    problems = []
    for pointer, spec in inputs.items():
        values = _choice_values(spec)
        default = spec.get("default")
        if values and default is not None and default not in values:
            shown = ", ".join(repr(v) for v in values)
            problems.append(
                (
                    f"{pointer}/default",
                    f"default {default!r} of input {spec['key']!r} is not one of its choices: "
                    f"{shown}",
                )
            )
    return problems


def check_sample(op: dict[str, Any]) -> list[Problem]:
    """Every operation has a sample output, and it fits the declared output schema."""
    if "sample" not in op:
        return [("", "missing `sample`: every action and data source needs a sample output")]
    schema = op.get("output_schema")
    if not schema:
        return []
    return [
        (
            "/sample" + "".join(f"/{escape_pointer(str(p))}" for p in error.absolute_path),
            f"sample does not fit output_schema: {error.message}",
        )
        for error in _validator(schema).iter_errors(op["sample"])
    ]


def _validator(schema: dict[str, Any]) -> Any:
    """A jsonschema validator, imported here: a cached spec never needs it (cold start)."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema)


def check_rules(op: dict[str, Any], inputs: list[dict[str, Any]]) -> list[Problem]:
    """Rules name declared inputs."""
    declared = {i["key"] for i in inputs}
    return [
        (f"/rules/{n}/inputs", f"rule names unknown input {key!r}")
        for n, rule in enumerate(op.get("rules") or ())
        for key in rule.get("inputs", ())
        if key not in declared
    ]


def check_auth_scheme(op: dict[str, Any], schemes: set[str]) -> list[Problem]:
    """A literal auth scheme name is one the connection declares."""
    auth = (op.get("request") or {}).get("auth", "")
    if auth and not is_template(auth) and auth not in schemes:
        return [
            (
                "/request/auth",
                f"unknown auth scheme {auth!r}; the connection declares "
                f"{', '.join(sorted(schemes))}",
            )
        ]
    return []


def check_data_sources(inputs: list[dict[str, Any]], data_sources: set[str]) -> list[Problem]:
    """An input's `data_source` names a data source that exists."""
    known = ", ".join(sorted(data_sources))
    return [
        (f"/inputs/{index}/data_source", f"no data source {spec['data_source']!r}; known: {known}")
        for index, spec in enumerate(inputs)
        if spec.get("data_source") and spec["data_source"] not in data_sources
    ]


def check_kind(op: dict[str, Any], kind: str) -> list[Problem]:
    """Data sources have a picklist and type; actions have neither."""
    if kind == "data_source" and not op.get("picklist"):
        return [("", "a data source needs `picklist` (items, label, key)")]
    if kind == "action" and ("picklist" in op or "type" in op):
        return [("/picklist", "only data sources take `picklist` and `type`")]
    return []


@dataclass(frozen=True)
class Names:
    """What an operation may refer to elsewhere in the specs."""

    auth_schemes: set[str]
    data_sources: set[str]
    rate_limits: set[str]
    actions: set[str] = field(default_factory=set)


def check_rate_limit(op: dict[str, Any], rate_limits: set[str]) -> list[Problem]:
    """A literal `retry.rate_limit` names a budget the component declares, or `none`."""
    name = (op.get("retry") or {}).get("rate_limit")
    if name and name != "none" and not is_template(name) and name not in rate_limits:
        known = ", ".join(sorted(rate_limits | {"none"}))
        return [
            ("/retry/rate_limit", f"unknown rate limit {name!r}; component.yaml declares {known}")
        ]
    return []


def check_operation(
    op: dict[str, Any], inputs: list[dict[str, Any]], doc: SpecDocument, kind: str, names: Names
) -> list[Problem]:
    """Run every cross-field rule on one operation."""
    checks: list[Callable[[], list[Problem]]] = [
        lambda: check_key_matches_file(op, doc),
        lambda: check_unique_inputs(inputs),
        lambda: check_defaults_in_choices({f"/inputs/{n}": i for n, i in enumerate(inputs)}),
        lambda: check_sample(op),
        lambda: check_rules(op, inputs),
        lambda: check_auth_scheme(op, names.auth_schemes),
        lambda: check_kind(op, kind),
        lambda: check_templates(op, inputs),
        lambda: check_data_sources(inputs, names.data_sources),
        lambda: check_rate_limit(op, names.rate_limits),
        lambda: check_batch(op, inputs, kind),
        lambda: check_streaming(op, inputs),
        lambda: check_wait(op, inputs, kind, names.actions),
        lambda: check_limits(op, inputs),
    ]
    return [problem for check in checks for problem in check()]
