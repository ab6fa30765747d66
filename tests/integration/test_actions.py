"""The first actions end to end, against cassettes of the exchange Mixpanel's OpenAPI defines."""

from __future__ import annotations

from typing import Any

import pytest

from connector import ClientError, Component, InputError
from tests.conftest import NothingMayBeSent

EVENTS = [
    {
        "event": "Signed up",
        "properties": {
            "time": 1618716477000,
            "distinct_id": "user-12345",
            "$insert_id": "29fc2962-6d9c-455d-95ad-95b84f09b9e4",
        },
    },
    {
        "event": "Purchase",
        "properties": {
            "time": 1618716478000,
            "distinct_id": "user-67890",
            "$insert_id": "5e7fd0e1-0c4c-4a5b-9d7e-3b1f4e6c2a10",
            "amount": 9.99,
        },
    },
]
FUNNELS = [
    {"funnel_id": 7509, "name": "Signup funnel"},
    {"funnel_id": 9070, "name": "Funnel tutorial"},
]


# --- createAlias -------------------------------------------------------------------------------


@pytest.mark.vcr
def test_create_alias(component: Component, connection: dict[str, str]) -> None:
    inputs = {"region": "api-eu", "alias": "user-alias-67890", "distinct_id": "user-12345"}
    result = component.run("createAlias", {**inputs, "strict": "1"}, connection)
    assert result == {"data": 1}


@pytest.mark.vcr
def test_create_alias_verbose(component: Component, connection: dict[str, str]) -> None:
    inputs = {"alias": "user-alias-67890", "distinct_id": "user-12345", "verbose": "1"}
    result = component.run("createAlias", inputs, connection)
    assert result == {"data": {"error": None, "status": 1}}


@pytest.mark.vcr
def test_create_alias_rejected(component: Component, connection: dict[str, str]) -> None:
    with pytest.raises(ClientError, match="Mixpanel rejected the alias \\(it answered 0\\)"):
        component.run(
            "createAlias", {"alias": "user-alias-67890", "distinct_id": "user-12345"}, connection
        )


# --- importEvents ------------------------------------------------------------------------------


@pytest.mark.vcr
def test_import_events(component: Component, connection: dict[str, str]) -> None:
    # gzip off: the cassette predates gzip as /import's default and matches Content-Encoding.
    inputs = {"events": EVENTS, "project_id": "2891273", "gzip": "false"}
    result = component.run("importEvents", inputs, connection)
    assert result == {
        "data": {
            "code": 200,
            "num_records_imported": 2,
            "status": "OK",
            "records_sent": 2,
            "records_imported": 2,
            "records_failed": 0,
            "requests": 1,
            "requests_retried": 0,
            "requests_throttled": 0,
            "concurrency": 16,
        }
    }


@pytest.mark.vcr
def test_import_events_project_token_gzip(component: Component, connection: dict[str, str]) -> None:
    """Project-token auth needs no project_id; the body goes gzip-compressed."""
    inputs = {"events": EVENTS[:1], "useProjectToken": "true", "gzip": "true"}
    result = component.run("importEvents", inputs, connection)
    assert result == {
        "data": {
            "code": 200,
            "num_records_imported": 1,
            "status": "OK",
            "records_sent": 1,
            "records_imported": 1,
            "records_failed": 0,
            "requests": 1,
            "requests_retried": 0,
            "requests_throttled": 0,
            "concurrency": 16,
        }
    }


@pytest.mark.vcr
def test_import_events_partial_failure(component: Component, connection: dict[str, str]) -> None:
    """A 400 with failed_records reports what was imported and what failed; no exception."""
    inputs = {"events": EVENTS, "project_id": "2891273", "region": "api-eu", "gzip": "false"}
    data = component.run("importEvents", inputs, connection)["data"]
    assert data["num_records_imported"] == 1
    assert data["failed_records"] == [
        {
            "index": 1,
            "$insert_id": "5e7fd0e1-0c4c-4a5b-9d7e-3b1f4e6c2a10",
            "field": "properties.time",
            "message": "'properties.time' is invalid: must not be more than 1h in the future",
        }
    ]


# --- queryProfiles -----------------------------------------------------------------------------


@pytest.mark.vcr
def test_query_profiles(component: Component, connection: dict[str, str]) -> None:
    inputs = {
        "regionAndDomain": "eu.mixpanel",
        "project_id": "2891273",
        "workspace_id": "3847562",
        "distinct_ids": "user-12345, user-67890",
        "where": "properties['account_id'] in [1,2,3,4]",
        "output_properties": "$last_name, $email, Total Spent",
        "cohortFilters": {"filter_by_cohort": '{"id":12345}', "include_all_users": "false"},
    }
    result = component.run("queryProfiles", inputs, connection)
    assert result == component.spec.actions["queryProfiles"].sample


@pytest.mark.vcr
def test_query_profiles_next_page(component: Component, connection: dict[str, str]) -> None:
    inputs = {
        "project_id": "2891273",
        "pagination": {"session_id": "1234567890-EXAMPL", "page": "1"},
        "behaviors": 'event("Purchase").count() > 5',
        "as_of_timestamp": "1609459200",
    }
    result = component.run("queryProfiles", inputs, connection)
    assert result["data"]["page"] == 1 and result["data"]["results"] == []


@pytest.mark.vcr
def test_query_profiles_cohort_default(component: Component, connection: dict[str, str]) -> None:
    """A cohort filter alone sends Mixpanel's default include_all_users=true."""
    inputs = {"project_id": "2891273", "cohortFilters": {"filter_by_cohort": '{"id":12345}'}}
    result = component.run("queryProfiles", inputs, connection)
    assert result["data"]["results"] == [] and result["data"]["total"] == 0


# --- listSavedFunnels and the funnels data source ----------------------------------------------


@pytest.mark.vcr
def test_list_saved_funnels_project_token(component: Component, connection: dict[str, str]) -> None:
    inputs = {"project_id": "2891273", "workspace_id": "3847562", "useProjectToken": "true"}
    result = component.run("listSavedFunnels", inputs, connection)
    assert result == {"data": FUNNELS}


@pytest.mark.vcr
def test_list_saved_funnels(component: Component, connection: dict[str, str]) -> None:
    result = component.run("listSavedFunnels", {"project_id": "2891273"}, connection)
    assert result == {"data": FUNNELS}


@pytest.mark.vcr
def test_funnels_data_source(component: Component, connection: dict[str, str]) -> None:
    inputs = {"project_id": "2891273", "regionAndDomain": "in.mixpanel", "workspace_id": "3847562"}
    result = component.fetch("funnels", inputs, connection)
    assert result == {
        "result": [
            {"label": "Signup funnel", "key": "7509"},
            {"label": "Funnel tutorial", "key": "9070"},
        ]
    }


# --- bad inputs send nothing -------------------------------------------------------------------

GOOD: dict[str, dict[str, Any]] = {
    "createAlias": {"alias": "a-1", "distinct_id": "d-1"},
    "importEvents": {"events": EVENTS, "project_id": "2891273"},
    "queryProfiles": {"project_id": "2891273"},
    "listSavedFunnels": {"project_id": "2891273"},
    "funnels": {"project_id": "2891273"},
}

BAD = [
    pytest.param("createAlias", {"alias": ""}, "alias", "is required", id="alias-missing"),
    pytest.param(
        "createAlias", {"region": "us"}, "region", "Valid values are: 'api'", id="alias-region"
    ),
    pytest.param(
        "createAlias", {"verbose": "maybe"}, "verbose", "expected true or false", id="alias-verbose"
    ),
    pytest.param("importEvents", {"events": "[{"}, "events", "is not valid JSON", id="import-json"),
    pytest.param("importEvents", {"events": "{}"}, "events", "is required", id="import-empty"),
    pytest.param(
        "importEvents", {"events": '{"a": 1}'}, "events", "is not of type 'array'", id="import-type"
    ),
    pytest.param(
        "importEvents", {"project_id": ""}, "project_id", "service account", id="import-project"
    ),
    pytest.param(
        "importEvents", {"strict": "2"}, "strict", "expected true or false", id="import-strict"
    ),
    pytest.param(
        "importEvents",
        {
            "events": '[{"event": "x", "properties": '
            '{"time": 1618716477, "distinct_id": "d", "$insert_id": "no spaces!"}}]'
        },
        "events",
        "at Events[0].properties.$insert_id",
        id="import-insert-id",
    ),
    pytest.param(
        "queryProfiles", {"project_id": ""}, "project_id", "is required", id="profiles-project"
    ),
    pytest.param("queryProfiles", {"page": "two"}, "page", "whole number", id="profiles-page-type"),
    pytest.param(
        "queryProfiles", {"page": "2"}, "page", "needs the Session ID", id="profiles-page-session"
    ),
    pytest.param(
        "queryProfiles",
        {"behaviors": "x", "filter_by_cohort": '{"id": 1}'},
        "behaviors",
        "mutually exclusive",
        id="profiles-exclusive",
    ),
    pytest.param(
        "queryProfiles",
        {"filter_by_cohort": "{id: 1}"},
        "filter_by_cohort",
        "not valid JSON",
        id="profiles-cohort-json",
    ),
    pytest.param(
        "queryProfiles",
        {"filter_by_cohort": '{"name": 1}'},
        "filter_by_cohort",
        "'id' is a required",
        id="profiles-cohort-shape",
    ),
    pytest.param(
        "queryProfiles",
        {"regionAndDomain": "api"},
        "regionAndDomain",
        "Valid values",
        id="profiles-region",
    ),
    pytest.param(
        "listSavedFunnels",
        {"project_id": "my-project"},
        "project_id",
        "expected form",
        id="funnels-project",
    ),
    pytest.param(
        "listSavedFunnels",
        {"useProjectToken": "perhaps"},
        "useProjectToken",
        "true or false",
        id="funnels-flag",
    ),
    pytest.param(
        "funnels", {"workspace_id": "ws-1"}, "workspace_id", "expected form", id="ds-workspace"
    ),
]


@pytest.mark.parametrize(("key", "change", "input_key", "message"), BAD)
def test_bad_inputs_name_the_input_and_send_nothing(
    component: Component,
    connection: dict[str, str],
    key: str,
    change: dict[str, Any],
    input_key: str,
    message: str,
) -> None:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    call = component.fetch if key in component.spec.data_sources else component.run
    with pytest.raises(InputError) as caught:
        call(key, {**GOOD[key], **change}, connection)
    assert input_key in [problem.key for problem in caught.value.errors]
    assert message in str(caught.value)
