"""The values at a spec's `secret_fields` in a batch's records."""

from __future__ import annotations

from typing import Any

from connector import load_component
from connector.modes.batched.secret_values import secret_field_values, strings_at


def test_strings_at_reads_one_two_and_deeper_paths_and_only_non_empty_strings() -> None:
    records: list[Any] = [
        {"$token": "t-top", "properties": {"token": "t-props", "n": 1}},
        {"$token": "", "properties": {"token": 7}},
        {"a": {"b": {"c": "deep"}}},
        ["not", "a", "record"],
        "text",
        {"properties": "not a dict"},
    ]
    assert strings_at(records, ("$token",)) == {"t-top"}
    assert strings_at(records, ("properties", "token")) == {"t-props"}
    assert strings_at(records, ("a", "b", "c")) == {"deep"}
    assert strings_at(records, ("$token",), ("properties", "token")) == {"t-top", "t-props"}
    assert strings_at(records) == set()


def test_secret_field_values_follow_the_specs_declaration() -> None:
    spec = load_component().spec
    profiles = spec.actions["createProfile"]  # secret_fields: [$token]
    records = [{"$token": "tok-1", "$distinct_id": "u"}, {"$token": "tok-2"}, {"$token": "tok-1"}]
    assert secret_field_values(profiles, records) == {"tok-1", "tok-2"}
    # Records given other than as a list (a file, a stream) are not read here.
    assert secret_field_values(profiles, iter(records)) == set()
    undeclared = next(op for op in spec.actions.values() if not op.batch.get("secret_fields"))
    assert secret_field_values(undeclared, records) == set()
