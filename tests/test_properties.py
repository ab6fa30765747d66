"""Property test: arbitrary values in any action's inputs give a valid request or an InputError."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector import InputError, load_component
from tests.conftest import TEST_CONNECTION
from tests.specs.cases import example_inputs

COMPONENT = load_component()
OPERATIONS = {**COMPONENT.spec.actions, **COMPONENT.spec.data_sources}

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "true",
            "0",
            "1",
            "[]",
            "{}",
            "null",
            "[1, 2]",
            '{"id": 1}',
            "a,b,,c",
            "{{ 7*7 }}",
            "../x?y#z",
            "2024-01-01",
            "-1",
            "1e309",
            "K: V",
        ]
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
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_only_a_request_or_an_input_error(key: str, data: st.DataObject) -> None:
    op = OPERATIONS[key]
    inputs: dict[str, Any] = example_inputs(op)
    for spec in op.value_inputs:
        if data.draw(st.booleans(), label=f"replace {spec.key}"):
            inputs[spec.key] = data.draw(_values, label=spec.key)
    try:
        [request] = COMPONENT.preview(key, inputs, TEST_CONNECTION)
    except InputError as exc:
        assert exc.errors, "an InputError names at least one input"
        return
    assert request["method"] and request["url"].startswith("https://")
    assert TEST_CONNECTION["password"] not in json.dumps(request)
