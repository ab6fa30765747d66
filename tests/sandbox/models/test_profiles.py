"""Profile update rules: each operation, checks, and the same rules keyed for group profiles."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.sandbox.models.base import Context, Family, ModelError
from connector.sandbox.models.database import Database
from connector.sandbox.models.families import PROFILES
from connector.sandbox.models.profiles import (
    apply_operation,
    apply_updates,
    check_update,
    properties,
)
from connector.sandbox.models.resources import Resources

#: A group-profile family: the group key is the scope, the group id is given.
GROUPS = Family("groups", scope=("$group_key",), id_field="$group_id", id_kind="given")


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("$set", {"plan": "pro", "n": 9}, {"plan": "pro", "n": 9, "tags": ["a"]}),
        ("$set_once", {"plan": "pro", "new": 1}, {"plan": "free", "n": 1, "tags": ["a"], "new": 1}),
        ("$add", {"n": 2.5, "m": 3}, {"plan": "free", "n": 3.5, "tags": ["a"], "m": 3}),
        ("$union", {"tags": ["a", "b", "b"]}, {"plan": "free", "n": 1, "tags": ["a", "b"]}),
        ("$append", {"tags": "a"}, {"plan": "free", "n": 1, "tags": ["a", "a"]}),
        ("$remove", {"tags": "a"}, {"plan": "free", "n": 1, "tags": []}),
        ("$unset", ["plan", "absent"], {"n": 1, "tags": ["a"]}),
        ("$delete", "", None),
    ],
)
def test_each_operation(op: str, value: Any, expected: Any) -> None:
    before = {"plan": "free", "n": 1, "tags": ["a"]}
    assert apply_operation(before, op, value) == expected
    assert before == {"plan": "free", "n": 1, "tags": ["a"]}  # never changed in place


@pytest.mark.parametrize(
    ("record", "field", "message"),
    [
        ([], "", "must be a JSON object"),
        ({"$distinct_id": "u"}, "$token", "$token, missing or empty"),
        ({"$token": "other", "$distinct_id": "u", "$set": {}}, "$token", "does not match"),
        ({"$token": "t", "$set": {}}, "$distinct_id", "$distinct_id, missing or empty"),
        ({"$token": "t", "$distinct_id": "u"}, "", "exactly one of"),
        ({"$token": "t", "$distinct_id": "u", "$set": {}, "$add": {}}, "", "exactly one of"),
        ({"$token": "t", "$distinct_id": "u", "$unset": "plan"}, "$unset", "a list"),
        ({"$token": "t", "$distinct_id": "u", "$set": ["plan"]}, "$set", "an object"),
        ({"$token": "t", "$distinct_id": "u", "$add": {"n": True}}, "$add", "numeric"),
    ],
)
def test_bad_updates_are_refused_with_the_field(record: Any, field: str, message: str) -> None:
    with pytest.raises(ModelError) as caught:
        check_update(record, "t")
    assert caught.value.status == 400 and caught.value.field == field
    assert message in caught.value.message


def test_the_same_rules_keep_group_profiles_apart_by_group_key(store: Resources) -> None:
    record = {"$token": "t", "$group_key": "company", "$group_id": "acme", "$set": {"seats": 5}}
    assert check_update(record, "t", id_key="$group_id") == ("acme", "$set", {"seats": 5})
    companies = Context(scope={"$group_key": "company"})
    teams = Context(scope={"$group_key": "team"})
    apply_updates(store, GROUPS, companies, [("acme", "$set", {"seats": 5})])
    apply_updates(store, GROUPS, teams, [("acme", "$set", {"lead": "ann"})])
    apply_updates(store, GROUPS, companies, [("acme", "$add", {"seats": 2})])
    assert store.get(GROUPS, companies, "acme") == {
        "$group_id": "acme",
        "$properties": {"seats": 7},
    }
    assert properties(store.get(GROUPS, teams, "acme")) == {"lead": "ann"}
    apply_updates(store, GROUPS, teams, [("acme", "$delete", "")])
    assert store.get(GROUPS, teams, "acme") is None
    assert store.count(GROUPS, companies) == 1


IDS = st.sampled_from(["u1", "u2", "u3"])
KEYS = st.sampled_from(["a", "b"])
SCALARS = st.integers(-5, 5) | st.sampled_from(["x", "y"])
UPDATES = st.one_of(
    st.tuples(IDS, st.just("$set"), st.dictionaries(KEYS, SCALARS, max_size=2)),
    st.tuples(IDS, st.just("$set_once"), st.dictionaries(KEYS, SCALARS, max_size=2)),
    st.tuples(IDS, st.just("$add"), st.dictionaries(KEYS, st.integers(-5, 5), max_size=2)),
    st.tuples(
        IDS,
        st.sampled_from(["$union", "$append", "$remove"]),
        st.dictionaries(KEYS, SCALARS, max_size=1),
    ),
    st.tuples(IDS, st.just("$unset"), st.lists(KEYS, max_size=2)),
    st.tuples(IDS, st.just("$delete"), st.just("")),
)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(UPDATES, min_size=1, max_size=6), min_size=1, max_size=4))
def test_stored_profiles_are_the_fold_of_their_updates(batches: list[list[Any]]) -> None:
    db = Database()
    store = Resources(db)
    expected: dict[str, Any] = {}
    for batch in batches:
        apply_updates(store, PROFILES, Context(), batch)
        for rid, op, value in batch:
            expected[rid] = apply_operation(expected.get(rid), op, value)
    stored = {p["$distinct_id"]: p["$properties"] for p in store.list(PROFILES, Context())}
    assert stored == {rid: props for rid, props in expected.items() if props is not None}
    db.close()
