"""The sandbox over HTTP: auth shapes, ingestion validation, de-duplication, queries, export."""

from __future__ import annotations

import base64
import gzip
import json
import time
from typing import Any

import pytest
import requests

from connector import AuthError, ClientError, Component, InputError, ServerError
from connector.sandbox import Sandbox


def _events(n: int, *, prefix: str = "e", name: str = "Played", ago: int = 60) -> list[Any]:
    now = int(time.time()) - ago
    return [
        {
            "event": name,
            "properties": {
                "distinct_id": f"u{i % 7}",
                "time": now + i,
                "$insert_id": f"{prefix}{i}",
            },
        }
        for i in range(n)
    ]


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def _import(sandbox: Sandbox, events: list[Any]) -> requests.Response:
    """POST /import with strict=1 and the service account, bypassing the connector's checks."""
    url = f"{sandbox.base_url}/import?strict=1&project_id={sandbox.project_id}"
    auth = _basic(sandbox.username, sandbox.password)
    return requests.post(url, json=events, headers=auth, timeout=10)


def test_import_stores_duplicates_and_queries_count_them_once(
    sandbox: Sandbox, component: Component
) -> None:
    inputs = {"events": _events(10), "project_id": sandbox.project_id}
    first = component.run("importEvents", inputs, sandbox.connection)
    component.run("importEvents", inputs, sandbox.connection)
    assert first["data"] == {
        "code": 200,
        "num_records_imported": 10,
        "status": "OK",
        "records_sent": 10,
        "records_imported": 10,
        "records_failed": 0,
        "requests": 1,
        "requests_retried": 0,
        "requests_throttled": 0,
        "concurrency": 16,
    }
    assert sandbox.store.raw_event_count() == 20
    assert sandbox.store.dedup_event_count() == 10


def test_import_strict_partial_failure_names_each_record(sandbox: Sandbox) -> None:
    events = _events(3)
    events[1]["properties"]["$insert_id"] = "not valid!"
    events[2]["properties"]["time"] = "yesterday"
    response = _import(sandbox, events)
    assert response.status_code == 400
    body = response.json()
    assert body["num_records_imported"] == 1
    assert [(f["index"], f["field"]) for f in body["failed_records"]] == [
        (1, "properties.$insert_id"),
        (2, "properties.time"),
    ]
    assert sandbox.store.raw_event_count() == 1


def test_import_limits_and_gzip(sandbox: Sandbox) -> None:
    url = f"{sandbox.base_url}/import?strict=1&project_id={sandbox.project_id}"
    auth = _basic(sandbox.username, sandbox.password)
    too_many = _import(sandbox, _events(2001))
    assert too_many.status_code == 413
    assert too_many.json()["error"] == "request exceeds max limit of 2000 records"
    body = gzip.compress(json.dumps(_events(5)).encode())
    zipped = requests.post(
        url,
        data=body,
        headers={**auth, "Content-Encoding": "gzip", "Content-Type": "application/json"},
        timeout=5,
    )
    assert zipped.json()["num_records_imported"] == 5


@pytest.mark.parametrize(
    ("headers", "query", "status", "message"),
    [
        ({}, "project_id={pid}", 401, "Unable to authenticate request"),
        ("wrong", "project_id={pid}", 401, "Invalid credentials"),
        ("right", "", 400, "project_id is required"),
        ("right", "project_id=1", 403, "no access to project 1"),
    ],
)
def test_service_account_checks(
    sandbox: Sandbox, headers: Any, query: str, status: int, message: str
) -> None:
    if headers == "wrong":
        headers = _basic(sandbox.username, "nope")
    elif headers == "right":
        headers = _basic(sandbox.username, sandbox.password)
    url = f"{sandbox.base_url}/api/query/funnels/list?" + query.format(pid=sandbox.project_id)
    response = requests.get(url, headers=headers, timeout=5)
    assert response.status_code == status
    assert set(response.json()) == {"request", "error"}
    assert message in response.json()["error"]


def test_wrong_credentials_raise_auth_error(sandbox: Sandbox, component: Component) -> None:
    connection = {**sandbox.connection, "password": "wrong-secret"}
    with pytest.raises(AuthError):
        component.run("listSavedFunnels", {"project_id": sandbox.project_id}, connection)


def test_track_checks_the_token_in_the_body(sandbox: Sandbox, component: Component) -> None:
    event = [{"event": "Opened", "properties": {"distinct_id": "u1"}}]
    assert component.run("trackEvents", {"events": event}, sandbox.connection)["data"] == 1
    other = {**sandbox.connection, "projectToken": "0123456789abcdef"}
    with pytest.raises(AuthError):
        component.run("trackEvents", {"events": event}, other)
    assert sandbox.store.raw_event_count() == 1
    stored = sandbox.store.recent_events(1)[0]
    assert stored["properties"]["token"] == sandbox.project_token  # stored as delivered


def test_track_rejects_old_events_verbosely(sandbox: Sandbox) -> None:
    data = json.dumps(_events(1, ago=10 * 86400))
    data = data.replace('"properties": {', f'"properties": {{"token": "{sandbox.project_token}", ')
    response = requests.post(f"{sandbox.base_url}/track?verbose=1", data={"data": data}, timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == 0
    assert "more than 5 days old" in response.json()["error"]


def test_engage_operations(sandbox: Sandbox, component: Component) -> None:
    updates = [
        {"$distinct_id": "u1", "$set": {"plan": "free", "n": 1, "tags": ["a"]}},
        {"$distinct_id": "u1", "$set_once": {"plan": "pro", "first": "x"}},
        {"$distinct_id": "u1", "$add": {"n": 4}},
        {"$distinct_id": "u1", "$union": {"tags": ["a", "b"]}},
        {"$distinct_id": "u1", "$append": {"tags": "a"}},
        {"$distinct_id": "u1", "$remove": {"tags": "b"}},
        {"$distinct_id": "u1", "$unset": ["first"]},
        {"$distinct_id": "u2", "$set": {"plan": "pro"}},
        {"$distinct_id": "u2", "$delete": ""},
    ]
    component.run("updateMultipleProfiles", {"propertiesToUpdate": updates}, sandbox.connection)
    assert sandbox.store.profile("u1") == {"plan": "free", "n": 5, "tags": ["a", "a"]}
    assert sandbox.store.profile("u2") is None


def test_profile_query_where_and_paging(sandbox: Sandbox, component: Component) -> None:
    sandbox.engage_page_size = 3
    updates = [{"$distinct_id": f"u{i}", "$set": {"n": i, "even": i % 2 == 0}} for i in range(8)]
    component.run("updateMultipleProfiles", {"propertiesToUpdate": updates}, sandbox.connection)
    pid = sandbox.project_id
    first = component.run(
        "queryProfiles",
        {"project_id": pid, "where": 'properties["n"] > 1 and properties["even"] == true'},
        sandbox.connection,
    )["data"]
    assert [r["$distinct_id"] for r in first["results"]] == ["u2", "u4", "u6"]
    assert first["total"] == 3
    everyone = component.run(
        "queryProfiles", {"project_id": pid, "output_properties": '["n"]'}, sandbox.connection
    )["data"]
    assert everyone["total"] == 8 and len(everyone["results"]) == 3
    assert everyone["results"][0]["$properties"] == {"n": 0}
    page2 = component.run(
        "queryProfiles",
        {"project_id": pid, "session_id": everyone["session_id"], "page": "2"},
        sandbox.connection,
    )["data"]
    assert [r["$distinct_id"] for r in page2["results"]] == ["u6", "u7"]


def test_alias_and_identify_merge_ids(sandbox: Sandbox, component: Component) -> None:
    conn = sandbox.connection
    component.run("createAlias", {"alias": "mail@x", "distinct_id": "user-1"}, conn)
    component.run(
        "createIdentity",
        {"identified_id": "user-1", "anon_id": "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"},
        conn,
    )
    component.run(
        "createProfile",
        {
            "properties": [
                {"$distinct_id": "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b", "$set": {"a": 1}}
            ]
        },
        conn,
    )
    assert sandbox.store.profile("user-1") == {"a": 1}
    assert sandbox.store.profile("mail@x") == {"a": 1}
    found = component.run(
        "queryProfiles", {"project_id": sandbox.project_id, "distinct_ids": '["mail@x"]'}, conn
    )["data"]
    assert [r["$distinct_id"] for r in found["results"]] == ["user-1"]


def test_funnel_counts_deduplicated_events(sandbox: Sandbox, component: Component) -> None:
    now = int(time.time()) - 600
    steps = ["App Open", "Signed Up", "Purchase"]
    events = []
    for user, reached in (("a", 3), ("b", 2), ("c", 1)):
        for i in range(reached):
            events.append(
                {
                    "event": steps[i],
                    "properties": {
                        "distinct_id": user,
                        "time": now + i,
                        "$insert_id": f"{user}{i}",
                    },
                }
            )
    pid = sandbox.project_id
    for _ in range(2):  # duplicates must not count twice
        component.run("importEvents", {"events": events, "project_id": pid}, sandbox.connection)
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    result = component.run(
        "queryFunnelSavedReports",
        {"project_id": pid, "funnel_id": "7509", "from_date": day, "to_date": day},
        sandbox.connection,
    )["data"]
    assert [s["count"] for s in result["data"][day]["steps"]] == [3, 2, 1]
    assert result["data"][day]["analysis"]["completion"] == 1


def test_export_filters_and_keeps_duplicates(sandbox: Sandbox, component: Component) -> None:
    pid = sandbox.project_id
    events = _events(4) + _events(2, prefix="x", name="Other")
    events[0]["properties"]["plan"] = "pro"
    for _ in range(2):
        component.run("importEvents", {"events": events, "project_id": pid}, sandbox.connection)
    day = time.strftime("%Y-%m-%d", time.gmtime())
    base = {"project_id": pid, "from_date": day, "to_date": day}
    everything = component.run("downloadData", base, sandbox.connection)["data"]
    assert len(everything) == 12
    played = component.run("downloadData", {**base, "event": '["Played"]'}, sandbox.connection)
    assert len(played["data"]) == 8
    pro = component.run(
        "downloadData",
        {**base, "where": 'properties["plan"] == "pro"', "limit": "1"},
        sandbox.connection,
    )["data"]
    assert [e["properties"]["$insert_id"] for e in pro] == ["e0"]


def test_jql_answers_501_with_a_clear_message(sandbox: Sandbox, component: Component) -> None:
    with pytest.raises(ServerError) as caught:
        component.run(
            "customJQLQuery",
            {"project_id": sandbox.project_id, "script": "function main(){}"},
            sandbox.connection,
        )
    assert caught.value.status == 501
    assert "does not run JQL" in str(caught.value)


def test_unknown_path_is_404_in_mixpanel_shape(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.base_url}/nope", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"error": "unknown path /nope", "status": "error"}
    # /api/2.0 is the Query API's legacy prefix (the export and pipelines aside): its shape
    response = requests.get(f"{sandbox.base_url}/api/2.0/nope", timeout=5)
    assert response.status_code == 404
    assert response.json() == {"request": "/api/2.0/nope", "error": "unknown path /api/2.0/nope"}


def test_bad_input_never_reaches_the_sandbox(sandbox: Sandbox, component: Component) -> None:
    with pytest.raises(InputError):
        component.run("importEvents", {"events": "not json"}, sandbox.connection)
    assert sandbox.store.requests() == []


def test_import_refuses_more_than_10_mb(sandbox: Sandbox) -> None:
    events = _events(1000)
    for event in events:
        event["properties"]["padding"] = "x" * 10_500
    response = _import(sandbox, events)
    assert response.status_code == 413
    assert response.json()["error"] == "request exceeds max limit of 10485760 bytes"
    assert sandbox.store.raw_event_count() == 0


def test_track_img_answers_a_gif(sandbox: Sandbox, component: Component) -> None:
    event = [{"event": "Opened", "properties": {"distinct_id": "u1"}}]
    answer = component.run("trackEvents", {"events": event, "img": "1"}, sandbox.connection)
    assert base64.b64decode(answer["data"])[:6] == b"GIF89a"


def test_export_is_gzipped_only_when_asked(sandbox: Sandbox, component: Component) -> None:
    component.run(
        "importEvents", {"events": _events(3), "project_id": sandbox.project_id}, sandbox.connection
    )
    day = time.strftime("%Y-%m-%d", time.gmtime())
    url = f"{sandbox.base_url}/api/2.0/export?project_id={sandbox.project_id}"
    url += f"&from_date={day}&to_date={day}&time_in_ms=true"
    auth = _basic(sandbox.username, sandbox.password)
    plain = requests.get(url, headers={**auth, "Accept-Encoding": "identity"}, timeout=5)
    assert "Content-Encoding" not in plain.headers
    lines = [json.loads(line) for line in plain.text.splitlines()]
    assert len(lines) == 3 and lines[0]["properties"]["time"] % 1000 == 0
    assert "token" not in lines[0]["properties"]
    zipped = requests.get(url, headers={**auth, "Accept-Encoding": "gzip"}, timeout=5, stream=True)
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.raw.read()) == plain.content


def test_pipeline_limits_and_lifecycle(sandbox: Sandbox, component: Component) -> None:
    conn, pid = sandbox.connection, sandbox.project_id
    gcs = {"project_id": pid, "gcs_bucket": "b", "gcs_region": "us-east1"}
    old = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 200 * 86400))
    with pytest.raises(ClientError, match="cannot be more than six months in the past"):
        component.run("createGCSPipeline", {**gcs, "from_date": old}, conn)
    created = component.run("createGCSPipeline", {**gcs, "trial": "true"}, conn)["data"]
    assert created == {"pipeline_names": ["trial-events-daily-gcs-raw"]}
    with pytest.raises(ClientError, match="already exists"):
        component.run("createGCSPipeline", {**gcs, "trial": "true"}, conn)
    name = {"project_id": pid, "name": "trial-events-daily-gcs-raw"}
    component.run("editGCSPipeline", {**name, "events": "Purchase"}, conn)
    (pipeline,) = sandbox.store.pipelines(pid)
    params = pipeline["params"]
    assert params["events"] == "Purchase" and params["gcs_bucket"] == "b"
    component.run("deletePipeline", name, conn)
    assert component.run("listPipelines", {"project_id": pid}, conn)["data"] == {pid: []}
    status = component.run("getPipeline", name, conn)["data"]
    assert status["canceled"][0]["state"] == "canceled"
    auth = _basic(sandbox.username, sandbox.password)
    paused = requests.post(
        f"{sandbox.base_url}/api/2.0/nessie/pipeline/pause",
        data={"name": "nope", "project_id": pid},
        headers=auth,
        timeout=5,
    )
    assert paused.status_code == 404 and paused.json()["status"] == "error"


def test_each_api_answers_auth_errors_in_its_own_shape(sandbox: Sandbox) -> None:
    wrong = _basic(sandbox.username, "wrong")
    pid = sandbox.project_id
    imported = requests.post(
        f"{sandbox.base_url}/import?project_id={pid}", json=_events(1), headers=wrong, timeout=5
    )
    assert imported.status_code == 401
    assert imported.json() == {
        "code": 401,
        "error": "Invalid credentials",
        "status": "Unauthorized",
    }
    jobs = requests.get(
        f"{sandbox.base_url}/api/2.0/nessie/pipeline/jobs?project_id={pid}",
        headers=wrong,
        timeout=5,
    )
    assert jobs.status_code == 401
    assert jobs.json() == {"error": "Invalid credentials", "status": "error"}


def test_import_with_the_project_token_as_username(sandbox: Sandbox, component: Component) -> None:
    inputs = {"events": _events(2), "useProjectToken": "true", "project_id": sandbox.project_id}
    result = component.run("importEvents", inputs, sandbox.connection)
    assert result["data"]["num_records_imported"] == 2
    assert sandbox.store.raw_event_count() == 2


@pytest.mark.parametrize("depth", [101, 5_000, 100_000])
def test_deep_json_in_a_body_or_a_filter_is_a_400_naming_it(sandbox: Sandbox, depth: int) -> None:
    auth = _basic(sandbox.username, sandbox.password)
    nested = "[" * depth + "]" * depth
    body = '[{"event": "e", "properties": {"x": ' + nested + "}}]"
    url = f"{sandbox.base_url}/import?strict=1&project_id={sandbox.project_id}"
    answer = requests.post(
        url, data=body, headers={**auth, "Content-Type": "application/json"}, timeout=10
    )
    assert answer.status_code == 400
    assert "the body nests objects and arrays deeper than 100 levels" in answer.text
    where = "(" * min(depth, 3_000) + "true" + ")" * min(depth, 3_000)
    export = requests.get(
        f"{sandbox.base_url}/api/2.0/export",
        params={
            "project_id": sandbox.project_id,
            "from_date": "2024-01-01",
            "to_date": "2024-01-01",
            "where": where,
        },
        headers=auth,
        timeout=10,
    )
    assert export.status_code == 400 and "deeper than 32 levels" in export.text
