"""Template and path injection probes through every string input of every action and data source.

Generic over the loaded catalog, so actions added later are covered automatically. For each
operation a valid base input set is built from the specs' examples (and minimal values); then
each probe goes into each string input in turn. The rendered request must carry the probe
literally (or percent-encoded in the URL), never its evaluation, and a probe in an input that
is not a URL by design must not change the URL's path, query keys or fragment. An InputError
(patterns, choices, untrusted host) is acceptable; any other exception is a failure.
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from connector import Component, InputError
from connector.catalog.load import load_specs
from connector.catalog.spec import ComponentSpec, InputSpec, OperationSpec
from connector.core.templates import is_template, undeclared_names
from connector.prepare.request import HTTPRequest
from tests.conftest import TEST_CONNECTION
from tests.specs.cases import example_inputs
from tests.wire_match import decode_body

SSTI_PROBES = {
    "{{ 7*7 }}": ["49"],
    "{% for x in range(3) %}x{% endfor %}": ["xxx"],
    "{{ ''.__class__.__mro__ }}": ["<class", "object'>"],
    "{{ connection.password }}": [TEST_CONNECTION["password"]],
}
PATH_PROBES = ["a/../../b", "../admin?x=1#frag", "name?project_id=1&x=2", "we#ird/..%2F"]
STRING_TYPES = frozenset({"string", "password"})
MINIMAL = {"string": "abc", "password": "pw-abcdef", "integer": 1, "number": 1, "boolean": False}


@functools.cache
def _spec() -> ComponentSpec:
    return load_specs()


def _component() -> Component:
    return Component(_spec(), base_url=None)


def _operations() -> list[OperationSpec]:
    spec = _spec()
    return [*spec.actions.values(), *spec.data_sources.values()]


def _value(field: InputSpec) -> Any:
    if field.example not in (None, ""):
        return field.example
    if field.default is not None:
        return field.default
    if field.choices:
        return field.choices[0]
    return MINIMAL.get(field.type)


def _is_url_by_design(field: InputSpec) -> bool:
    """Inputs whose value is a URL or path on purpose (e.g. rawRequest's URL / Base URL)."""
    example = str(field.example or field.default or "")
    return example.startswith(("/", "http://", "https://"))


def _prepare(op: OperationSpec, inputs: dict[str, Any]) -> HTTPRequest:
    request, _ = _component().prepare(op, inputs, TEST_CONNECTION)
    return request


def _base_inputs(op: OperationSpec) -> dict[str, Any]:
    """Valid inputs: every example (with the catalog cases' overrides); else required ones."""
    everything = example_inputs(op)
    required = {f.key: _value(f) for f in op.value_inputs if f.required}
    problems = []
    for candidate in (everything, required):
        try:
            _prepare(op, candidate)
        except InputError as exc:
            problems.append(str(exc))
            continue
        return candidate
    raise AssertionError(f"{op.key}: no valid example inputs: {problems}")


def _haystack(request: HTTPRequest) -> str:
    parts = [
        request.full_url,
        unquote(request.full_url),
        json.dumps(dict(request.params), ensure_ascii=False),
        json.dumps(request.headers, ensure_ascii=False),
        json.dumps(request.body, ensure_ascii=False, default=str),
        json.dumps(request.form_fields, ensure_ascii=False),
    ]
    if request.content:
        parts.append(request.content.decode("utf-8", "replace"))
    text = "\n".join(parts)
    return text + "\n" + unquote(text)


MARK = "PROBEMARK"


def _shape(request: HTTPRequest, value: str) -> tuple[str, list[str], list[str], str]:
    """What a value in a non-URL input must not change: host, path segments (the value may
    fill a segment, but only one, and only as its decoded text), query keys, fragment."""
    parts = urlsplit(request.full_url)
    keys = sorted(k for k, _ in parse_qsl(parts.query, keep_blank_values=True))
    segments = [unquote(seg).replace(value, MARK) for seg in parts.path.split("/")]
    return parts.netloc, segments, keys, parts.fragment


def _cases() -> list[Any]:
    cases = []
    for op in _operations():
        for field in op.value_inputs:
            if field.type in STRING_TYPES:
                cases.append(pytest.param(op.key, field.key, id=f"{op.key}.{field.key}"))
    return cases


def test_every_action_is_probed() -> None:
    probed = {case.values[0] for case in _cases()}
    with_strings = {
        op.key for op in _operations() if any(f.type in STRING_TYPES for f in op.value_inputs)
    }
    assert probed == with_strings and len(probed) >= 4


def _wire(request: HTTPRequest) -> Any:
    """What the request sends, as data: URL parts decoded, query pairs, headers and body."""
    parts = urlsplit(request.full_url)
    content_type = request.headers.get("Content-Type")
    wire = {
        "method": request.method,
        "host": parts.netloc,
        "path": [unquote(segment) for segment in parts.path.split("/")],
        "query": parse_qsl(parts.query, keep_blank_values=True),
        "fragment": parts.fragment,
        "headers": request.headers,
        "body": request.body,
        "form": request.form_fields,
        "content": decode_body(request.content, content_type),
    }
    return json.loads(json.dumps(wire, ensure_ascii=False, default=str))


def _with(value: Any, probe: str) -> Any:
    """`value` with the marker replaced by the probe wherever it occurs (as JSON text too)."""
    text = json.dumps(value, ensure_ascii=False)
    return json.loads(text.replace(MARK, json.dumps(probe, ensure_ascii=False)[1:-1]))


def _names(value: Any) -> set[str]:
    if isinstance(value, str):
        return undeclared_names(value) if is_template(value) else set()
    if isinstance(value, dict):
        return set().union(set(), *(_names(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(_names(v) for v in value))
    return set()


def _read_by_request(op: OperationSpec) -> set[str]:
    """The names the request template reads (group names stand for their inputs)."""
    names = _names(op.request)
    return names | {f.key for f in op.value_inputs if f.group and f.group in names}


def _refused(op: OperationSpec, inputs: dict[str, Any], input_key: str) -> list[str]:
    try:
        _prepare(op, inputs)
    except InputError as exc:
        return [problem.key for problem in exc.errors]
    return []


@pytest.mark.parametrize(("op_key", "input_key"), _cases())
def test_probes_are_sent_literally_where_the_input_goes(op_key: str, input_key: str) -> None:
    """The probe renders like a harmless marker in the same place, and nowhere else."""
    op = _spec().operation(op_key)
    base = _base_inputs(op)
    probes = [*SSTI_PROBES, *PATH_PROBES]
    marked = {**base, input_key: MARK}
    refused = _refused(op, marked, input_key)
    if refused:
        # A constrained input (choices, pattern, format): every probe is refused, by this input.
        assert refused == [input_key], f"{op_key}: the marker was refused for {refused}"
        for probe in probes:
            assert _refused(op, {**base, input_key: probe}, input_key) == [input_key], probe
        return
    expected = _wire(_prepare(op, marked))
    host = urlsplit(_prepare(op, base).full_url).netloc
    if input_key not in _read_by_request(op):
        # The request never reads this input: any value leaves the wire as it was.
        assert MARK not in json.dumps(expected, ensure_ascii=False)
        for probe in probes:
            assert _wire(_prepare(op, {**base, input_key: probe})) == expected, probe
        return
    assert MARK in json.dumps(expected, ensure_ascii=False), (
        f"{op_key}.{input_key}: the example inputs do not send this input; add a case override"
    )
    for probe in probes:
        request = _prepare(op, {**base, input_key: probe})
        if _is_url_by_design(op.input(input_key)):
            # A URL or path on purpose: it may shape the path, never the host, never evaluated.
            shown = (request.full_url, unquote(request.full_url))
            assert any(probe in text for text in shown), f"{op_key}.{input_key}: {probe!r}"
            assert urlsplit(request.full_url).netloc == host
            continue
        assert _wire(request) == _with(expected, probe), f"{op_key}.{input_key}: {probe!r}"
        assert urlsplit(request.full_url).netloc == host
