"""The generic store: ids of each kind, scopes, required, defaults, fixed fields, hooks, order."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from connector.sandbox.models.base import Body, Context, Family, Hooks, ModelError
from connector.sandbox.models.database import Database
from connector.sandbox.models.resources import Resources


class Clock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


NOTES = Family(
    "notes",
    scope=("projectId",),
    required=("date", "description"),
    defaults={"tags": []},
    created_field="created",
    updated_field="modified",
    readonly=frozenset({"user"}),
)
TOKENS = Family("tokens", id_kind="uuid", id_field="token_id")
TABLES = Family("tables", scope=("projectId",), id_field="name", id_kind="given")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def ctx(clock: Clock | None = None, project: str = "1") -> Context:
    return Context(scope={"projectId": project}, clock=clock or Clock())


NOTE = {"date": "2024-01-02", "description": "deploy", "user": "ann"}


def test_int_ids_count_per_scope_and_scopes_do_not_see_each_other(store: Resources) -> None:
    first = [store.create(NOTES, ctx(), NOTE)["id"] for _ in range(3)]
    other = store.create(NOTES, ctx(project="2"), NOTE)
    assert first == [1, 2, 3] and other["id"] == 1
    assert [n["id"] for n in store.list(NOTES, ctx())] == [1, 2, 3]
    assert [n["id"] for n in store.list(NOTES, ctx(project="2"))] == [1]
    assert store.get(NOTES, ctx(project="2"), 3) is None
    assert store.count(NOTES, ctx()) == 3


def test_a_client_cannot_choose_an_int_or_uuid_id(store: Resources) -> None:
    assert store.create(NOTES, ctx(), {**NOTE, "id": 99})["id"] == 1
    made = store.create(TOKENS, Context(), {"token_id": "mine"})
    assert uuid.UUID(made["token_id"]).version == 4
    assert store.create(TOKENS, Context(), {})["token_id"] != made["token_id"]
    assert store.get(TOKENS, Context(), made["token_id"]) == made


def test_given_ids_are_required_unique_and_put_creates_or_replaces(
    store: Resources, clock: Clock
) -> None:
    with pytest.raises(ModelError) as missing:
        store.create(TABLES, ctx(), {"rows": 1})
    assert (missing.value.status, missing.value.field) == (400, "name")
    store.create(TABLES, ctx(), {"name": "plans", "rows": 1})
    with pytest.raises(ModelError) as twice:
        store.create(TABLES, ctx(), {"name": "plans", "rows": 2})
    assert twice.value.status == 409 and "plans already exists" in twice.value.message
    assert store.put(TABLES, ctx(), "plans", {"rows": 3}) == {"name": "plans", "rows": 3}
    assert store.put(TABLES, ctx(), "regions", {"rows": 4}) == {"rows": 4, "name": "regions"}
    assert [t["name"] for t in store.list(TABLES, ctx(), order="id")] == ["plans", "regions"]


def test_every_missing_required_field_is_named(store: Resources) -> None:
    with pytest.raises(ModelError) as caught:
        store.create(NOTES, ctx(), {"description": None})
    assert caught.value.status == 400
    assert caught.value.message == "notes: missing required field(s) date, description"
    assert caught.value.field == "date"
    assert store.count(NOTES, ctx()) == 0


def test_defaults_fill_what_is_absent_and_are_not_shared(store: Resources) -> None:
    one = store.create(NOTES, ctx(), NOTE)
    two = store.create(NOTES, ctx(), {**NOTE, "tags": ["x"]})
    assert one["tags"] == [] and two["tags"] == ["x"]
    assert NOTES.defaults == {"tags": []}  # the declaration is never the stored value


def test_stamps_follow_the_context_clock(store: Resources, clock: Clock) -> None:
    made = store.create(NOTES, ctx(clock), NOTE)
    assert made["created"] == made["modified"] == "2023-11-14T22:13:20Z"
    clock.now += 90
    changed = store.update(NOTES, ctx(clock), made["id"], {"description": "rollback"})
    assert changed["created"] == "2023-11-14T22:13:20Z"
    assert changed["modified"] == "2023-11-14T22:14:50Z"
    assert changed["description"] == "rollback" and changed["date"] == NOTE["date"]


def test_fixed_fields_cannot_change_but_may_be_repeated(store: Resources) -> None:
    made = store.create(NOTES, ctx(), NOTE)
    same = store.update(NOTES, ctx(), made["id"], {"user": "ann", "id": made["id"], "x": 1})
    assert same["x"] == 1
    for patch, named in (
        ({"user": "bob", "id": 7}, "id, user"),
        ({"created": "2000-01-01T00:00:00Z"}, "created"),
        ({"modified": "2000-01-01T00:00:00Z"}, "modified"),
    ):
        with pytest.raises(ModelError) as caught:
            store.update(NOTES, ctx(), made["id"], patch)
        assert caught.value.status == 400
        assert caught.value.message == f"notes: {named} cannot be changed"
    assert store.get(NOTES, ctx(), made["id"]) == same


def test_replace_drops_what_is_absent_keeps_fixed_fields_and_needs_required(
    store: Resources,
) -> None:
    made = store.create(NOTES, ctx(), {**NOTE, "extra": True})
    replaced = store.update(
        NOTES, ctx(), made["id"], {"date": "2024-02-02", "description": "new"}, replace=True
    )
    assert "extra" not in replaced and "tags" not in replaced
    assert (replaced["user"], replaced["id"], replaced["created"]) == ("ann", 1, made["created"])
    with pytest.raises(ModelError) as caught:
        store.update(NOTES, ctx(), made["id"], {"date": "2024-02-02"}, replace=True)
    assert caught.value.field == "description"


def test_missing_or_impossible_ids(store: Resources) -> None:
    store.create(NOTES, ctx(), NOTE)
    assert store.get(NOTES, ctx(), "001") is not None  # the same int as 1
    for rid in ("2", "one", "", None, True):
        assert store.get(NOTES, ctx(), rid) is None
        assert store.delete(NOTES, ctx(), rid) is False
        with pytest.raises(ModelError) as caught:
            store.update(NOTES, ctx(), rid, {"x": 1})
        assert caught.value.status == 404
    with pytest.raises(ModelError) as bad:
        store.put(TABLES, ctx(), "", {})
    assert bad.value.status == 400


def test_put_with_an_int_id_moves_the_sequence_past_it(store: Resources, clock: Clock) -> None:
    store.put(NOTES, ctx(clock), 10, NOTE)
    clock.now += 1
    store.put(NOTES, ctx(clock), 3, NOTE)
    clock.now += 1
    assert store.create(NOTES, ctx(clock), NOTE)["id"] == 11
    assert [n["id"] for n in store.list(NOTES, ctx(), order="id")] == [3, 10, 11]
    assert [n["id"] for n in store.list(NOTES, ctx())] == [10, 3, 11]  # creation order


def test_int_ids_sort_as_numbers(store: Resources) -> None:
    for rid in (10, 9, 100):
        store.put(NOTES, ctx(), rid, NOTE)
    assert [n["id"] for n in store.list(NOTES, ctx(), order="id")] == [9, 10, 100]
    with pytest.raises(ValueError, match="order must be one of"):
        store.list(NOTES, ctx(), order="name")


def test_delete_and_delete_all_stay_in_their_scope(store: Resources) -> None:
    for project in ("1", "1", "2"):
        store.create(NOTES, ctx(project=project), NOTE)
    assert store.delete(NOTES, ctx(), 1) is True
    assert store.delete(NOTES, ctx(), 1) is False
    assert store.delete_all(NOTES, ctx()) == 1
    assert store.count(NOTES, ctx()) == 0 and store.count(NOTES, ctx(project="2")) == 1


def test_a_scoped_family_needs_its_scope() -> None:
    with pytest.raises(ValueError, match="the context lacks"):
        NOTES.scope_key(Context())
    with pytest.raises(ValueError, match="id_kind must be one of"):
        Family("broken", id_kind="serial")


def _status(body: Body, context: Context) -> Body:
    """A job that is PENDING for 1 s, STAGING until 3 s, then SUCCESS (or FAILED on request)."""
    age = context.now_ms() / 1000 - body["started"]
    if body.get("fail") and age >= 1:
        return {**body, "status": "FAILED"}
    status = "PENDING" if age < 1 else "STAGING" if age < 3 else "SUCCESS"
    return {**body, "status": status}


def _start(body: Body, context: Context) -> Body:
    if not isinstance(body["distinct_ids"], list):
        raise ModelError(400, "distinct_ids must be a list", "distinct_ids")
    return {**body, "started": context.now_ms() / 1000, "id": "ignored"}


def _keep_started(old: Body, new: Body, context: Context) -> Body:
    return {**new, "started": old["started"], "changes": old.get("changes", 0) + 1}


JOBS = Family(
    "jobs",
    required=("distinct_ids",),
    hooks=Hooks(on_create=_start, on_update=_keep_started, view=_status),
)


def test_a_time_derived_view_moves_with_the_clock(store: Resources, clock: Clock) -> None:
    made = store.create(JOBS, Context(clock=clock), {"distinct_ids": ["u1"]})
    doomed = store.create(JOBS, Context(clock=clock), {"distinct_ids": ["u2"], "fail": True})
    assert made["status"] == "PENDING" and made["id"] == 1  # the hook cannot change the id
    seen = []
    for seconds in (0.5, 1.5, 2.9, 3.0, 60):
        clock.now = 1_700_000_000.0 + seconds
        seen.append(store.get(JOBS, Context(clock=clock), made["id"])["status"])  # type: ignore[index]
    assert seen == ["PENDING", "STAGING", "STAGING", "SUCCESS", "SUCCESS"]
    done = store.list(JOBS, Context(clock=clock), lambda job: job["status"] == "SUCCESS")
    assert [job["id"] for job in done] == [1]
    assert store.get(JOBS, Context(clock=clock), doomed["id"])["status"] == "FAILED"  # type: ignore[index]


def test_a_refusing_hook_stores_nothing_and_spends_no_id(store: Resources) -> None:
    with pytest.raises(ModelError) as caught:
        store.create(JOBS, Context(), {"distinct_ids": "u1"})
    assert (caught.value.status, caught.value.field) == (400, "distinct_ids")
    assert store.count(JOBS, Context()) == 0
    assert store.create(JOBS, Context(), {"distinct_ids": []})["id"] == 1


def test_on_update_sees_the_old_body_and_the_merged_one(store: Resources, clock: Clock) -> None:
    made = store.create(JOBS, Context(clock=clock), {"distinct_ids": ["u1"]})
    clock.now += 10
    changed = store.update(JOBS, Context(clock=clock), made["id"], {"started": 0, "note": "x"})
    assert changed["started"] == 1_700_000_000.0 and changed["note"] == "x"
    again = store.update(JOBS, Context(clock=clock), made["id"], {"note": "y"})
    assert again["changes"] == 2 and again["status"] == "SUCCESS"


def test_modify_is_all_or_nothing(store: Resources) -> None:
    store.put(TABLES, ctx(), "a", {"rows": 1})

    def change(current: dict[str, Body | None]) -> dict[str, Body | None]:
        assert current == {"a": {"name": "a", "rows": 1}, "b": None}
        return {"a": None, "b": {"name": "b", "rows": 2}}

    store.modify(TABLES, ctx(), ["a", "b", "a"], change)
    assert [t["name"] for t in store.list(TABLES, ctx())] == ["b"]

    def broken(current: dict[str, Body | None]) -> dict[str, Body | None]:
        raise RuntimeError("a rule failed half-way")

    with pytest.raises(RuntimeError):
        store.modify(TABLES, ctx(), ["b"], broken)
    assert store.get(TABLES, ctx(), "b") == {"name": "b", "rows": 2}


def test_state_and_sequences_survive_a_restart(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    db = Database(path)
    Resources(db).create(NOTES, ctx(), NOTE)
    db.close()
    db = Database(path)
    again = Resources(db)
    assert again.create(NOTES, ctx(), NOTE)["id"] == 2
    assert [n["description"] for n in again.list(NOTES, ctx())] == ["deploy", "deploy"]
    db.close()


def _bodies(store: Resources) -> list[Any]:
    return store.list(NOTES, ctx(), order="id")


def test_reads_return_copies_the_caller_may_change(store: Resources) -> None:
    made = store.create(NOTES, ctx(), NOTE)
    made["tags"].append("changed")
    store.get(NOTES, ctx(), 1)["tags"].append("changed")  # type: ignore[index]
    assert _bodies(store)[0]["tags"] == []


def test_ids_and_many_page_through_a_scope(store: Resources) -> None:
    for name in ("b", "a", "c"):
        store.create(TABLES, ctx(), {"name": name})
    store.create(TABLES, ctx(project="2"), {"name": "other"})
    assert sorted(store.ids(TABLES, ctx())) == ["a", "b", "c"]
    found = store.many(TABLES, ctx(), ["c", "missing", "a", "other"])
    assert [body["name"] for body in found] == ["c", "a"]  # asked order, this scope only
