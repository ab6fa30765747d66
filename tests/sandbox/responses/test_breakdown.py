"""The Query API as clients call it (GET or POST, /api/query or /api/2.0), from stored data."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox

PREFIXES = ["/api/query", "/api/2.0"]


@pytest.fixture(scope="module")
def filled() -> Iterator[Sandbox]:
    """Events of today and yesterday, three user profiles and two group profiles."""
    with Sandbox() as sb:
        now = int(time.time())
        today = now - now % 86400 + min(60, now % 86400)  # early today, never in the future
        yesterday = today - 86400
        rows = [  # b's event twice: one event once de-duplicated
            ("Signed Up", "a", today, "r1", {"browser": "Firefox", "plan": "pro"}),
            ("Signed Up", "b", today, "r2", {"browser": "Chrome"}),
            ("Signed Up", "b", today, "r2", {"browser": "Chrome"}),
            ("Signed Up", "c", yesterday, "r3", {"browser": "Chrome"}),
            ("Purchase", "a", today, "r4", {"amount": 5}),
        ]
        sb.store.add_events(
            {
                "event": name,
                "properties": {"distinct_id": did, "time": t, "$insert_id": rid, **props},
            }
            for name, did, t, rid, props in rows
        )
        updates = [
            {"$token": sb.project_token, "$distinct_id": "a", "$set": {"plan": "pro", "n": 1}},
            {"$token": sb.project_token, "$distinct_id": "b", "$set": {"plan": "free"}},
            {"$token": sb.project_token, "$distinct_id": "c", "$set": {"tags": ["x"]}},
        ]
        assert _post(sb, "/engage", updates).text == "1"
        groups = [
            {"$token": sb.project_token, "$group_key": "company", "$group_id": "acme"}
            | {"$set": {"size": 10}},
            {"$token": sb.project_token, "$group_key": "company", "$group_id": "zeta"}
            | {"$set": {"size": 2, "ok": True}},
        ]
        assert _post(sb, "/groups", groups).text == "1"
        yield sb
        assert sb.errors == []


def _post(sb: Sandbox, path: str, records: list[dict[str, Any]]) -> requests.Response:
    return requests.post(f"{sb.base_url}{path}", json=records, timeout=5)


def _query(
    sb: Sandbox,
    path: str,
    method: str = "GET",
    *,
    auth: tuple[str, str] | None = None,
    **params: Any,
) -> requests.Response:
    auth = auth or (sb.username, sb.password)
    params = {"project_id": sb.project_id, **params}
    if method == "GET":
        return requests.get(f"{sb.base_url}{path}", params=params, auth=auth, timeout=5)
    return requests.post(f"{sb.base_url}{path}", data=params, auth=auth, timeout=5)


def _days() -> tuple[str, str]:
    today = dt.datetime.now(dt.UTC).date()
    return (today - dt.timedelta(days=1)).isoformat(), today.isoformat()


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_engage_answers_on_both_prefixes_with_get_or_post(
    filled: Sandbox, prefix: str, method: str
) -> None:
    answer = _query(filled, f"{prefix}/engage", method, where='properties["plan"] == "pro"')
    assert answer.status_code == 200
    assert [r["$distinct_id"] for r in answer.json()["results"]] == ["a"]


def test_engage_reads_group_profiles_by_data_group_id(filled: Sandbox) -> None:
    answer = _query(filled, "/api/2.0/engage", data_group_id="company", where='properties["ok"]')
    assert answer.json()["results"] == [
        {"$distinct_id": "zeta", "$properties": {"size": 2, "ok": True}}
    ]
    everyone = _query(filled, "/api/query/engage", data_group_id="company").json()
    assert [r["$distinct_id"] for r in everyone["results"]] == ["acme", "zeta"]


def test_cohorts_are_counted_over_the_stored_profiles(filled: Sandbox) -> None:
    for prefix in PREFIXES:
        answer = _query(filled, f"{prefix}/cohorts/list", "POST").json()
        assert [(c["id"], c["name"], c["count"]) for c in answer] == [
            (1000, "Paying users", 2),
            (2000, "Everyone", 3),
        ]
        assert set(answer[0]) == {"count", "is_visible", "description", "created", "project_id"} | {
            "id",
            "name",
        }
    cohort = _query(filled, "/api/query/engage", filter_by_cohort='{"id": 1000}').json()
    assert sorted(r["$distinct_id"] for r in cohort["results"]) == ["a", "b"]


def test_engage_properties_lists_the_stored_profiles_properties(filled: Sandbox) -> None:
    answer = _query(filled, "/api/2.0/engage/properties").json()
    assert answer["results"] == {
        "n": {"count": 1, "type": "number"},
        "plan": {"count": 2, "type": "string"},
        "tags": {"count": 1, "type": "list"},
    }
    groups = _query(filled, "/api/query/engage/properties", data_group_id="company").json()
    assert set(groups["results"]) == {"size", "ok"} and groups["results"]["ok"]["type"] == "boolean"


def test_events_counts_each_event_per_day(filled: Sandbox) -> None:
    start, end = _days()
    params = {"event": '["Signed Up", "Purchase"]', "from_date": start, "to_date": end}
    answer = _query(filled, "/api/query/events", **params).json()
    assert answer == {
        "data": {
            "series": [start, end],
            "values": {"Signed Up": {start: 1, end: 2}, "Purchase": {start: 0, end: 1}},
        },
        "legend_size": 2,
    }
    unique = _query(filled, "/api/2.0/events", type="unique", **params).json()
    assert unique["data"]["values"]["Signed Up"] == {start: 1, end: 2}


def test_segmentation_segments_on_a_property(filled: Sandbox) -> None:
    start, end = _days()
    params = {"event": "Signed Up", "from_date": start, "to_date": end}
    plain = _query(filled, "/api/2.0/segmentation", **params).json()
    assert plain["data"]["values"] == {"Signed Up": {start: 1, end: 2}}
    by_browser = _query(filled, "/api/query/segmentation", on='properties["browser"]', **params)
    assert by_browser.json()["data"]["values"] == {
        "Chrome": {start: 1, end: 1},
        "Firefox": {start: 0, end: 1},
    }
    where = _query(filled, "/api/query/segmentation", where='properties["plan"] == "pro"', **params)
    assert where.json()["data"]["values"] == {"Signed Up": {start: 0, end: 1}}


def test_event_property_breakdowns(filled: Sandbox) -> None:
    start, end = _days()
    params = {"event": "Signed Up", "name": "browser", "from_date": start, "to_date": end}
    answer = _query(filled, "/api/query/events/properties", values='["Chrome"]', **params)
    assert answer.json()["data"]["values"] == {"Chrome": {start: 1, end: 1}}
    top = _query(filled, "/api/query/events/properties/top", event="Signed Up").json()
    assert top == {"browser": {"count": 3}, "plan": {"count": 1}}
    values = _query(filled, "/api/2.0/events/properties/values", event="Signed Up", name="browser")
    assert values.json() == ["Chrome", "Firefox"]


def test_event_property_values_must_be_one_json_array(filled: Sandbox) -> None:
    start, end = _days()
    params = {"event": "Signed Up", "name": "browser", "from_date": start, "to_date": end}
    both = ["Chrome", "Firefox"]  # requests repeats the parameter: values=Chrome&values=Firefox
    repeated = _query(filled, "/api/query/events/properties", values=both, **params)
    assert repeated.status_code == 400
    assert repeated.json()["error"] == 'values must be a JSON array, e.g. ["female", "unknown"]'


def test_query_event_property_values_action_filters_on_the_sandbox(filled: Sandbox) -> None:
    start, end = _days()
    component = load_component(base_url=filled.base_url, rate_registry=BudgetRegistry())
    inputs = {"event": "Signed Up", "name": "browser", "type": "general", "unit": "day"}
    dates = {"from_date": start, "to_date": end, "project_id": filled.project_id}
    connection = {"username": filled.username, "password": filled.password}
    answer = component.run(
        "queryEventPropertyValues", {**inputs, **dates, "values": ["Chrome"]}, connection
    )
    assert answer["data"]["data"]["values"] == {"Chrome": {start: 1, end: 1}}


def test_event_names_and_top_events(filled: Sandbox) -> None:
    assert _query(filled, "/api/query/events/names").json() == ["Signed Up", "Purchase"]
    top = _query(filled, "/api/query/events/top", limit="1").json()
    assert top == {
        "events": [{"amount": 2, "event": "Signed Up", "percent_change": 1.0}],
        "type": "general",
    }


def test_bad_parameters_are_refused_in_the_query_shape(filled: Sandbox) -> None:
    answer = _query(filled, "/api/2.0/events", from_date="2024-01-01", to_date="2024-01-02")
    assert answer.status_code == 400
    assert answer.json() == {
        "request": "/api/2.0/events",
        "error": 'event is required: a JSON array of event names, e.g. ["Signed Up"]',
    }
    start, end = _days()
    wrong = _query(
        filled, "/api/query/events", event='["E"]', from_date=start, to_date=end, unit="year"
    )
    assert (
        wrong.status_code == 400 and "unit must be one of day, week, month" in wrong.json()["error"]
    )


@pytest.mark.parametrize("path", ["/api/query/engage", "/api/2.0/engage", "/api/2.0/export"])
def test_the_project_token_reads_nothing(filled: Sandbox, path: str) -> None:
    start, end = _days()
    token = (filled.project_token, "")
    answer = _query(filled, path, auth=token, from_date=start, to_date=end)
    assert answer.status_code == 401
    assert "the project token authenticates only ingestion" in answer.json()["error"]
    secret = _query(filled, path, auth=(filled.project_secret, ""), from_date=start, to_date=end)
    assert secret.status_code == 200


def test_jql_is_refused_on_both_prefixes(filled: Sandbox) -> None:
    for prefix in PREFIXES:
        answer = _query(filled, f"{prefix}/jql", "POST", script="function main() {}")
        assert answer.status_code == 501
        assert "does not run JQL" in answer.json()["error"]
