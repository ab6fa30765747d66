"""Ingestion (/track) and profile (/engage) actions against hand-written OpenAPI cassettes."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any
from urllib.parse import parse_qsl

import pytest

from connector import ClientError, Component, InputError
from connector.send.response import RawResponse
from tests.conftest import TEST_CONNECTION, NothingMayBeSent

TOKEN = TEST_CONNECTION["projectToken"]
ANON_ID = "3e2a0d22-7465-4dc3-a2ab-56f8762e1a29"

SIGNED_UP = {
    "event": "Signed up",
    "properties": {
        "time": 1618716477000,
        "distinct_id": "91304156-cafc-4673-a237-623d1129c801",
        "$insert_id": "29fc2962-6d9c-455d-95ad-95b84f09b9e4",
        "ip": "136.24.0.114",
        "Referred by": "Friend",
        "URL": "mixpanel.com/signup",
    },
}
PAGE_VIEW = {
    "event": "Page View",
    "properties": {
        "time": 1618716480000,
        "distinct_id": "91304156-cafc-4673-a237-623d1129c801",
        "$insert_id": "5d958f87-542d-4c10-9422-0ed75893dc81",
    },
}
BATCH_UPDATE = [
    {"$distinct_id": "13793", "$set": {"$email": "user1@mail.com"}},
    {"$distinct_id": "13794", "$add": {"Coins Gathered": 13}},
    {"$distinct_id": "13795", "$unset": ["$email"]},
]
ACTIONS = (
    "trackEvents",
    "createIdentity",
    "createProfile",
    "deleteProfile",
    "updateMultipleProfiles",
)


# --- /track ----------------------------------------------------------------------------------


@pytest.mark.vcr
def test_track_events(component: Component, connection: dict[str, str]) -> None:
    # Events given as JSON text without a token; the old grouped deliveryOptions still works.
    result = component.run(
        "trackEvents",
        {
            "region": "api-in",
            "events": json.dumps([SIGNED_UP, PAGE_VIEW]),
            "deliveryOptions": {"ip": "1", "img": "0", "redirect": "https://example.com/redirect"},
        },
        connection,
    )
    assert result == {"data": 1}


@pytest.mark.vcr
def test_track_events_verbose(component: Component, connection: dict[str, str]) -> None:
    result = component.run("trackEvents", {"events": [SIGNED_UP], "verbose": "true"}, connection)
    assert result == {"data": {"error": None, "status": 1}}


def test_track_events_rejected(component: Component, connection: dict[str, str]) -> None:
    # Scripted rather than replayed: the event now carries its content-derived $insert_id, which
    # the recorded cassette (test_track_events_rejected.yaml) predates.
    event = {
        "event": "Signed up",
        "properties": {"time": 1618716477000, "distinct_id": "user-12345", "token": TOKEN},
    }
    sent: list[Any] = []

    class _Rejects:
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            sent.append(json.loads(dict(parse_qsl(request.content.decode()))["data"]))
            return RawResponse(200, {"content-type": "text/plain; charset=utf-8"}, b"0")

    component.transport = _Rejects()  # type: ignore[assignment]
    with pytest.raises(ClientError, match="rejected the events \\(it answered 0\\)"):
        component.run("trackEvents", {"events": [event]}, connection)
    [[wire]] = sent
    assert wire["properties"] == {
        **event["properties"],
        "$insert_id": wire["properties"]["$insert_id"],
    }
    assert len(wire["properties"]["$insert_id"]) == 36


def test_track_events_keeps_an_events_own_token(
    component: Component, connection: dict[str, str]
) -> None:
    own = copy.deepcopy(PAGE_VIEW)
    own["properties"]["token"] = "another-project-token"
    events = [SIGNED_UP, own]
    before = copy.deepcopy(events)
    request, header = component.prepare(
        component.spec.actions["trackEvents"], {"events": events}, connection
    )
    sent = json.loads(dict(parse_qsl(request.content.decode()))["data"])
    assert [e["properties"]["token"] for e in sent] == [TOKEN, "another-project-token"]
    assert header is None
    assert events == before  # the caller's events are not mutated


def test_track_events_without_project_token_sends_events_as_given(
    component: Component, connection: dict[str, str]
) -> None:
    own = copy.deepcopy(SIGNED_UP)
    own["properties"]["token"] = "another-project-token"
    request, _ = component.prepare(
        component.spec.actions["trackEvents"],
        {"events": [own], "useProjectToken": "false"},
        connection,
    )
    assert json.loads(dict(parse_qsl(request.content.decode()))["data"]) == [own]


@pytest.mark.parametrize(
    ("events", "idempotent"),
    [
        pytest.param([SIGNED_UP, PAGE_VIEW], True, id="all-have-insert-id"),
        # Events without $insert_id get a content-derived one, so their batch is safe to retry.
        pytest.param(
            [{"event": "x", "properties": {"distinct_id": "u"}}], True, id="no-insert-id-filled"
        ),
    ],
)
def test_track_events_retry_only_when_every_event_has_an_insert_id(
    component: Component, connection: dict[str, str], events: list[Any], idempotent: bool
) -> None:
    request, _ = component.prepare(
        component.spec.actions["trackEvents"], {"events": events}, connection
    )
    assert request.retry["idempotent"] is idempotent


def test_track_events_img_returns_the_pixel_base64(
    component: Component, connection: dict[str, str]
) -> None:
    pixel = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01"

    class _Pixel:
        def send(self, request: Any, authorization: str | None) -> RawResponse:
            assert request.full_url == "https://api.mixpanel.com/track?img=1"
            assert authorization is None
            return RawResponse(200, {"content-type": "image/gif"}, pixel)

    component.transport = _Pixel()  # type: ignore[assignment]
    result = component.run("trackEvents", {"events": [SIGNED_UP], "img": "yes"}, connection)
    assert result == {"data": base64.b64encode(pixel).decode()}


# --- $identify -------------------------------------------------------------------------------


@pytest.mark.vcr
def test_create_identity(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "createIdentity",
        {
            "region": "api-eu",
            "identified_id": "user-12345",
            "anon_id": ANON_ID,
            "deliveryOptions": {"strict": "1", "verbose": "1"},
        },
        connection,
    )
    assert result == {"data": {"error": None, "status": 1}}


def test_create_identity_project_token_input_wins(
    component: Component, connection: dict[str, str]
) -> None:
    request, header = component.prepare(
        component.spec.actions["createIdentity"],
        {"identified_id": "user-12345", "anon_id": ANON_ID, "project_token": "input-token"},
        connection,
    )
    event = json.loads(dict(parse_qsl(request.content.decode()))["data"])
    assert event == {
        "event": "$identify",
        "properties": {"$identified_id": "user-12345", "$anon_id": ANON_ID, "token": "input-token"},
    }
    assert header is None
    assert request.params == ()  # strict and verbose unset: nothing extra is sent


# --- /engage ---------------------------------------------------------------------------------


@pytest.mark.vcr
def test_create_profile(component: Component, connection: dict[str, str]) -> None:
    properties = [
        {
            "$distinct_id": "13793",
            "$set": {"$email": "john.doe@example.com", "$name": "John Doe", "plan": "Premium"},
        }
    ]
    result = component.run("createProfile", {"properties": json.dumps(properties)}, connection)
    assert result == {"data": 1}


@pytest.mark.vcr
def test_create_profile_verbose(component: Component, connection: dict[str, str]) -> None:
    properties = [{"$distinct_id": "13793", "$set": {"plan": "Premium"}}]
    inputs = {"properties": json.dumps(properties), "verbose": "true"}
    result = component.run("createProfile", inputs, connection)
    assert result == {"data": {"error": None, "status": 1}}


@pytest.mark.vcr
def test_create_profile_rejected(component: Component, connection: dict[str, str]) -> None:
    properties = [{"$token": TOKEN, "$distinct_id": "13793", "$set": {"plan": "Premium"}}]
    with pytest.raises(ClientError, match="rejected the profile updates \\(it answered 0\\)"):
        component.run("createProfile", {"properties": properties}, connection)


@pytest.mark.vcr
def test_delete_profile(component: Component, connection: dict[str, str]) -> None:
    deletions = [{"$distinct_id": "13793", "$delete": "", "$ignore_alias": False}]
    result = component.run(
        "deleteProfile",
        {"region": "api-eu", "deleteProfiles": json.dumps(deletions), "redirect": "https://x.io"},
        connection,
    )
    assert result == {"data": 1}


@pytest.mark.vcr
def test_delete_profile_verbose(component: Component, connection: dict[str, str]) -> None:
    deletions = [{"$distinct_id": "13793", "$delete": ""}]
    inputs = {"region": "api-in", "deleteProfiles": json.dumps(deletions), "verbose": "1"}
    result = component.run("deleteProfile", inputs, connection)
    assert result == {"data": {"error": None, "status": 1}}


@pytest.mark.vcr
def test_update_multiple_profiles(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "updateMultipleProfiles", {"propertiesToUpdate": BATCH_UPDATE}, connection
    )
    assert result == {"data": 1}


@pytest.mark.vcr
def test_update_multiple_profiles_rejected(
    component: Component, connection: dict[str, str]
) -> None:
    updates = [{"$distinct_id": "13794", "$add": {"Coins Gathered": 13}}]
    with pytest.raises(ClientError) as caught:
        component.run(
            "updateMultipleProfiles", {"propertiesToUpdate": updates, "verbose": "1"}, connection
        )
    assert str(caught.value) == (
        "updateMultipleProfiles: Mixpanel rejected the profile updates: "
        "$add for Coins Gathered: the profile property is not numeric"
        " (0 records had been imported: no request was accepted before this error)"
    )


@pytest.mark.parametrize(
    ("updates", "idempotent"),
    [
        pytest.param([BATCH_UPDATE[0], BATCH_UPDATE[2]], True, id="set-and-unset"),
        pytest.param(
            [{"$distinct_id": "1", "$union": {"Items": ["a"]}, "$token": "t"}], True, id="union"
        ),
        pytest.param(BATCH_UPDATE, False, id="add"),
        pytest.param([{"$distinct_id": "1", "$append": {"Items": "a"}}], False, id="append"),
        pytest.param([{"$distinct_id": "1", "$remove": {"Items": "a"}}], False, id="remove"),
    ],
)
def test_update_multiple_profiles_retry_only_when_repeating_is_harmless(
    component: Component, connection: dict[str, str], updates: list[Any], idempotent: bool
) -> None:
    request, _ = component.prepare(
        component.spec.actions["updateMultipleProfiles"],
        {"propertiesToUpdate": updates},
        connection,
    )
    assert request.retry["idempotent"] is idempotent


def test_engage_keeps_an_objects_own_token(
    component: Component, connection: dict[str, str]
) -> None:
    updates = [{"$token": "another-project-token", "$distinct_id": "1", "$set": {"a": 1}}]
    request, header = component.prepare(
        component.spec.actions["createProfile"], {"properties": updates}, connection
    )
    assert json.loads(request.content) == updates
    assert request.headers["Content-Type"] == "application/json"
    assert header is None


@pytest.mark.parametrize("action", ACTIONS)
def test_no_authorization_header_is_sent(
    component: Component, connection: dict[str, str], action: str
) -> None:
    inputs = {
        "trackEvents": {"events": [SIGNED_UP]},
        "createIdentity": {"identified_id": "user-12345", "anon_id": ANON_ID},
        "createProfile": {"properties": [{"$distinct_id": "1", "$set": {"a": 1}}]},
        "deleteProfile": {"deleteProfiles": [{"$distinct_id": "1", "$delete": None}]},
        "updateMultipleProfiles": {"propertiesToUpdate": BATCH_UPDATE},
    }[action]
    request, header = component.prepare(component.spec.actions[action], inputs, connection)
    assert header is None
    assert request.auth_scheme == "none"


# --- bad inputs: InputError naming the key, nothing sent --------------------------------------

BAD_INPUTS = [
    pytest.param("trackEvents", {}, "events", "is required", id="track-events-missing"),
    pytest.param(
        "trackEvents",
        {"events": '[{"event": "x",'},
        "events",
        "not valid JSON",
        id="track-bad-json",
    ),
    pytest.param(
        "trackEvents",
        {"events": [{"event": "x"}]},
        "events",
        "'properties' is a required property",
        id="track-event-without-properties",
    ),
    pytest.param(
        "trackEvents",
        {"events": [SIGNED_UP], "ip": "maybe"},
        "ip",
        "expected true or false",
        id="track-ip-not-boolean",
    ),
    pytest.param(
        "trackEvents",
        {"events": [SIGNED_UP], "region": "us-west"},
        "region",
        "Valid values are: 'api', 'api-eu', 'api-in'",
        id="track-region-outside-choices",
    ),
    pytest.param(
        "trackEvents",
        {"events": [SIGNED_UP], "useProjectToken": "false"},
        "events",
        "has events without `properties.token`",
        id="track-no-token-and-use-project-token-off",
    ),
    pytest.param(
        "createIdentity",
        {"identified_id": "user-12345", "anon_id": "not-a-uuid"},
        "anon_id",
        "does not have the expected form",
        id="identity-anon-id-not-uuid",
    ),
    pytest.param(
        "createIdentity",
        {"identified_id": "user-12345", "anon_id": "3e2a0d22-7465-1dc3-a2ab-56f8762e1a29"},
        "anon_id",
        "does not have the expected form",
        id="identity-anon-id-uuid-v1",
    ),
    pytest.param(
        "createIdentity",
        {"anon_id": ANON_ID},
        "identified_id",
        "is required",
        id="identity-missing",
    ),
    pytest.param(
        "createIdentity",
        {"identified_id": "u", "anon_id": ANON_ID, "verbose": "sometimes"},
        "verbose",
        "expected true or false",
        id="identity-verbose-not-boolean",
    ),
    pytest.param("createProfile", {}, "properties", "is required", id="profile-missing"),
    pytest.param(
        "createProfile",
        {"properties": [{"$distinct_id": "1"}]},
        "properties",
        "'$set' is a required property",
        id="profile-without-set",
    ),
    pytest.param(
        "createProfile",
        {"properties": [{"$distinct_id": "1", "$set": {"a": 1}, "$add": {"b": 1}}]},
        "properties",
        "Additional properties are not allowed",
        id="profile-with-a-second-operation",
    ),
    pytest.param(
        "createProfile",
        {"properties": {"$distinct_id": "1", "$set": {"a": 1}}},
        "properties",
        "is not of type 'array'",
        id="profile-not-an-array",
    ),
    pytest.param(
        "deleteProfile",
        {"deleteProfiles": [{"$distinct_id": "1"}]},
        "deleteProfiles",
        "'$delete' is a required property",
        id="delete-without-delete",
    ),
    pytest.param(
        "updateMultipleProfiles",
        {"propertiesToUpdate": [{"$distinct_id": "1", "$set": {"a": 1}, "$unset": ["b"]}]},
        "propertiesToUpdate",
        "at Properties To Update[0]:",
        id="update-two-operations",
    ),
    pytest.param(
        "updateMultipleProfiles",
        {"propertiesToUpdate": [{"$distinct_id": "1"}]},
        "propertiesToUpdate",
        "at Properties To Update[0]:",
        id="update-no-operation",
    ),
    pytest.param(
        "updateMultipleProfiles",
        {"propertiesToUpdate": [{"$distinct_id": "1", "$bogus": {"a": 1}}]},
        "propertiesToUpdate",
        "Additional properties are not allowed",
        id="update-unknown-operation",
    ),
    pytest.param(
        "updateMultipleProfiles",
        {"propertiesToUpdate": [{"$distinct_id": "1", "$add": {"Coins": "many"}}]},
        "propertiesToUpdate",
        "is not of type 'number'",
        id="update-add-not-a-number",
    ),
]


@pytest.mark.parametrize(("action", "inputs", "key", "message"), BAD_INPUTS)
def test_bad_inputs_raise_input_error_and_send_nothing(
    component: Component,
    connection: dict[str, str],
    action: str,
    inputs: dict[str, Any],
    key: str,
    message: str,
) -> None:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    with pytest.raises(InputError) as caught:
        component.run(action, inputs, connection)
    assert {p.key for p in caught.value.errors} == {key}
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("action", "inputs", "key"),
    [
        pytest.param("trackEvents", {"events": [SIGNED_UP]}, "events", id="track"),
        pytest.param(
            "createIdentity",
            {"identified_id": "user-12345", "anon_id": ANON_ID},
            "project_token",
            id="identity",
        ),
        pytest.param(
            "createProfile",
            {"properties": [{"$distinct_id": "1", "$set": {"a": 1}}]},
            "properties",
            id="profile",
        ),
        pytest.param(
            "deleteProfile",
            {"deleteProfiles": [{"$distinct_id": "1", "$delete": ""}]},
            "deleteProfiles",
            id="delete",
        ),
        pytest.param(
            "updateMultipleProfiles",
            {"propertiesToUpdate": BATCH_UPDATE},
            "propertiesToUpdate",
            id="batch",
        ),
    ],
)
def test_no_token_anywhere_is_an_input_error(
    component: Component, action: str, inputs: dict[str, Any], key: str
) -> None:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    connection = {k: v for k, v in TEST_CONNECTION.items() if k != "projectToken"}
    with pytest.raises(InputError) as caught:
        component.run(action, inputs, connection)
    assert [p.key for p in caught.value.errors] == [key]
    assert "Project Token" in str(caught.value)
