"""The fills' fast path (one content id two keys deep) gives what the general path gives."""

from __future__ import annotations

import copy
from types import MappingProxyType
from typing import Any

import pytest

from connector.core.paths import dotted
from connector.modes.batched.fills import Fill, content_id, fill_general, fill_record

ID = dotted("properties.$insert_id")
FILLS = [
    Fill(ID, "content_id", None, (("event",), ("properties",)), (dotted("properties.token"), ID))
]
PROPS = {"distinct_id": "u1", "time": 1700000000, "plan": "pro"}


@pytest.mark.parametrize(
    "record",
    [
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
    ],
    ids=str,
)
def test_the_fast_path_fills_what_the_general_path_fills(record: dict[str, Any]) -> None:
    plain = {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in record.items()}
    before = copy.deepcopy(plain)
    assert fill_record(record, FILLS) == fill_general(record, FILLS)
    assert record == before  # the caller's record is never changed


def test_the_id_is_the_digest_of_the_event_and_properties_without_token_or_id() -> None:
    record = {"event": "Played", "properties": {**PROPS, "token": "t", "$insert_id": ""}}
    filled = fill_record(record, FILLS)
    assert filled["properties"]["$insert_id"] == content_id(["Played", PROPS])
    assert filled["properties"]["token"] == "t"
