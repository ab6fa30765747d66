"""Query API and raw export actions end to end against cassettes hand-written from the OpenAPI."""

from __future__ import annotations

from typing import Any

import pytest

from connector import AuthError, ClientError, Component, InputError
from tests.conftest import SECRET_VALUES, TEST_CONNECTION, NothingMayBeSent
from tests.specs.seed import read_seed

# The seed's sample outputs; each cassette's response body is written out independently.
SEED = read_seed()
FUNNEL_REPORT = SEED["queryFunnelSavedReports"].sample["data"]
INSIGHTS_REPORT = SEED["queryInsightsSavedReports"].sample["data"]

JQL_SCRIPT = "function main(){return Events(params).groupBy(['name'],mixpanel.reducer.count())}"


@pytest.fixture
def offline(component: Component) -> Component:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    return component


def _keys(error: InputError) -> list[str]:
    return [problem.key for problem in error.errors]


# --- customJQLQuery ---------------------------------------------------------------------------


@pytest.mark.vcr
def test_custom_jql_query(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "customJQLQuery",
        {
            "script": JQL_SCRIPT,
            "params": '{"from_date": "2024-01-01", "to_date": "2024-01-31"}',
            "project_id": "2891273",
            "workspace_id": "3847562",
        },
        connection,
    )
    assert result == {
        "data": [{"key": ["Page View"], "value": 1024}, {"key": ["Signed up"], "value": 87}]
    }


@pytest.mark.vcr
def test_custom_jql_query_script_error(component: Component, connection: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        component.run(
            "customJQLQuery",
            {
                "regionAndDomain": "eu.mixpanel",
                "script": "function main(){return Events(params).nope()}",
                "params": "",
                "project_id": "2891273",
            },
            connection,
        )
    assert caught.value.status == 400
    assert "Events(...).nope is not a function" in str(caught.value)


def test_custom_jql_query_params_parsed_object_is_sent_as_json_text(
    component: Component, connection: dict[str, str]
) -> None:
    op = component.spec.actions["customJQLQuery"]
    request, _ = component.prepare(
        op,
        {"script": JQL_SCRIPT, "params": {"event_name": "Page View"}, "project_id": "1"},
        connection,
    )
    assert request.body == {"script": JQL_SCRIPT, "params": '{"event_name":"Page View"}'}
    assert request.full_url == "https://mixpanel.com/api/query/jql?project_id=1"


@pytest.mark.parametrize(
    ("inputs", "bad_key"),
    [
        ({"project_id": "2891273"}, "script"),
        ({"script": JQL_SCRIPT}, "project_id"),
        ({"script": JQL_SCRIPT, "project_id": "28912x73"}, "project_id"),
        ({"script": JQL_SCRIPT, "project_id": "1", "params": "{from_date: 2016-01-01}"}, "params"),
        ({"script": JQL_SCRIPT, "project_id": "1", "params": '["not", "an object"]'}, "params"),
        ({"script": JQL_SCRIPT, "project_id": "1", "workspace_id": "ws-1"}, "workspace_id"),
        ({"script": JQL_SCRIPT, "project_id": "1", "regionAndDomain": "us"}, "regionAndDomain"),
    ],
)
def test_custom_jql_query_bad_inputs(
    offline: Component, connection: dict[str, str], inputs: dict[str, Any], bad_key: str
) -> None:
    with pytest.raises(InputError) as caught:
        offline.run("customJQLQuery", inputs, connection)
    assert bad_key in _keys(caught.value)
    assert f"`{bad_key}`" in str(caught.value)


# --- queryFunnelSavedReports ------------------------------------------------------------------


@pytest.mark.vcr
def test_query_funnel_saved_reports(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "queryFunnelSavedReports",
        {
            "funnel_id": "7509",
            "from_date": "2016-09-12",
            "to_date": "2016-09-26",
            "project_id": "2891273",
            "workspace_id": "3847562",
            "length": "7",
            "length_unit": "day",
            "interval": "",
            "unit": "week",
            "on": "",
            "where": "",
            "limit": "",
        },
        connection,
    )
    assert result == {"data": FUNNEL_REPORT}


@pytest.mark.vcr
def test_query_funnel_saved_reports_segmented(
    component: Component, connection: dict[str, str]
) -> None:
    inputs = {
        "funnel_id": "7509",
        "from_date": "2016-09-12",
        "to_date": "2016-09-26",
        "project_id": "2891273",
        "interval": "7",
        "segmentation": {"on": 'properties["$browser"]', "limit": "10"},
    }
    result = component.run("queryFunnelSavedReports", inputs, connection)
    assert result == {"data": {"meta": {"dates": []}, "data": {}}}


@pytest.mark.vcr
def test_query_funnel_saved_reports_grouped_segmentation(
    component: Component, connection: dict[str, str]
) -> None:
    # Old callers send the `segmentation` group object and the old `seconds` unit.
    result = component.run(
        "queryFunnelSavedReports",
        {
            "regionAndDomain": "eu.mixpanel",
            "useProjectToken": "false",
            "funnel_id": 7509,
            "from_date": "2016-09-12",
            "to_date": "2016-09-26",
            "project_id": 2891273,
            "length": 3600,
            "length_unit": "seconds",
            "segmentation": {"on": "", "where": "properties['account_id'] in [1,2,3,4]"},
        },
        connection,
    )
    assert result == {"data": FUNNEL_REPORT}


def test_query_funnel_saved_reports_project_token_auth(
    component: Component, connection: dict[str, str]
) -> None:
    op = component.spec.actions["queryFunnelSavedReports"]
    base = {"funnel_id": "7509", "from_date": "2024-01-01", "to_date": "2024-01-31"}
    request, header = component.prepare(
        op, {**base, "project_id": "1", "useProjectToken": "true"}, connection
    )
    assert request.auth_scheme == "project_token"
    request, header = component.prepare(op, {**base, "project_id": "1"}, connection)
    assert request.auth_scheme == "service_account"


FUNNEL_BASE = {
    "funnel_id": "7509",
    "from_date": "2024-01-01",
    "to_date": "2024-01-31",
    "project_id": "2891273",
}


@pytest.mark.parametrize(
    ("changes", "bad_key"),
    [
        ({"funnel_id": ""}, "funnel_id"),
        ({"funnel_id": "Signup funnel"}, "funnel_id"),
        ({"from_date": None}, "from_date"),
        ({"to_date": "31/01/2024"}, "to_date"),
        ({"from_date": "2024-02-01"}, "from_date"),
        ({"project_id": ""}, "project_id"),
        ({"length": "a week"}, "length"),
        ({"length": "0"}, "length"),
        ({"length_unit": "week"}, "length_unit"),
        ({"length": "91", "length_unit": "day"}, "length"),
        ({"length": "2161", "length_unit": "hour"}, "length"),
        ({"unit": "year"}, "unit"),
        ({"interval": "1.5"}, "interval"),
        ({"limit": "10001"}, "limit"),
        ({"segmentation": {"limit": "many"}}, "limit"),
        ({"useProjectToken": "maybe"}, "useProjectToken"),
        ({"regionAndDomain": "api-eu"}, "regionAndDomain"),
        ({"funnelId": "7509"}, "funnelId"),
    ],
)
def test_query_funnel_saved_reports_bad_inputs(
    offline: Component, connection: dict[str, str], changes: dict[str, Any], bad_key: str
) -> None:
    with pytest.raises(InputError) as caught:
        offline.run("queryFunnelSavedReports", {**FUNNEL_BASE, **changes}, connection)
    assert bad_key in _keys(caught.value)
    assert f"`{bad_key}`" in str(caught.value)


# --- queryInsightsSavedReports ----------------------------------------------------------------


@pytest.mark.vcr
def test_query_insights_saved_reports(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "queryInsightsSavedReports",
        {"bookmark_id": "8947562", "project_id": "2891273", "workspace_id": "3847562"},
        connection,
    )
    assert result == {"data": INSIGHTS_REPORT}


@pytest.mark.vcr
def test_query_insights_saved_reports_unauthorized(
    component: Component, connection: dict[str, str]
) -> None:
    with pytest.raises(AuthError) as caught:
        component.run(
            "queryInsightsSavedReports",
            {"regionAndDomain": "in.mixpanel", "bookmark_id": "8947562", "project_id": "2891273"},
            connection,
        )
    message = str(caught.value)
    assert caught.value.status == 401
    assert "Invalid credentials" in message
    assert "Username" in message and "Password" in message
    for secret in (*SECRET_VALUES, TEST_CONNECTION["username"]):
        assert secret not in message
        assert secret not in repr(caught.value.body)


@pytest.mark.parametrize(
    ("inputs", "bad_key"),
    [
        ({"project_id": "2891273"}, "bookmark_id"),
        ({"project_id": "2891273", "bookmark_id": "report-8947562"}, "bookmark_id"),
        ({"bookmark_id": "8947562"}, "project_id"),
        ({"bookmark_id": "8947562", "project_id": "2891273", "workspace_id": "x"}, "workspace_id"),
    ],
)
def test_query_insights_saved_reports_bad_inputs(
    offline: Component, connection: dict[str, str], inputs: dict[str, Any], bad_key: str
) -> None:
    with pytest.raises(InputError) as caught:
        offline.run("queryInsightsSavedReports", inputs, connection)
    assert bad_key in _keys(caught.value)
    assert f"`{bad_key}`" in str(caught.value)


def test_query_insights_saved_reports_needs_service_account(offline: Component) -> None:
    with pytest.raises(InputError) as caught:
        offline.run(
            "queryInsightsSavedReports",
            {"bookmark_id": "8947562", "project_id": "2891273"},
            {"projectToken": TEST_CONNECTION["projectToken"]},
        )
    assert "username" in _keys(caught.value)


# --- downloadData -----------------------------------------------------------------------------


@pytest.mark.vcr
def test_download_data(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "downloadData",
        {
            "from_date": "2020-10-13",
            "to_date": "2020-10-15",
            "project_id": "2891273",
            "event": "Signed up",
            "where": "",
            "limit": "100",
            "gzipEncoding": "false",
        },
        connection,
    )
    assert result == {
        "data": [
            {
                "event": "Signed up",
                "properties": {
                    "time": 1602611311,
                    "$insert_id": "hpuDqcvpltpCjBsebtxwadtEBDnFAdycabFb",
                    "mp_processing_time_ms": 1602625711874,
                },
            },
            {
                "event": "Signed up",
                "properties": {
                    "time": 1602787121,
                    "$insert_id": "jajcebutltmvhbbholfhxtCcycwnBjDtndha",
                    "mp_processing_time_ms": 1602801521561,
                },
            },
            {
                "event": "Signed up",
                "properties": {
                    "time": 1602790000,
                    "distinct_id": "user-12345",
                    "$insert_id": "bX3kq9ZtPq0Lr7cVw1Yh2Ns5Jd8Fg4Ua",
                    "mp_processing_time_ms": 1602804400123,
                },
            },
        ]
    }


@pytest.mark.vcr
def test_download_data_filters_group(component: Component, connection: dict[str, str]) -> None:
    # Old callers send the `filters` group object; two event names go out as one JSON array.
    result = component.run(
        "downloadData",
        {
            "dataAndDomain": "data-eu",
            "from_date": "2020-10-13",
            "to_date": "2020-10-15",
            "project_id": "2891273",
            "filters": {
                "event": "Signed up, Purchase",
                "where": 'properties["$os"] == "iOS"',
                "limit": "",
                "gzipEncoding": True,
            },
        },
        connection,
    )
    assert result == {
        "data": [
            {
                "event": "Purchase",
                "properties": {
                    "time": 1602611400,
                    "distinct_id": "user-12345",
                    "$os": "iOS",
                    "$insert_id": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
                    "mp_processing_time_ms": 1602625800001,
                },
            }
        ]
    }


@pytest.mark.parametrize(("flag", "expected"), [("true", "gzip"), ("false", None), ("", None)])
def test_download_data_gzip_encoding_header(
    component: Component, connection: dict[str, str], flag: str, expected: str | None
) -> None:
    op = component.spec.actions["downloadData"]
    inputs = {
        "from_date": "2024-01-01",
        "to_date": "2024-01-31",
        "project_id": "1",
        "gzipEncoding": flag,
    }
    request, _ = component.prepare(op, inputs, connection)
    assert request.headers.get("Accept-Encoding") == expected
    assert request.full_url == (
        "https://data.mixpanel.com/api/2.0/export"
        "?project_id=1&from_date=2024-01-01&to_date=2024-01-31"
    )


def test_download_data_event_json_array_input(
    component: Component, connection: dict[str, str]
) -> None:
    op = component.spec.actions["downloadData"]
    inputs = {
        "from_date": "2024-01-01",
        "to_date": "2024-01-31",
        "project_id": "1",
        "event": '["Checkout, step 1", "Page View"]',
    }
    request, _ = component.prepare(op, inputs, connection)
    assert ("event", '["Checkout, step 1","Page View"]') in request.params


# --- queryEventPropertyValues -------------------------------------------------------------------

PROPERTY_VALUES = {
    "event": "Purchase",
    "name": "plan",
    "type": "general",
    "unit": "day",
    "from_date": "2024-01-01",
    "to_date": "2024-01-31",
    "project_id": "1",
}


@pytest.mark.parametrize("values", [["pro", "free"], "pro, free", '["pro", "free"]'])
def test_query_event_property_values_sends_values_as_one_json_array(
    offline: Component, connection: dict[str, str], values: Any
) -> None:
    op = offline.spec.actions["queryEventPropertyValues"]
    request, _ = offline.prepare(op, {**PROPERTY_VALUES, "values": values}, connection)
    sent = [value for key, value in request.params if key == "values"]
    assert sent == ['["pro","free"]']  # one parameter, not `values=pro&values=free`


def test_query_event_property_values_without_values_sends_none(
    offline: Component, connection: dict[str, str]
) -> None:
    op = offline.spec.actions["queryEventPropertyValues"]
    request, _ = offline.prepare(op, PROPERTY_VALUES, connection)
    assert "values" not in [key for key, _ in request.params]


EXPORT_BASE = {"from_date": "2024-01-01", "to_date": "2024-01-31", "project_id": "2891273"}


@pytest.mark.parametrize(
    ("changes", "bad_key"),
    [
        ({"from_date": ""}, "from_date"),
        ({"to_date": None}, "to_date"),
        ({"from_date": "2024-1-1"}, "from_date"),
        ({"from_date": "2024-03-01"}, "from_date"),
        ({"project_id": ""}, "project_id"),
        ({"project_id": "my-project"}, "project_id"),
        ({"limit": "100001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"filters": {"limit": 0}}, "limit"),
        ({"gzipEncoding": "sometimes"}, "gzipEncoding"),
        ({"event": {"name": "Page View"}}, "event"),
        ({"dataAndDomain": "eu"}, "dataAndDomain"),
    ],
)
def test_download_data_bad_inputs(
    offline: Component, connection: dict[str, str], changes: dict[str, Any], bad_key: str
) -> None:
    with pytest.raises(InputError) as caught:
        offline.run("downloadData", {**EXPORT_BASE, **changes}, connection)
    assert bad_key in _keys(caught.value)
    assert f"`{bad_key}`" in str(caught.value)


def test_download_data_malformed_group(offline: Component, connection: dict[str, str]) -> None:
    with pytest.raises(InputError) as caught:
        offline.run("downloadData", {**EXPORT_BASE, "filters": "{limit: 5"}, connection)
    assert "JSON" in str(caught.value)
