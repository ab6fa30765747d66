from __future__ import annotations

from typing import Any

import pytest

from connector.catalog.spec import InputSpec, OperationSpec
from connector.errors import InputError
from connector.prepare.inputs import input_schema, validate_inputs


def _op(*inputs: InputSpec, rules: tuple[dict[str, Any], ...] = ()) -> OperationSpec:
    return OperationSpec(
        key="op",
        kind="action",
        label="Op",
        description="",
        inputs=(InputSpec(key="connection", label="Connection", type="connection"), *inputs),
        request={},
        sample={"data": None},
        rules=rules,
    )


OP = _op(
    InputSpec(
        key="region",
        label="Region",
        type="string",
        required=True,
        default="api",
        choices=("api", "api-eu", "api-in"),
    ),
    InputSpec(key="count", label="Count", type="integer", schema={"minimum": 0}),
    InputSpec(key="ratio", label="Ratio", type="number"),
    InputSpec(key="flag", label="Flag", type="boolean", default=False),
    InputSpec(key="events", label="Events", type="json", schema={"type": "array"}),
    InputSpec(key="names", label="Names", type="list"),
    InputSpec(key="headers", label="Header", type="key_value_list"),
    InputSpec(key="id", label="ID", type="string", required=True, example="u-1"),
    InputSpec(key="verbose", label="Verbose", type="boolean", group="deliveryOptions"),
)


def test_form_values_are_coerced_predictably() -> None:
    values = validate_inputs(
        OP,
        {
            "count": "3",
            "ratio": "2.5",
            "flag": "yes",
            "events": '[{"a": 1}]',
            "names": "Signed Up, Purchase , Page View",
            "headers": "User-Agent: curl/7.64.1\nX-A: b",
            "id": 42,
        },
    )
    assert values == {
        "region": "api",
        "count": 3,
        "ratio": 2.5,
        "flag": True,
        "events": [{"a": 1}],
        "names": ["Signed Up", "Purchase", "Page View"],
        "headers": {"User-Agent": "curl/7.64.1", "X-A": "b"},
        "id": "42",
        "verbose": None,
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("true", True, id="true"),
        pytest.param("F", False, id="f"),
        pytest.param("1", True, id="one"),
        pytest.param(0, False, id="zero-int"),
    ],
)
def test_boolean_text(raw: Any, expected: bool) -> None:
    assert validate_inputs(OP, {"id": "x", "flag": raw})["flag"] is expected


def test_lists_accept_json_arrays_and_key_values_accept_pairs() -> None:
    values = validate_inputs(
        OP, {"id": "x", "names": '["a", "b"]', "headers": [{"key": "K", "value": "V"}]}
    )
    assert values["names"] == ["a", "b"]
    assert values["headers"] == {"K": "V"}


def test_every_problem_is_reported_with_label_key_and_what_is_valid() -> None:
    with pytest.raises(InputError) as caught:
        validate_inputs(
            OP,
            {"region": "us-west", "count": "many", "flag": "maybe", "events": "{oops", "names": 5},
        )
    text = str(caught.value)
    keys = [e.key for e in caught.value.errors]
    assert sorted(keys) == ["count", "events", "flag", "id", "names", "region"]
    assert (
        "Region (`region`): 'us-west' is not allowed. Valid values are: 'api', 'api-eu', 'api-in'."
        in text
    )
    assert "Count (`count`): expected a whole number such as 7, got 'many'" in text
    assert "Flag (`flag`): expected true or false, got 'maybe'" in text
    assert "Events (`events`): is not valid JSON" in text
    assert "ID (`id`): is required. For example: u-1" in text


def test_schema_constraints_apply_after_coercion() -> None:
    with pytest.raises(InputError, match=r"Count \(`count`\): -1 is less than the minimum of 0"):
        validate_inputs(OP, {"id": "x", "count": "-1"})
    with pytest.raises(InputError, match=r"Events \(`events`\): \{'a': 1\} is not of type 'array'"):
        validate_inputs(OP, {"id": "x", "events": '{"a": 1}'})


def test_unknown_inputs_are_refused_with_a_suggestion() -> None:
    with pytest.raises(InputError, match="Did you mean `region`"):
        validate_inputs(OP, {"id": "x", "regoin": "api"})


def test_grouped_inputs_of_the_existing_component_are_read() -> None:
    values = validate_inputs(OP, {"id": "x", "deliveryOptions": {"verbose": "1"}})
    assert values["verbose"] is True
    values = validate_inputs(OP, {"id": "x", "deliveryOptions": '{"verbose": "0"}'})
    assert values["verbose"] is False


def test_empty_optional_inputs_are_none_and_defaults_fill_in() -> None:
    values = validate_inputs(OP, {"id": "x", "names": "", "events": "  ", "region": ""})
    assert values["names"] is None and values["events"] is None
    assert values["region"] == "api"


def test_rules_run_after_types_and_name_the_input() -> None:
    op = _op(
        InputSpec(key="a", label="A", type="string"),
        InputSpec(key="b", label="B", type="string"),
        rules=(
            {"when": "a and b", "inputs": ["a", "b"], "message": "and B (`b`) exclude each other."},
        ),
    )
    with pytest.raises(InputError, match=r"A \(`a`\): and B \(`b`\) exclude each other."):
        validate_inputs(op, {"a": "1", "b": "2"})
    assert validate_inputs(op, {"a": "1"}) == {"a": "1", "b": None}


def test_rules_can_read_the_connection() -> None:
    op = _op(
        InputSpec(key="t", label="T", type="password"),
        rules=(
            {
                "when": "not t and not connection.get('projectToken')",
                "inputs": ["t"],
                "message": "needed.",
            },
        ),
    )
    with pytest.raises(InputError):
        validate_inputs(op, {}, {})
    assert validate_inputs(op, {}, {"projectToken": "abc"}) == {"t": None}


def test_inputs_are_not_mutated() -> None:
    raw = {"id": "x", "deliveryOptions": {"verbose": "1"}}
    snapshot = {"id": "x", "deliveryOptions": {"verbose": "1"}}
    validate_inputs(OP, raw)
    assert raw == snapshot


def test_compiled_schema_names_types_and_choices() -> None:
    schema = input_schema(OP)
    assert schema["properties"]["region"]["enum"] == ["api", "api-eu", "api-in"]
    assert schema["properties"]["count"]["type"] == "integer"
    assert schema["required"] == ["region", "id"]


def test_json_or_text_parses_json_and_keeps_other_text() -> None:
    op = _op(InputSpec(key="data", label="Data", type="json_or_text"))
    assert validate_inputs(op, {"data": '{"a": 1}'}) == {"data": {"a": 1}}
    assert validate_inputs(op, {"data": "a,b\n1,2"}) == {"data": "a,b\n1,2"}


def test_json_or_text_keeps_ndjson_but_refuses_broken_json() -> None:
    op = _op(InputSpec(key="data", label="Data", type="json_or_text"))
    ndjson = '{"a": 1}\n{"b": 2}\n'
    assert validate_inputs(op, {"data": ndjson}) == {"data": ndjson}
    with pytest.raises(InputError, match=r"Data \(`data`\): is not valid JSON"):
        validate_inputs(op, {"data": '{"exampleKey": '})
