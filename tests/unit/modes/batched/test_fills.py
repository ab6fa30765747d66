"""The fills: the fast path gives what the general path gives; derived ids never change."""

from __future__ import annotations

import copy
import datetime
from types import MappingProxyType
from typing import Any

import orjson
import pytest

from connector import load_component
from connector.core.jsonenc import joined_json
from connector.core.paths import dotted
from connector.modes.batched.chunks import batches
from connector.modes.batched.fills import Fill, content_id, fill_general, fill_ids, fill_record
from connector.modes.batched.records import RecordPlan, Refusal

ID = dotted("properties.$insert_id")
FILLS = [
    Fill(ID, "content_id", None, (("event",), ("properties",)), (dotted("properties.token"), ID))
]
PROPS = {"distinct_id": "u1", "time": 1700000000, "plan": "pro"}


RECORDS = [
    {"event": "Played", "properties": dict(PROPS)},
    {"event": "Played", "properties": {**PROPS, "$insert_id": ""}},
    {"event": "Played", "properties": {**PROPS, "$insert_id": None}},
    {"event": "Played", "properties": {**PROPS, "token": "tok-secret"}},
    {"event": "Played", "properties": {**PROPS, "$insert_id": "kept-1"}},
    {"event": "Played", "properties": {**PROPS, "$insert_id": 0}},
    {"event": "Played", "properties": "not a mapping"},
    {"event": "Played"},
    {"properties": dict(PROPS), "extra": [1, 2]},
    {"event": "Played", "properties": MappingProxyType({**PROPS, "token": "t"})},
    {"event": "Played", "properties": {**PROPS, "big": 2**70}},  # orjson cannot encode it
    {"event": "Played", "properties": {**PROPS, "token": None, "nested": {"x": [1, {}]}}},
    "not a record",
    None,
]


@pytest.mark.parametrize("record", RECORDS, ids=str)
def test_the_fast_path_fills_what_the_general_path_fills(record: dict[str, Any]) -> None:
    if not isinstance(record, dict):
        return  # fill_ids' alone (below): fill_record is only given mappings
    plain = {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in record.items()}
    before = copy.deepcopy(plain)
    try:
        expected = fill_general(record, FILLS)
    except TypeError:  # unencodable: fill_record raises too (the plan leaves it to the checks)
        with pytest.raises(TypeError):
            fill_record(record, FILLS)
        return
    assert fill_record(record, FILLS) == expected
    assert record == before  # the caller's record is never changed


def _general_or_kept(record: Any, fill: Fill) -> Any:
    if not isinstance(record, dict | MappingProxyType):
        return record
    try:
        return fill_general(record, [fill])
    except TypeError:
        return record


@pytest.mark.parametrize("length", [8, 16, 32, 34, 36])
def test_a_chunk_gets_what_each_record_would_get(length: int) -> None:
    fill = Fill(ID, "content_id", None, FILLS[0].sources, FILLS[0].ignore, length)
    records = [*RECORDS, *({"event": str(n), "properties": {"n": n}} for n in range(40))]
    plain = [
        r for r in records if isinstance(r, dict) and MappingProxyType not in map(type, r.values())
    ]
    before = copy.deepcopy(plain)
    filled = fill_ids(records, fill, lambda record: _general_or_kept(record, fill))
    assert filled == [_general_or_kept(record, fill) for record in records]
    made = [r["properties"]["$insert_id"] for r in filled[-40:]]
    assert len(set(made)) == 40
    assert {len(one) for one in made} == {36 if length == 36 else min(length, 32)}
    assert plain == before  # the caller's records never change


def test_the_id_is_the_digest_of_the_event_and_properties_without_token_or_id() -> None:
    record = {"event": "Played", "properties": {**PROPS, "token": "t", "$insert_id": ""}}
    filled = fill_record(record, FILLS)
    assert filled["properties"]["$insert_id"] == content_id(["Played", PROPS])
    assert filled["properties"]["token"] == "t"


# Derived ids pinned byte for byte: a re-run or a resume after an upgrade must send each event
# with the id an earlier version gave it, or Mixpanel keeps it twice. Never update these values.
PINNED_PROPS = {
    "time": 1700000000,
    "distinct_id": "user-00001",
    "$browser": "Chrome",
    "price": 0.37,
    "items": 1,
    "logged_in": False,
}
PINNED = [
    (
        {"event": "Page View", "properties": dict(PINNED_PROPS)},
        "43205fe5-04eb-31db-9f19-5bf85bfda9b9",
    ),
    (  # the same event, its keys in another order
        {"properties": dict(reversed(list(PINNED_PROPS.items()))), "event": "Page View"},
        "43205fe5-04eb-31db-9f19-5bf85bfda9b9",
    ),
    (  # a token and an empty id are left out
        {"event": "Page View", "properties": {**PINNED_PROPS, "token": "tok-1", "$insert_id": ""}},
        "43205fe5-04eb-31db-9f19-5bf85bfda9b9",
    ),
    (
        {
            "event": "Compra \u00e9t\u00e9 \U0001f600",
            "properties": {
                "time": 1700000000123,
                "distinct_id": 'Jos\u00e9 "q" \\ \n\t\u0001',
                "list": [1, 2.5, None, True, "x"],
                "nested": {"b": {"z": 1, "a": [3, 2]}, "a": -0.0},
                "big": 2**63 - 1,
                "neg": -(2**63),
                "float": 1e300,
                "tiny": 5e-324,
                "0.1": 0.1,
                "$insert_id": None,
            },
        },
        "1fa89ce1-8794-c8d1-d6f7-318f42d8c121",
    ),
    (
        {
            "event": "keys",
            "properties": {
                "time": 1700000000,
                "distinct_id": "d",
                "nested": {1: "int key", "2": "str key"},
            },
        },
        "89dc2dc9-e739-c0d1-929f-d57887d459e2",
    ),
    (
        {
            "event": "values",
            "properties": {
                "time": 1700000000,
                "distinct_id": "d",
                "when": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456),
                "pair": (1, 2),
            },
        },
        "d926d4c5-887d-5fa7-3208-f633f487f02c",
    ),
    (
        {"event": "Page View", "properties": {**PINNED_PROPS, "extra": 1}, "top": "level"},
        "0e62ce10-4477-9127-1a6c-713bf57bdba7",
    ),
]
PINNED_REFUSED = (
    {"event": "bad", "properties": {"distinct_id": "d", "time": 1}},
    "60420e51-6927-7e89-7606-292d16819294",
)


@pytest.mark.parametrize("one_by_one", [False, True], ids=["chunk", "one by one"])
def test_import_derives_the_same_ids_as_every_earlier_version(one_by_one: bool) -> None:
    component = load_component()
    plan = RecordPlan(component.spec.actions["importEvents"], {"project_id": "1"}, {})
    records = [copy.deepcopy(record) for record, _ in PINNED]
    if one_by_one:  # a refused record makes the chunk go record by record
        records.append(copy.deepcopy(PINNED_REFUSED[0]))
    refused: list[Refusal] = []
    sent: list[Any] = []
    for batch in batches(records, plan, refused, max_items=2000, max_bytes=10_000_000):
        sent += orjson.loads(joined_json(batch.records.parts))  # type: ignore[attr-defined]
    assert [r["properties"]["$insert_id"] for r in sent] == [expected for _, expected in PINNED]
    assert [r.record_id for r in refused] == ([PINNED_REFUSED[1]] if one_by_one else [])


def test_track_derives_the_same_ids_as_every_earlier_version() -> None:
    component = load_component()
    op = component.spec.actions["trackEvents"]
    plan = RecordPlan(op, {"useProjectToken": True}, {"projectToken": "tok-123456"})
    record = plan.fill({"event": "Opened", "properties": {"distinct_id": "u", "time": 1700000000}})
    assert record["properties"]["token"] == "tok-123456"
    assert record["properties"]["$insert_id"] == "ba67525e-a618-68c8-bae6-060909ad6331"


def test_content_ids_of_other_lengths_are_pinned_too() -> None:
    assert content_id(["a", {"b": 1}], 16) == "eca804df760fb03e"
    assert content_id([None, [1, "x"]], 8) == "dc2e9490"
    assert content_id([]) == "7ebb3c7c-2a87-b1a2-f8a7-ed729ecb040d"
