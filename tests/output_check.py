"""Every answer an action returns in the tests must fit the action's declared output_schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator

from connector import Component


def checked_against_output_schema(component: Component) -> Callable[..., dict[str, Any]]:
    """`component.run`, validating each result against its action's output_schema."""
    run = component.run

    def checked(key: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        result = run(key, *args, **kwargs)
        schema = component.spec.actions[key].output_schema
        assert schema, f"{key} declares no output_schema"
        errors = sorted(Draft202012Validator(schema).iter_errors(result), key=str)
        assert not errors, f"{key}: the answer does not fit output_schema: {errors[0].message}"
        return result

    return checked
