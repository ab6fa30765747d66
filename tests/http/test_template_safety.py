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
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

import pytest

from connector import Component, InputError
from connector.catalog import load_specs
from connector.request import HTTPRequest
from connector.spec import ComponentSpec, InputSpec, OperationSpec
from tests.conftest import TEST_CONNECTION

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
    request, _ = _component()._prepare(op, inputs, TEST_CONNECTION)
    return request


def _base_inputs(op: OperationSpec) -> dict[str, Any]:
    """Valid inputs: required ones first; else every input with an example."""
    required = {f.key: _value(f) for f in op.value_inputs if f.required}
    everything = {f.key: _value(f) for f in op.value_inputs if _value(f) is not None}
    problems = []
    for candidate in (required, everything):
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


@pytest.mark.parametrize(("op_key", "input_key"), _cases())
def test_probes_are_sent_literally_and_cannot_move_the_path(op_key: str, input_key: str) -> None:
    op = _spec().operation(op_key)
    field = op.input(input_key)
    base = _base_inputs(op)
    try:  # the reference: the same input set to a harmless marker value
        base_request = _prepare(op, {**base, input_key: MARK})
    except InputError:
        base_request = _prepare(op, base)
    base_text = _haystack(base_request)
    url_by_design = _is_url_by_design(field)
    accepted = 0
    for probe in [*SSTI_PROBES, *PATH_PROBES]:
        try:
            request = _prepare(op, {**base, input_key: probe})
        except InputError:
            continue  # patterns, choices, or credentials refused for an untrusted host
        accepted += 1
        text = _haystack(request)
        for evaluated in SSTI_PROBES.get(probe, []):
            assert text.count(evaluated) <= base_text.count(evaluated), (
                f"{op_key}.{input_key}: {probe!r} was evaluated ({evaluated!r} appeared)"
            )
        encoded = {probe, quote(probe, safe=""), quote_plus(probe), quote(probe)}
        used = any(form in text for form in encoded)
        if not used:
            # An input the request does not use in this configuration sends nothing at all.
            assert MARK not in base_text, f"{op_key}.{input_key}: {probe!r} altered, not sent"
        if url_by_design:
            assert urlsplit(request.url).hostname == urlsplit(base_request.url).hostname
        else:
            assert _shape(request, probe) == _shape(base_request, MARK), (
                f"{op_key}.{input_key}: {probe!r} changed the URL to {request.full_url}"
            )
    if field.choices or field.schema.get("pattern") or field.schema.get("enum"):
        return
    assert accepted, f"{op_key}.{input_key}: every probe was refused"
