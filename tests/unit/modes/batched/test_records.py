"""Record preparation: deterministic $insert_id, declared fills, per-record refusals."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from connector import load_component
from connector.modes.batched.fills import content_id
from connector.modes.batched.records import RecordPlan, Refusal

COMPONENT = load_component()
CONNECTION = {"username": "u", "password": "p-secret", "projectToken": "tok-123456"}
EVENT = {
    "event": "Signed up",
    "properties": {"time": 1618716477000, "distinct_id": "user-1", "plan": {"tier": "pro"}},
}


def plan(action: str, **inputs: Any) -> RecordPlan:
    op = COMPONENT.spec.actions[action]
    values = {"useProjectToken": True, **inputs}
    return RecordPlan(op, values, CONNECTION)


def prepared(result: tuple[Any, bytes] | Refusal) -> Any:
    assert not isinstance(result, Refusal), result
    record, data = result
    assert json.loads(data) == record
    return record


def test_import_fills_a_content_derived_insert_id_without_touching_the_callers_event() -> None:
    before = copy.deepcopy(EVENT)
    record = prepared(plan("importEvents").prepare(EVENT, 0))
    insert_id = record["properties"]["$insert_id"]
    assert EVENT == before
    assert record == {
        "event": EVENT["event"],
        "properties": {**EVENT["properties"], "$insert_id": insert_id},
    }
    assert len(insert_id) == 36 and set(insert_id) <= set("0123456789abcdef-")


def test_insert_id_depends_on_content_not_on_key_order_or_token() -> None:
    import_plan = plan("importEvents")
    first = prepared(import_plan.prepare(EVENT, 0))["properties"]["$insert_id"]
    reordered = {
        "properties": dict(reversed(list(EVENT["properties"].items()))),
        "event": EVENT["event"],
    }
    with_token = {**EVENT, "properties": {**EVENT["properties"], "token": "another"}}
    later = {**EVENT, "properties": {**EVENT["properties"], "time": 1618716477001}}
    assert prepared(import_plan.prepare(reordered, 5))["properties"]["$insert_id"] == first
    assert prepared(import_plan.prepare(with_token, 5))["properties"]["$insert_id"] == first
    assert prepared(import_plan.prepare(later, 0))["properties"]["$insert_id"] != first


def test_insert_id_is_the_same_in_another_process() -> None:
    here = prepared(plan("importEvents").prepare(EVENT, 0))["properties"]["$insert_id"]
    code = (
        "import json, sys; from tests.unit.modes.batched.test_records import plan, EVENT;"
        "print(plan('importEvents').prepare(EVENT, 0)[0]['properties']['$insert_id'])"
    )
    env_hash = {"PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**_env(), **env_hash},
    )
    assert out.stdout.strip() == here


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_an_insert_id_the_caller_gave_is_kept() -> None:
    given = {**EVENT, "properties": {**EVENT["properties"], "$insert_id": "mine-1"}}
    assert prepared(plan("importEvents").prepare(given, 0)) is given  # no copy needed


def test_track_fills_time_token_and_id_like_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connector.modes.batched.fills.time.time", lambda: 1700000000.5)
    event = {"event": "Opened", "properties": {"distinct_id": "user-1"}}
    record = prepared(plan("trackEvents").prepare(event, 0))
    props = record["properties"]
    assert props["time"] == 1700000000500
    assert props["token"] == "tok-123456"
    expected = content_id(["Opened", {"distinct_id": "user-1", "time": 1700000000500}])
    assert props["$insert_id"] == expected
    assert event == {"event": "Opened", "properties": {"distinct_id": "user-1"}}


def test_track_without_use_project_token_leaves_the_token_out() -> None:
    record = prepared(plan("trackEvents", useProjectToken=False).prepare(EVENT, 0))
    assert "token" not in record["properties"]


def test_a_missing_container_is_not_invented() -> None:
    refusal = plan("trackEvents").prepare({"event": "x"}, 3)
    assert isinstance(refusal, Refusal)
    assert (refusal.index, refusal.message) == (3, "'properties' is a required property")


def _props(**extra: Any) -> dict[str, Any]:
    return {"event": "e", "properties": {"time": 1618716477, "distinct_id": "d", **extra}}


@pytest.mark.parametrize(
    ("event", "field", "words"),
    [
        pytest.param(_props(time=31535999), "properties.time", "is before 1971", id="before-1971"),
        pytest.param(
            {"event": "e", "properties": {"distinct_id": "d"}},
            "properties",
            "'time' is a required property",
            id="time-missing",
        ),
        pytest.param(
            {"event": "e", "properties": {"time": 1618716477}},
            "properties",
            "'distinct_id' is a required property",
            id="distinct-id-missing",
        ),
        pytest.param(
            _props(distinct_id="anon"), "properties.distinct_id", "placeholder", id="anon"
        ),
        pytest.param(
            _props(distinct_id="NULL"), "properties.distinct_id", "placeholder", id="null"
        ),
        pytest.param(
            _props(distinct_id="00000000-0000-0000-0000-000000000000"),
            "properties.distinct_id",
            "placeholder",
            id="zero-uuid",
        ),
        pytest.param(
            _props(**{"$insert_id": "has space"}),
            "properties.$insert_id",
            "does not match",
            id="bad-id",
        ),
        pytest.param(
            _props(**{"$insert_id": "x" * 37}), "properties.$insert_id", "is too long", id="long-id"
        ),
        pytest.param(
            _props(**{f"p{n}": n for n in range(254)}),
            "properties",
            "has too many properties",
            id="256-props",
        ),
        pytest.param(
            _props(a={"b": {"c": {"d": {"e": 1}}}}),
            "properties",
            "more than 3 levels deep",
            id="depth-4",
        ),
        pytest.param(
            _props(blob="x" * 1_000_000), "", "bytes of JSON; at most 1,000,000", id="over-1mb"
        ),
    ],
)
def test_records_mixpanel_would_refuse_are_refused_with_field_and_reason(
    event: dict[str, Any], field: str, words: str
) -> None:
    refusal = plan("importEvents").prepare(event, 7)
    assert isinstance(refusal, Refusal)
    assert refusal.index == 7
    assert refusal.field == field
    assert words in refusal.message
    assert len(refusal.message) < 300


def test_limits_are_inclusive() -> None:
    fine = [
        _props(**{f"p{n}": n for n in range(252)}),  # 255 with $insert_id
        _props(a={"b": {"c": {"d": 1}}}),  # 3 levels of objects
        _props(distinct_id="anonymous-user-7"),  # a placeholder only when it is the whole id
        _props(time=31536000),
    ]
    for event in fine:
        prepared(plan("importEvents").prepare(event, 0))


MANY = {f"p{n}": n for n in range(300)}  # too many properties: the refusal quotes them


def test_secret_fields_are_noted_and_mask_every_refusal() -> None:
    from connector.core.redact import Redactor

    secrets = Redactor(["p-secret"])
    track = RecordPlan(
        COMPONENT.spec.actions["trackEvents"], {"useProjectToken": False}, CONNECTION, secrets
    )
    events = [
        {"event": "e", "properties": {"token": f"record-token-{n}", **MANY}} for n in range(3)
    ]
    track.note_secrets(events)
    assert all(f"record-token-{n}" in secrets for n in range(3))
    refused = track.prepare(events[1], 1)
    assert isinstance(refused, Refusal) and "record-token" not in refused.message
    profiles = RecordPlan(COMPONENT.spec.actions["updateMultipleProfiles"], {}, CONNECTION, secrets)
    profiles.note_secrets([{"$token": "profile-token-9", "$distinct_id": "u"}, "not a record"])
    assert "profile-token-9" in secrets


def test_past_the_noted_limit_a_refusal_still_masks_its_own_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from connector.core.redact import Redactor
    from connector.modes.batched import records

    monkeypatch.setattr(records, "MAX_NOTED_SECRETS", 2)
    secrets = Redactor()
    track = RecordPlan(
        COMPONENT.spec.actions["trackEvents"], {"useProjectToken": False}, CONNECTION, secrets
    )
    events = [
        {"event": "e", "properties": {"token": f"record-token-{n}", **MANY}} for n in range(5)
    ]
    track.note_secrets(events)
    assert len(secrets) == 2  # the limit holds
    for index, event in enumerate(events):
        refused = track.prepare(event, index)
        assert isinstance(refused, Refusal)
        assert "'token': '***'" in refused.message and "record-token" not in refused.message


@settings(max_examples=150, deadline=None)
@given(
    token=st.text(st.characters(exclude_categories=("Cs",)), min_size=4, max_size=24),
    refusal=st.sampled_from(["too many properties", "too deep", "bad distinct_id"]),
)
def test_no_token_spelling_survives_a_refusal(token: str, refusal: str) -> None:
    """Whatever the token holds (quotes, backslashes, control or non-ASCII characters), the
    refusal quoting its record masks it in every way a message may escape it."""
    import json as json_module

    from connector.core.redact import Redactor

    def shown_for(secret: str) -> str:
        properties: dict[str, Any] = {"token": secret, "time": 1618716477, "distinct_id": "u"}
        if refusal == "too many properties":
            properties |= MANY
        elif refusal == "too deep":
            properties["nested"] = {"a": {"b": {"c": {"d": secret}}}}
        else:
            properties["distinct_id"] = "anon"
        event = {"event": "e", "properties": properties}
        track = RecordPlan(
            COMPONENT.spec.actions["trackEvents"],
            {"useProjectToken": False},
            CONNECTION,
            Redactor(),
        )
        track.note_secrets([event])
        refused = track.prepare(event, 0)
        assert isinstance(refused, Refusal)
        return refused.message + repr(refused) + json_module.dumps(refused.to_dict("$insert_id"))

    forms = (token, repr(token)[1:-1], json_module.dumps(token)[1:-1])
    # A token spelt like the message's own words ("inde" in "index") cannot be told apart from
    # them: those are the spellings the same refusal shows when made with another token.
    assume(not any(form in shown_for("\u2603" * 9) for form in forms))
    shown = shown_for(token)
    for form in forms:
        assert form not in shown


def test_a_chunk_with_nested_values_within_the_depth_is_encoded_at_once() -> None:
    # Brackets beyond each record's own levels only mean "look": a chunk whose records nest
    # within max_depth is encoded in one piece; one record too deep sends the chunk one by one.
    import_plan = plan("importEvents")
    nested = [
        _props(**{"$insert_id": f"i{n}", "items": [{"sku": n, "tags": ["a"]}], "s": "[{"})
        for n in range(50)
    ]
    parts = import_plan.encode_all(nested)
    assert parts is not None and json.loads(b"[" + b",".join(parts) + b"]") == nested
    deep = _props(**{"$insert_id": "deep", "a": [{"b": {"c": {"d": 1}}}]})
    assert import_plan.encode_all([*nested, deep]) is None
    refused = import_plan.prepare(deep, 50)
    assert isinstance(refused, Refusal) and "more than 3 levels deep" in refused.message
    at_limit = _props(**{"$insert_id": "edge", "a": [{"b": {"c": 1}}]})
    assert import_plan.encode_all([*nested, at_limit]) is not None
    prepared(import_plan.prepare(at_limit, 0))


def test_a_filled_chunk_notes_the_same_secrets_as_reading_every_record() -> None:
    from types import MappingProxyType

    from connector.core.redact import Redactor

    events: list[Any] = [
        {"event": "e", "properties": {"time": 1618716477 + n, "distinct_id": f"u{n}"}}
        for n in range(40)
    ]
    events[3]["properties"]["token"] = "chunk-token-3"  # left out of the id: filled apart
    events[7]["properties"]["$insert_id"] = "kept-7"
    events[9] = {"event": "e", "properties": MappingProxyType({"token": "chunk-token-9"})}
    events[11] = {"event": "e", "properties": {"token": "chunk-token-11", "$insert_id": "x"}}
    events[13] = "not a record"
    events[15] = {"properties": {"time": 1, "token": "chunk-token-15"}}  # no event: no id
    fast, full = Redactor(), Redactor()
    for secrets in (fast, full):
        track = RecordPlan(COMPONENT.spec.actions["importEvents"], {}, CONNECTION, secrets)
        filled = track.fill_all(events)
        track.note_secrets(filled if secrets is fast else list(filled))  # a copy: every record
    tokens = {f"chunk-token-{n}" for n in (3, 9, 11, 15)}
    assert all(token in fast for token in tokens)
    assert len(fast) == len(full) == len(tokens)
    # A list other than the one just filled is read whole, even with the same records.
    again = Redactor()
    track = RecordPlan(COMPONENT.spec.actions["importEvents"], {}, CONNECTION, again)
    track.fill_all(events)
    track.note_secrets(list(events))
    # (the unfilled read-only mapping of record 9 is not read, as before any fill)
    assert len(again) == 3 and all(f"chunk-token-{n}" in again for n in (3, 11, 15))


@pytest.mark.parametrize(
    "properties",
    [
        {"time": 1618716477, "distinct_id": "u", "é \u2028": "x", "n": {"b": [1.5, None]}},
        {"time": 1618716477, "distinct_id": "u", "n": {1: "int key", "1": "str key"}},
        {"time": 1618716477, "distinct_id": "u", "n": {None: 1, 2.5: True}},
    ],
    ids=["str keys", "an int key", "other keys"],
)
def test_a_chunk_is_encoded_as_with_non_str_keys_allowed(properties: dict[Any, Any]) -> None:
    import orjson

    from connector.core.jsonenc import joined_json

    track = plan("importEvents")
    events = [
        {"event": f"e{n}", "properties": {**properties, "$insert_id": f"i{n}"}} for n in (1, 2)
    ]
    parts = track.encode_all(events)
    assert parts is not None
    assert joined_json(parts) == orjson.dumps(events, option=orjson.OPT_NON_STR_KEYS)
