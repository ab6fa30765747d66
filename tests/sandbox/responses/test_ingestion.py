"""Ingestion as Mixpanel's clients see it: answer shapes, `data=` in every form, /groups, $merge."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
import requests

from connector.sandbox import Sandbox


def _b64(value: Any, *, urlsafe: bool = False) -> str:
    raw = json.dumps(value).encode()
    return (
        base64.urlsafe_b64encode(raw).rstrip(b"=") if urlsafe else base64.b64encode(raw)
    ).decode()


def _event(sb: Sandbox, name: str = "E", n: int = 1, **props: Any) -> dict[str, Any]:
    base = {"distinct_id": "u1", "time": int(time.time()) - 60, "$insert_id": f"i-{n}"}
    return {"event": name, "properties": {**base, "token": sb.project_token, **props}}


def _secret(sb: Sandbox) -> tuple[str, str]:
    return (sb.project_secret, "")


def _post_form(sb: Sandbox, path: str, data: str, **params: str) -> requests.Response:
    return requests.post(
        f"{sb.base_url}{path}", data={"data": data}, params=params, auth=_secret(sb), timeout=5
    )


# --- /import: strict is opt-in -------------------------------------------------------------


def test_form_import_without_strict_answers_the_legacy_shapes(sandbox: Sandbox) -> None:
    answer = _post_form(sandbox, "/import", json.dumps([_event(sandbox)]))
    assert (answer.status_code, answer.text) == (200, "1")
    answer = _post_form(sandbox, "/import", json.dumps([_event(sandbox, n=2)]), verbose="1")
    assert answer.json() == {"error": None, "status": 1}
    assert sandbox.store.raw_event_count() == 2


def test_form_import_without_strict_stores_the_valid_and_fails_only_when_none_is(
    sandbox: Sandbox,
) -> None:
    bad = {"event": "E", "properties": {"distinct_id": "u1"}}  # no time
    answer = _post_form(sandbox, "/import", json.dumps([bad, _event(sandbox)]), verbose="1")
    assert answer.json() == {"error": None, "status": 1}
    assert sandbox.store.raw_event_count() == 1
    answer = _post_form(sandbox, "/import", json.dumps([bad]), verbose="1")
    assert answer.status_code == 200
    assert answer.json()["status"] == 0 and "properties.time" in answer.json()["error"]
    assert _post_form(sandbox, "/import", json.dumps([bad])).text == "0"


def test_strict_import_reports_failed_records_in_any_form(sandbox: Sandbox) -> None:
    bad = {"event": "E", "properties": {"distinct_id": "u1", "$insert_id": "b-1"}}
    answer = _post_form(sandbox, "/import", json.dumps([bad, _event(sandbox)]), strict="1")
    assert answer.status_code == 400
    body = answer.json()
    assert body["num_records_imported"] == 1 and body["failed_records"][0]["index"] == 0
    json_body = requests.post(
        f"{sandbox.base_url}/import?strict=1", json=[bad], auth=_secret(sandbox), timeout=5
    )
    assert json_body.status_code == 400 and json_body.json()["failed_records"][0]["index"] == 0


def test_json_import_without_strict_answers_the_import_shape(sandbox: Sandbox) -> None:
    bad = {"event": "E", "properties": {"distinct_id": "u1"}}
    answer = requests.post(
        f"{sandbox.base_url}/import", json=[bad, _event(sandbox)], auth=_secret(sandbox), timeout=5
    )
    assert answer.json() == {"code": 200, "num_records_imported": 1, "status": "OK"}


# --- data= in a GET query, a form body or a JSON body; plain or base64 ----------------------


@pytest.mark.parametrize("encoding", ["plain", "base64", "urlsafe base64"])
def test_get_track_reads_data_from_the_query(sandbox: Sandbox, encoding: str) -> None:
    event = _event(sandbox, n=3)
    del event["properties"]["time"]
    data = {
        "plain": json.dumps(event),
        "base64": _b64(event),
        "urlsafe base64": _b64(event, urlsafe=True),
    }[encoding]
    answer = requests.get(f"{sandbox.base_url}/track", params={"data": data}, timeout=5)
    assert (answer.status_code, answer.text) == (200, "1")
    assert sandbox.store.raw_event_count() == 1


def test_get_engage_groups_and_import_read_data_from_the_query(sandbox: Sandbox) -> None:
    url = sandbox.base_url
    update = {"$token": sandbox.project_token, "$distinct_id": "u1", "$set": {"a": 1}}
    assert requests.get(f"{url}/engage", params={"data": _b64(update)}, timeout=5).text == "1"
    group = {"$token": sandbox.project_token, "$group_key": "company", "$group_id": "acme"}
    group["$set"] = {"size": 3}
    assert requests.get(f"{url}/groups", params={"data": _b64(group)}, timeout=5).text == "1"
    answer = requests.get(
        f"{url}/import",
        params={"data": _b64(_event(sandbox)), "verbose": "1"},
        auth=_secret(sandbox),
        timeout=5,
    )
    assert answer.json() == {"error": None, "status": 1}
    assert sandbox.store.profile("u1") == {"a": 1}
    assert sandbox.store.group_profiles("company") == [("acme", {"size": 3})]
    assert sandbox.store.raw_event_count() == 1


def test_track_answers_verbose_json_and_ignores_strict(sandbox: Sandbox) -> None:
    event = _event(sandbox)
    answer = _post_form(sandbox, "/track", _b64(event), verbose="1", strict="1")
    assert answer.json() == {"error": None, "status": 1}
    broken = {"event": "E", "properties": {"distinct_id": "u1"}}  # no token
    answer = _post_form(sandbox, "/track", _b64(broken), verbose="1")
    assert answer.status_code == 200 and answer.json()["status"] == 0
    assert "token" in answer.json()["error"]
    assert _post_form(sandbox, "/track", _b64(broken)).text == "0"


# --- /groups ---------------------------------------------------------------------------------


def test_groups_apply_every_operation_per_group_key(sandbox: Sandbox) -> None:
    def send(op: str, value: Any, group_id: str = "acme", key: str = "company") -> str:
        record = {"$token": sandbox.project_token, "$group_key": key, "$group_id": group_id}
        return _post_form(sandbox, "/groups", json.dumps({**record, op: value})).text

    assert send("$set", {"size": 1, "plan": "a"}) == "1"
    assert send("$set_once", {"size": 9, "founded": 1999}) == "1"
    assert send("$union", {"regions": ["eu", "us", "eu"]}) == "1"
    assert send("$remove", {"regions": "us"}) == "1"
    assert send("$unset", ["plan"]) == "1"
    assert send("$set", {"x": 1}, group_id="gone") == "1"
    assert send("$delete", "", group_id="gone") == "1"
    assert send("$set", {"n": 1}, key="team") == "1"
    assert sandbox.store.group_profiles("company") == [
        ("acme", {"size": 1, "founded": 1999, "regions": ["eu"]})
    ]
    assert sandbox.store.group_profiles("team") == [("acme", {"n": 1})]


def test_groups_refuse_a_record_without_its_group_key(sandbox: Sandbox) -> None:
    record = {"$token": sandbox.project_token, "$group_id": "acme", "$set": {"a": 1}}
    answer = _post_form(sandbox, "/groups", json.dumps(record), verbose="1")
    assert answer.json() == {"error": "records[0]: $group_key, missing or empty", "status": 0}
    assert sandbox.store.group_profiles("company") == []


# --- $merge through /import ---------------------------------------------------------------------


def test_merge_needs_only_the_distinct_ids_and_the_token(sandbox: Sandbox) -> None:
    merge = {"event": "$merge", "properties": {"$distinct_ids": ["a", "b"]}}
    merge["properties"]["token"] = sandbox.project_token
    answer = requests.post(
        f"{sandbox.base_url}/import?strict=1", json=[merge], auth=_secret(sandbox), timeout=5
    )
    assert answer.json() == {"code": 200, "num_records_imported": 1, "status": "OK"}
    assert sandbox.store.alias_map() == {"b": "a"}
    assert sandbox.store.raw_event_count() == 0  # an identity operation, not an event


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"$distinct_ids": ["a"]}, "properties.$distinct_ids"),
        ({"$distinct_ids": "a,b"}, "properties.$distinct_ids"),
        ({"$distinct_ids": ["a", "b"], "token": ""}, "properties.token"),
        ({"$distinct_ids": ["a", "b"], "token": "other"}, "properties.token"),
    ],
)
def test_merge_refusals_name_the_field(
    sandbox: Sandbox, properties: dict[str, Any], field: str
) -> None:
    merge = {"event": "$merge", "properties": properties}
    answer = requests.post(
        f"{sandbox.base_url}/import?strict=1", json=[merge], auth=_secret(sandbox), timeout=5
    )
    assert answer.status_code == 400
    assert answer.json()["failed_records"][0]["field"] == field
    assert sandbox.store.alias_map() == {}
