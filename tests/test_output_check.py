"""The output check fails a test whose answer does not fit the action's output_schema."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from connector import Component
from tests.output_check import checked_against_output_schema

SCHEMA = {"type": "object", "required": ["data"], "properties": {"data": {"type": "integer"}}}


def _component(answer: Any, schema: dict[str, Any]) -> Component:
    fake: Any = SimpleNamespace(
        run=lambda key, inputs, connection: answer,
        spec=SimpleNamespace(actions={"act": SimpleNamespace(output_schema=schema)}),
    )
    return fake  # type: ignore[no-any-return]


def test_an_answer_that_fits_passes_through() -> None:
    assert checked_against_output_schema(_component({"data": 1}, SCHEMA))("act", {}, {}) == {
        "data": 1
    }


def test_an_answer_that_does_not_fit_fails() -> None:
    run = checked_against_output_schema(_component({"data": "1"}, SCHEMA))
    with pytest.raises(AssertionError, match="does not fit output_schema"):
        run("act", {}, {})


def test_an_action_without_output_schema_fails() -> None:
    with pytest.raises(AssertionError, match="declares no output_schema"):
        checked_against_output_schema(_component({"data": 1}, {}))("act", {}, {})


def test_import_answers_mixpanel_really_sends_fit(component: Component) -> None:
    """Numeric status and a failed-records 400 body both fit importEvents' schema."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(component.spec.actions["importEvents"].output_schema)
    for data in (
        {"code": 200, "num_records_imported": 2, "status": "OK"},
        {"num_records_imported": 100, "status": 1, "error": None},
        {
            "code": 400,
            "error": "some data points in the request failed validation",
            "num_records_imported": 1,
            "status": "Bad Request",
            "failed_records": [{"index": 1, "insert_id": 13, "field": "properties.time"}],
        },
    ):
        validator.validate({"data": data})
