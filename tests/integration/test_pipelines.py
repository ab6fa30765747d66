"""Data pipeline actions and the pipelines data source against hand-written cassettes.

Each cassette holds the exchange Mixpanel's data-pipelines OpenAPI defines; the tests also prove
that bad inputs are refused before anything is sent and that a pipeline name never changes a path.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from connector import AuthError, ClientError, Component, InputError
from connector.prepare.inputs import validate_inputs
from connector.prepare.render import render_request
from connector.prepare.request import HTTPRequest
from connector.send.response import RawResponse
from tests.conftest import NothingMayBeSent

PIPELINE = "events-daily-export"
NASTY_NAME = "../../jobs?project_id=1#x"
PIPELINES_BASE = "/api/2.0/nessie/pipeline/"
STATUS_JOB = {
    "project_id": 2891273,
    "name": PIPELINE,
    "from_date": "2024-01-01",
    "to_date": "2024-01-01",
}


class CannedTransport:
    """A transport that answers every request with one JSON body and records the requests."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.sent: list[HTTPRequest] = []

    def send(self, request: HTTPRequest, authorization: str | None) -> RawResponse:
        self.sent.append(request)
        return RawResponse(200, {"content-type": "application/json"}, self.body)


def rendered(
    component: Component, key: str, inputs: dict[str, Any], connection: dict[str, str]
) -> HTTPRequest:
    """The real request an action or data source would send (not sent)."""
    op = {**component.spec.actions, **component.spec.data_sources}[key]
    values = validate_inputs(op, inputs, connection)
    return render_request(op, values, connection)


# --- createGCSPipeline ----------------------------------------------------------------------


@pytest.mark.vcr
def test_create_gcs_pipeline(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "createGCSPipeline",
        {
            "dataAndDomain": "data-eu",
            "gcs_bucket": "my-mixpanel-exports",
            "gcs_prefix": "mixpanel/events",
            "gcs_region": "europe-west3",
            "project_id": "2891273",
            "from_date": "2024-01-01",
            "to_date": "2024-01-31",
            "trial": "false",
            "events": "Signed Up, Purchase, Page View",
            "where": "properties['account_id'] in [1,2,3,4]",
        },
        connection,
    )
    assert result == {"data": {"pipeline_names": ["events-daily-gcs-raw"]}}


@pytest.mark.vcr
def test_create_gcs_pipeline_trial(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "createGCSPipeline",
        {"gcs_bucket": "my-mixpanel-exports", "project_id": "2891273", "trial": "true"},
        connection,
    )
    assert result == {"data": {"pipeline_names": ["trial-events-daily-gcs-raw"]}}


@pytest.mark.vcr
def test_create_gcs_pipeline_bad_request(component: Component, connection: dict[str, str]) -> None:
    with pytest.raises(ClientError) as caught:
        component.run(
            "createGCSPipeline",
            {
                "gcs_bucket": "my-mixpanel-exports",
                "gcs_region": "us-east1",
                "project_id": "2891273",
                "from_date": "2020-01-01",
                "frequency": "hourly",
            },
            connection,
        )
    assert caught.value.status == 400
    assert "cannot be more than six months in the past" in str(caught.value)


def test_create_gcs_pipeline_events_as_json_array_keep_commas(
    component: Component, connection: dict[str, str]
) -> None:
    request = rendered(
        component,
        "createGCSPipeline",
        {
            "gcs_bucket": "b",
            "project_id": "1",
            "from_date": "2024-01-01",
            "events": '["Added to cart, mobile", "Purchase"]',
        },
        connection,
    )
    pairs = parse_qsl((request.content or b"").decode())
    assert [v for k, v in pairs if k == "events"] == ["Added to cart, mobile", "Purchase"]


# --- editGCSPipeline ------------------------------------------------------------------------


@pytest.mark.vcr
def test_edit_gcs_pipeline(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "editGCSPipeline",
        {
            "name": PIPELINE,
            "project_id": "2891273",
            "events": ["Signed Up", "Purchase"],
            "where": "properties['account_id'] in [1,2,3,4]",
        },
        connection,
    )
    assert result == {"data": None}


# --- deletePipeline -------------------------------------------------------------------------


@pytest.mark.vcr
def test_delete_pipeline(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "deletePipeline",
        {"dataAndDomain": "data-eu", "name": PIPELINE, "project_id": "2891273"},
        connection,
    )
    assert result == {"data": None}


@pytest.mark.vcr
def test_delete_pipeline_name_is_only_a_form_value(
    component: Component, connection: dict[str, str]
) -> None:
    result = component.run(
        "deletePipeline", {"name": NASTY_NAME, "project_id": "2891273"}, connection
    )
    assert result == {"data": None}


def test_delete_pipeline_uses_service_account_by_default(
    component: Component, connection: dict[str, str]
) -> None:
    default = rendered(
        component, "deletePipeline", {"name": PIPELINE, "project_id": "1"}, connection
    )
    chosen = rendered(
        component, "deletePipeline", {"name": PIPELINE, "useProjectToken": "true"}, connection
    )
    assert default.auth_scheme == "service_account"
    assert chosen.auth_scheme == "project_token"
    assert parse_qsl((chosen.content or b"").decode()) == [("name", PIPELINE)]


# --- getPipeline ----------------------------------------------------------------------------


@pytest.mark.vcr
def test_get_pipeline(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "getPipeline",
        {
            "project_id": "2891273",
            "name": PIPELINE,
            "summary": "false",
            "status": "retried, canceled",
        },
        connection,
    )
    assert result == {
        "data": {
            "canceled": [
                {
                    **STATUS_JOB,
                    "state": "canceled",
                    "last_finish": "2024-01-02T00:10:00Z",
                    "run_at": "2024-01-02T00:00:00Z",
                }
            ],
            "retried": [
                {
                    **STATUS_JOB,
                    "state": "retried",
                    "last_finish": "2024-01-03T00:12:00Z",
                    "run_at": "2024-01-03T00:00:00Z",
                    "from_date": "2024-01-02",
                    "to_date": "2024-01-02",
                }
            ],
        }
    }


@pytest.mark.vcr
def test_get_pipeline_sends_no_example_defaults(
    component: Component, connection: dict[str, str]
) -> None:
    result = component.run("getPipeline", {"project_id": "2891273", "name": NASTY_NAME}, connection)
    assert result == {
        "data": {
            "succeeded": [
                {
                    **STATUS_JOB,
                    "name": NASTY_NAME,
                    "state": "succeeded",
                    "last_finish": "2024-01-02T00:10:00Z",
                    "run_at": "2024-01-02T00:00:00Z",
                }
            ]
        }
    }


@pytest.mark.vcr
def test_get_pipeline_unauthorized(component: Component, connection: dict[str, str]) -> None:
    with pytest.raises(AuthError) as caught:
        component.run("getPipeline", {"project_id": "2891273", "name": PIPELINE}, connection)
    assert caught.value.status == 401
    assert "Invalid service account credentials" in str(caught.value)
    assert connection["password"] not in str(caught.value)


# --- listPipelines and the pipelines data source --------------------------------------------


@pytest.mark.vcr
def test_list_pipelines(component: Component, connection: dict[str, str]) -> None:
    result = component.run("listPipelines", {"project_id": "9876543210"}, connection)
    assert result == {
        "data": {
            "9876543210": [
                {
                    "name": "events-daily-bigquery-monoschema",
                    "Dispatcher": "backfill",
                    "last_dispatched": "2019-02-01 12:00:00 US/Pacific",
                    "frequency": "hourly",
                    "sync_enabled": "true",
                }
            ]
        }
    }


@pytest.mark.vcr
def test_pipelines_data_source(component: Component, connection: dict[str, str]) -> None:
    result = component.fetch(
        "pipelines", {"dataAndDomain": "data-eu", "project_id": "9876543210"}, connection
    )
    assert result == {
        "result": [
            {
                "label": "events-daily-bigquery-monoschema - PipelineId: 9876543210",
                "key": "events-daily-bigquery-monoschema",
            },
            {
                "label": "events-daily-bigquery-multischema - PipelineId: 9876543210",
                "key": "events-daily-bigquery-multischema",
            },
            {"label": "events-daily-gcs-raw - PipelineId: 1234567", "key": "events-daily-gcs-raw"},
        ]
    }
    assert not any("undefined" in e["label"] or "None" in e["label"] for e in result["result"])


def test_pipelines_data_source_skips_entries_without_a_name(
    component: Component, connection: dict[str, str]
) -> None:
    component.transport = CannedTransport(
        b'{"1": [{"name": "a"}, {"Dispatcher": "backfill"}], "2": [], "3": [{"name": "b"}]}'
    )
    result = component.fetch("pipelines", {"project_id": "1"}, connection)
    assert result == {
        "result": [
            {"label": "a - PipelineId: 1", "key": "a"},
            {"label": "b - PipelineId: 3", "key": "b"},
        ]
    }


def test_pipelines_data_source_sends_the_list_pipelines_request(
    component: Component, connection: dict[str, str]
) -> None:
    inputs = {"dataAndDomain": "data-in", "project_id": "42"}
    assert component.preview("pipelines", inputs, connection) == component.preview(
        "listPipelines", inputs, connection
    )


# --- cross-cutting wire properties ----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "inputs", "path"),
    [
        ("getPipeline", {"project_id": "1"}, "status"),
        ("deletePipeline", {"project_id": "1"}, "cancel"),
        ("editGCSPipeline", {"project_id": "1", "where": "x"}, "edit"),
    ],
)
@pytest.mark.parametrize("name", ["a/b", "..", "../cancel", "x?y=1", "x#frag", "%2F..%2F"])
def test_pipeline_name_never_changes_the_path(
    component: Component,
    connection: dict[str, str],
    key: str,
    inputs: dict[str, Any],
    path: str,
    name: str,
) -> None:
    request = rendered(component, key, {**inputs, "name": name}, connection)
    url = urlsplit(request.full_url)
    assert url.path == PIPELINES_BASE + path
    assert url.fragment == ""
    if request.method == "GET":
        assert dict(parse_qsl(url.query))["name"] == name
    else:
        assert url.query == ""
        assert dict(parse_qsl((request.content or b"").decode()))["name"] == name


@pytest.mark.parametrize(
    ("key", "inputs", "idempotent"),
    [
        ("createGCSPipeline", {"gcs_bucket": "b", "project_id": "1", "trial": "1"}, False),
        ("editGCSPipeline", {"name": "n", "project_id": "1", "where": "x"}, True),
        ("deletePipeline", {"name": "n", "project_id": "1"}, True),
        ("getPipeline", {"name": "n", "project_id": "1"}, True),
        ("listPipelines", {"project_id": "1"}, True),
        ("pipelines", {"project_id": "1"}, True),
    ],
)
def test_only_create_is_not_idempotent(
    component: Component,
    connection: dict[str, str],
    key: str,
    inputs: dict[str, Any],
    idempotent: bool,
) -> None:
    assert rendered(component, key, inputs, connection).retry["idempotent"] is idempotent


# --- bad inputs: refused before anything is sent --------------------------------------------

VALID_CREATE = {"gcs_bucket": "b", "project_id": "2891273", "from_date": "2024-01-01"}


@pytest.mark.parametrize(
    ("key", "inputs", "bad_key", "says"),
    [
        ("createGCSPipeline", {**VALID_CREATE, "gcs_bucket": ""}, "gcs_bucket", "is required"),
        ("createGCSPipeline", {**VALID_CREATE, "gcs_region": "mars-1"}, "gcs_region", "Valid"),
        ("createGCSPipeline", {**VALID_CREATE, "frequency": "weekly"}, "frequency", "hourly"),
        ("createGCSPipeline", {**VALID_CREATE, "from_date": ""}, "from_date", "unless Trial"),
        (
            "createGCSPipeline",
            {**VALID_CREATE, "trial": "0", "from_date": None},
            "from_date",
            "`trial`",
        ),
        (
            "createGCSPipeline",
            {**VALID_CREATE, "from_date": "01/01/2024"},
            "from_date",
            "YYYY-MM-DD",
        ),
        ("createGCSPipeline", {**VALID_CREATE, "to_date": "2024-1-31"}, "to_date", "YYYY-MM-DD"),
        ("createGCSPipeline", {**VALID_CREATE, "trial": "maybe"}, "trial", "true or false"),
        ("createGCSPipeline", {**VALID_CREATE, "project_id": "abc"}, "project_id", "form"),
        ("createGCSPipeline", {**VALID_CREATE, "project_id": ""}, "project_id", "is required"),
        ("createGCSPipeline", {**VALID_CREATE, "events": '["A",'}, "events", "not valid JSON"),
        ("createGCSPipeline", {**VALID_CREATE, "events": {"a": 1}}, "events", "list"),
        ("createGCSPipeline", {**VALID_CREATE, "gcs_buckets": "b"}, "gcs_buckets", "gcs_bucket"),
        ("editGCSPipeline", {"name": "n", "project_id": "1"}, "events", "at least one"),
        ("editGCSPipeline", {"project_id": "1", "where": "x"}, "name", "is required"),
        ("editGCSPipeline", {"name": "n", "where": "x"}, "project_id", "is required"),
        ("deletePipeline", {"name": "n"}, "project_id", "service account"),
        ("deletePipeline", {"project_id": "1"}, "name", "is required"),
        ("deletePipeline", {"name": "n", "useProjectToken": "sometimes"}, "useProjectToken", ""),
        ("deletePipeline", {"name": "n", "dataAndDomain": "data-us"}, "dataAndDomain", "data-eu"),
        ("getPipeline", {"name": "n", "project_id": "1", "status": "pending,bogus"}, "status", ""),
        ("getPipeline", {"name": "n", "project_id": "1", "status": "Pending"}, "status", ""),
        ("getPipeline", {"name": "n", "project_id": "1", "summary": "maybe"}, "summary", "true"),
        ("getPipeline", {"project_id": "1"}, "name", "is required"),
        ("getPipeline", {"name": "n"}, "project_id", "is required"),
        ("listPipelines", {}, "project_id", "is required"),
        ("listPipelines", {"project_id": "12 OR 1"}, "project_id", "form"),
        ("pipelines", {}, "project_id", "is required"),
    ],
)
def test_bad_inputs_are_refused_before_sending(
    component: Component,
    connection: dict[str, str],
    key: str,
    inputs: dict[str, Any],
    bad_key: str,
    says: str,
) -> None:
    component.transport = NothingMayBeSent()
    call = component.fetch if key in component.spec.data_sources else component.run
    with pytest.raises(InputError) as caught:
        call(key, inputs, connection)
    keys = [problem.key for problem in caught.value.errors]
    assert bad_key in keys
    assert f"`{bad_key}`" in str(caught.value)
    assert says in str(caught.value)


def test_service_account_is_required_for_pipeline_calls(component: Component) -> None:
    component.transport = NothingMayBeSent()
    with pytest.raises(InputError) as caught:
        component.run(
            "listPipelines", {"project_id": "1"}, {"projectToken": "TESTTOKENdeadbeef00112233"}
        )
    assert {p.key for p in caught.value.errors} == {"username", "password"}


# --- the rendered requests fit Mixpanel's OpenAPI (tests/contract/wire.py) ------------------


@pytest.mark.parametrize(
    ("key", "inputs"),
    [
        ("createGCSPipeline", {**VALID_CREATE, "events": "A, B", "frequency": "hourly"}),
        (
            "createGCSPipeline",
            {**VALID_CREATE, "trial": "true", "to_date": "2024-02-01", "gcs_prefix": "p/q"},
        ),
        ("editGCSPipeline", {"name": NASTY_NAME, "project_id": "1", "events": "A, B"}),
        ("deletePipeline", {"name": NASTY_NAME, "project_id": "1"}),
        ("getPipeline", {"name": NASTY_NAME, "project_id": "1", "status": "failed,timed_out"}),
        ("getPipeline", {"name": "n", "project_id": "1", "summary": "true"}),
        ("listPipelines", {"project_id": "1", "dataAndDomain": "data-in"}),
        ("pipelines", {"project_id": "1"}),
    ],
)
def test_rendered_requests_fit_the_openapi(
    component: Component, connection: dict[str, str], key: str, inputs: dict[str, Any]
) -> None:
    wire = pytest.importorskip("tests.contract.wire")
    op = {**component.spec.actions, **component.spec.data_sources}[key]
    request, authorization = component.prepare(op, inputs, connection)
    headers = {**request.headers, "Authorization": authorization or ""}
    found = wire.check_wire_request(
        wire.WireRequest(request.method, request.full_url, headers, request.content),
        op.openapi["operation_id"],
    )
    assert found == []
