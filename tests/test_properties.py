"""Property tests: valid inputs drawn from each input's JSON Schema render the request the spec
declares, with every input's value where the spec puts it; arbitrary inputs give a request or
an InputError, never anything else."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from connector import InputError, load_component
from connector.catalog.spec import OperationSpec
from connector.core.templates import is_template
from connector.core.urls import origin_of, trusted_by
from connector.prepare.inputs import input_schema, validate_inputs
from connector.prepare.render import encode_scalar
from tests.conftest import TEST_CONNECTION
from tests.integration.test_hosts import HOSTS
from tests.specs.cases import example_inputs
from tests.wire_match import decode_body

COMPONENT = load_component()
OPERATIONS = {**COMPONENT.spec.actions, **COMPONENT.spec.data_sources}
_SCALAR_TYPES = frozenset({"string", "password", "integer", "number", "boolean"})


def _strategy(op: OperationSpec, key: str) -> st.SearchStrategy[Any]:
    schema = dict(input_schema(op)["properties"][key])
    schema.pop("title", None)
    if schema.get("type") == "string" and "enum" not in schema:
        # Keep drawn text short, printable and non-blank (blank means "not given").
        schema.setdefault("minLength", 1)
        schema.setdefault("maxLength", 24)
        if "pattern" not in schema and "format" not in schema:
            return st.text(
                st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=24
            )
    return from_schema(schema)


def _valid_inputs(op: OperationSpec, data: st.DataObject) -> dict[str, Any]:
    """The catalog's valid example set with some inputs redrawn from their own JSON Schema."""
    inputs: dict[str, Any] = example_inputs(op)
    for spec in op.value_inputs:
        if spec.type not in _SCALAR_TYPES or str(spec.example or "").startswith(("/", "http")):
            continue  # JSON and list inputs keep their examples (hypothesis-jsonschema's object
            # and array strategies do not run on this hypothesis version), URLs theirs too
        if data.draw(st.booleans(), label=f"redraw {spec.key}"):
            inputs[spec.key] = data.draw(_strategy(op, spec.key), label=spec.key)
    return inputs


def _plain_entries(mapping: Any) -> dict[str, str]:
    """Entries whose template is just one input: `name: "{{ input }}"`."""
    if not isinstance(mapping, dict):
        return {}
    found = {}
    for name, template in mapping.items():
        if isinstance(template, str) and template.startswith("{{ ") and template.endswith(" }}"):
            inner = template[3:-3]
            if inner.isidentifier():
                found[name] = inner
    return found


def _check_request(op: OperationSpec, inputs: dict[str, Any], shown: dict[str, Any]) -> None:
    values = validate_inputs(op, inputs, TEST_CONNECTION)
    spec = op.request
    if not is_template(spec["method"]):
        assert shown["method"] == spec["method"]
    host = urlsplit(shown["url"]).hostname or ""
    for key, hosts in HOSTS.items():
        if key in values:
            assert host == hosts[values[key]], (key, values[key], host)
    assert urlsplit(shown["url"]).scheme == "https"
    if not values.get("allowAnyHost"):
        trusted = trusted_by(origin_of(shown["url"]), COMPONENT.spec.trusted_hosts, None)
        assert trusted is not None or shown["auth"] == "none"
    if not is_template(spec["auth"]):
        assert shown["auth"] == spec["auth"]
    body = spec.get("body") or {}
    if body and not is_template(body.get("format", "none")):
        assert shown.get("body_format", "none") == body["format"]
    query = dict(
        tuple(pair)
        for pair in decode_body(urlsplit(shown["url"]).query, "application/x-www-form-urlencoded")
    )
    for name, key in _plain_entries(spec.get("query")).items():
        expected = values.get(key)
        if expected in (None, "", [], {}):
            assert name not in query, (name, query)
        elif not isinstance(expected, list | dict):
            got, text = query.get(name), encode_scalar(expected)
            # decode_body reads a value that looks like JSON ("[]") as JSON.
            assert got == text or (not isinstance(got, str) and got == json.loads(text)), (
                name,
                got,
                expected,
            )
    if shown.get("body_format") == "form":
        sent = shown["body"]
        for name, key in _plain_entries(body.get("content")).items():
            expected = values.get(key)
            if expected in (None, "", [], {}):
                assert name not in sent, (name, sent)
            else:
                assert sent.get(name) == expected, (name, sent.get(name), expected)


@pytest.mark.parametrize("key", sorted(OPERATIONS))
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_valid_inputs_render_the_declared_request(key: str, data: st.DataObject) -> None:
    op = OPERATIONS[key]
    inputs = _valid_inputs(op, data)
    try:
        [shown] = COMPONENT.preview(key, inputs, TEST_CONNECTION)
    except InputError as exc:
        # Only rules between inputs (not one input's own schema) may refuse a drawn set.
        assume(False)
        raise AssertionError(exc) from None  # pragma: no cover
    _check_request(op, inputs, shown)
    assert TEST_CONNECTION["password"] not in json.dumps(shown)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "true", "0", "[]", "{}", "null", '{"id": 1}', "a,b,,c", "{{ 7*7 }}", "../x?y#z"]
    ),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
        inner.map(lambda v: json.dumps(v) if v == v else "NaN"),
    ),
    max_leaves=6,
)


@pytest.mark.parametrize("key", sorted(OPERATIONS))
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_arbitrary_inputs_give_a_request_or_an_input_error(key: str, data: st.DataObject) -> None:
    op = OPERATIONS[key]
    inputs: dict[str, Any] = example_inputs(op)
    for spec in op.value_inputs:
        if data.draw(st.booleans(), label=f"replace {spec.key}"):
            inputs[spec.key] = data.draw(_values, label=spec.key)
    try:
        [shown] = COMPONENT.preview(key, inputs, TEST_CONNECTION)
    except InputError as exc:
        assert exc.errors and all(p.key and p.message for p in exc.errors)
        return
    _check_request(op, inputs, shown)
