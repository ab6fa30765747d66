"""The generic HTTP actions (rawRequest, createGenericPipeline, editGenericPipeline) end to end.

Cassettes hold the exchanges Mixpanel's OpenAPI defines; cases that must inspect what goes on the
wire beyond what a cassette matches (headers, multipart, binary answers) use a capturing
requests adapter instead, and input errors prove that nothing is sent at all.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter

from connector import ClientError, Component, InputError
from connector.core.redact import basic_header
from connector.send.transport import Transport
from tests.conftest import TEST_CONNECTION, NothingMayBeSent

FUNNELS = [
    {"funnel_id": 7509, "name": "Signup funnel"},
    {"funnel_id": 9070, "name": "Funnel tutorial"},
]


class _Capture(BaseAdapter):
    """A requests adapter that records the prepared request and answers with a fixed response."""

    def __init__(self, body: bytes = b"{}", content_type: str = "application/json") -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []
        self.body = body
        self.content_type = content_type

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = self.content_type
        response._content = self.body
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def _capturing(component: Component, adapter: _Capture) -> None:
    session = requests.Session()
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    component.transport = Transport(session)


# --- rawRequest --------------------------------------------------------------------------------


@pytest.mark.vcr
def test_raw_request(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "rawRequest",
        {
            "baseUrl": "https://mixpanel.com/api/query",
            "url": "/funnels/list",
            "method": "GET",
            "queryParams": "project_id: 2891273",
            "headers": "User-Agent: curl/7.64.1",
            "timeout": "2000",
        },
        connection,
    )
    assert result == {"data": FUNNELS}


@pytest.mark.vcr
def test_raw_request_text_response(component: Component, connection: dict[str, str]) -> None:
    events = [
        {
            "event": "Signed up",
            "properties": {
                "token": "725a93138a7d12e00f16912848590ae7",
                "distinct_id": "user-12345",
                "time": 1618716477,
                "$insert_id": "29fc2962-6d9c-455d-95ad-95b84f09b9e4",
            },
        }
    ]
    result = component.run(
        "rawRequest",
        {
            "baseUrl": "https://api-eu.mixpanel.com/",
            "url": "/track",
            "method": "POST",
            "data": json.dumps(events),
            "queryParams": [{"key": "ip", "value": "0"}],
            "responseType": "text",
        },
        connection,
    )
    assert result == {"data": "1"}


def test_raw_request_other_host_is_refused(
    component: Component, connection: dict[str, str]
) -> None:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    with pytest.raises(InputError) as caught:
        component.run(
            "rawRequest",
            {"baseUrl": "https://example.com", "url": "/api/status", "method": "GET"},
            connection,
        )
    assert caught.value.errors[0].key == "url"
    assert "example.com" in str(caught.value)


def test_raw_request_absolute_url_to_other_host_is_refused(
    component: Component, connection: dict[str, str]
) -> None:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    with pytest.raises(InputError, match="example.com"):
        component.run(
            "rawRequest",
            {
                "baseUrl": "https://api.mixpanel.com/",
                "url": "https://example.com/x",
                "method": "GET",
            },
            connection,
        )


@pytest.mark.vcr
def test_raw_request_any_host(component: Component, connection: dict[str, str]) -> None:
    result = component.run(
        "rawRequest",
        {
            "baseUrl": "https://example.com",
            "url": "/api/status",
            "method": "GET",
            "queryParams": {"check": "1"},
            "allowAnyHost": "true",
        },
        connection,
    )
    assert result == {"data": {"ok": True}}


def test_raw_request_authorization_header_cannot_be_overridden(
    component: Component, connection: dict[str, str]
) -> None:
    adapter = _Capture(b"[]")
    _capturing(component, adapter)
    component.run(
        "rawRequest",
        {
            "baseUrl": "https://mixpanel.com/api/query",
            "url": "/funnels/list",
            "method": "GET",
            "headers": "authorization: Basic Zm9yZ2VkOg==\nX-Trace: abc",
        },
        connection,
    )
    sent = adapter.sent[0]
    expected = basic_header(connection["username"], connection["password"])
    assert sent.headers["Authorization"] == expected
    assert sent.headers["X-Trace"] == "abc"


def test_raw_request_falls_back_to_project_token(component: Component) -> None:
    adapter = _Capture(b"1", "text/plain")
    _capturing(component, adapter)
    token_only = {"projectToken": TEST_CONNECTION["projectToken"]}
    result = component.run(
        "rawRequest",
        {
            "baseUrl": "https://api.mixpanel.com",
            "url": "/track",
            "method": "POST",
            "data": '[{"event": "Signed up"}]',
        },
        token_only,
    )
    assert result == {"data": 1}
    sent = adapter.sent[0]
    assert sent.headers["Authorization"] == basic_header(TEST_CONNECTION["projectToken"], "")
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.body == b'[{"event":"Signed up"}]'


def test_raw_request_multipart_upload(component: Component, connection: dict[str, str]) -> None:
    adapter = _Capture()
    _capturing(component, adapter)
    component.run(
        "rawRequest",
        {
            "baseUrl": "https://api.mixpanel.com",
            "url": "/upload",
            "method": "POST",
            "formData": [{"key": "Example Key", "value": "Hello World"}],
            "fileData": [{"key": "example.txt", "value": "My File Contents"}],
            "fileDataFileNames": "example.txt: contents.txt",
        },
        connection,
    )
    sent = adapter.sent[0]
    body = sent.body if isinstance(sent.body, bytes) else str(sent.body).encode()
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="Example Key"\r\n\r\nHello World' in body
    assert b'name="example.txt"; filename="contents.txt"\r\n\r\nMy File Contents' in body


def test_raw_request_binary_response(component: Component, connection: dict[str, str]) -> None:
    _capturing(component, _Capture(b"\x89PNG\x00\x01", "image/png"))
    for response_type in ("binary", "arraybuffer"):
        result = component.run(
            "rawRequest",
            {
                "baseUrl": "https://api.mixpanel.com",
                "url": "/track",
                "method": "GET",
                "responseType": response_type,
            },
            connection,
        )
        assert result == {"data": base64.b64encode(b"\x89PNG\x00\x01").decode()}


def test_raw_request_timeout_and_retry_settings(
    component: Component, connection: dict[str, str]
) -> None:
    op = component.spec.actions["rawRequest"]
    inputs = {
        "baseUrl": "https://api.mixpanel.com",
        "url": "/engage",
        "method": "GET",
        "timeout": "2500",
        "maxRetries": "3",
        "retryDelayMS": "500",
        "retryAllErrors": "yes",
        "useExponentialBackoff": "true",
    }
    request, _ = component.prepare(op, inputs, connection)
    assert request.timeout_s == 2.5
    assert request.retry == {
        "idempotent": True,
        "max_retries": 3,
        "delay_ms": 500,
        "exponential": True,
        "all_errors": True,
    }
    request, _ = component.prepare(
        op, {"baseUrl": "https://api.mixpanel.com", "url": "/import", "method": "POST"}, connection
    )
    assert request.timeout_s is None
    # Left empty, the retry inputs render to nothing and the connector's default policy applies.
    assert request.retry == {"idempotent": False}


# --- createGenericPipeline ---------------------------------------------------------------------


@pytest.mark.vcr
def test_create_generic_pipeline(component: Component, connection: dict[str, str]) -> None:
    params = {
        "type": "gcs-raw",
        "project_id": 2891273,
        "trial": False,
        "from_date": "2024-01-01",
        "frequency": "daily",
        "events": ["Signed up", "Purchase"],
        "gcs_bucket": "my-mixpanel-export",
        "gcs_prefix": "raw",
        "gcs_region": "us-east1",
    }
    result = component.run("createGenericPipeline", {"data": json.dumps(params)}, connection)
    assert result == {
        "data": {
            "pipeline_names": [
                "trial-events-daily-bigquery-monoschema",
                "trial-people-daily-bigquery-monoschema",
            ],
            "bigquery_dataset_name": (
                "https://bigquery.cloud.google.com/dataset/mixpanel-prod-1:sample_dataset_name"
            ),
        }
    }


@pytest.mark.vcr
def test_create_generic_pipeline_form_data(
    component: Component, connection: dict[str, str]
) -> None:
    result = component.run(
        "createGenericPipeline",
        {
            "dataAndDomain": "data-eu",
            "url": "/nessie/pipeline/create",
            "method": "POST",
            "formData": (
                "type: s3-raw\nproject_id: 2891273\nfrom_date: 2024-01-01\n"
                "s3_bucket: my-mixpanel-export\ns3_region: eu-west-1\n"
                "s3_role: arn:aws:iam::123456789012:role/mixpanel-export"
            ),
        },
        connection,
    )
    assert result == {"data": {"pipeline_names": ["events-daily-s3-raw"]}}


@pytest.mark.vcr
def test_create_generic_pipeline_bad_request(
    component: Component, connection: dict[str, str]
) -> None:
    params = {
        "type": "gcs-raw",
        "project_id": "2891273",
        "gcs_bucket": "my-mixpanel-export",
        "gcs_region": "us-east1",
    }
    with pytest.raises(ClientError, match="from_date is required") as caught:
        component.run("createGenericPipeline", {"data": params}, connection)
    assert caught.value.status == 400


# --- editGenericPipeline -----------------------------------------------------------------------


@pytest.mark.vcr
def test_edit_generic_pipeline(component: Component, connection: dict[str, str]) -> None:
    # `name` in Data is replaced by the required Name input, which the old component never sent.
    params = {
        "name": "some-other-pipeline",
        "project_id": 2891273,
        "events": ["Signed up", "Purchase"],
        "where": 'properties["plan"] == "pro"',
    }
    result = component.run(
        "editGenericPipeline", {"name": "events-daily-export", "data": params}, connection
    )
    assert result == {"data": None}


GENERIC_PIPELINES = {
    "createGenericPipeline": {},
    "editGenericPipeline": {"name": "events-daily-export"},
}


@pytest.mark.parametrize("key", sorted(GENERIC_PIPELINES))
def test_generic_pipeline_falls_back_to_project_token(component: Component, key: str) -> None:
    adapter = _Capture()
    _capturing(component, adapter)
    inputs = {**GENERIC_PIPELINES[key], "data": '{"project_id": 2891273}'}
    component.run(key, inputs, {"projectToken": TEST_CONNECTION["projectToken"]})
    sent = adapter.sent[0]
    assert sent.headers["Authorization"] == basic_header(TEST_CONNECTION["projectToken"], "")
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize("key", sorted(GENERIC_PIPELINES))
def test_generic_pipeline_file_data_goes_multipart(
    component: Component, connection: dict[str, str], key: str
) -> None:
    adapter = _Capture()
    _capturing(component, adapter)
    inputs = {
        **GENERIC_PIPELINES[key],
        "formData": [{"key": "project_id", "value": "2891273"}],
        "fileData": [{"key": "schema.json", "value": '{"events": []}'}],
    }
    component.run(key, inputs, connection)
    sent = adapter.sent[0]
    body = sent.body if isinstance(sent.body, bytes) else str(sent.body).encode()
    assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="project_id"\r\n\r\n2891273' in body
    assert b'name="schema.json"; filename="schema.json"\r\n\r\n{"events": []}' in body


@pytest.mark.vcr
def test_edit_generic_pipeline_form_data_text(
    component: Component, connection: dict[str, str]
) -> None:
    result = component.run(
        "editGenericPipeline",
        {
            "dataAndDomain": "data-in",
            "name": "events-daily-export",
            "formData": [
                {"key": "project_id", "value": "2891273"},
                {"key": "where", "value": 'properties["plan"] == "pro"'},
            ],
            "responseType": "text",
        },
        connection,
    )
    assert result == {"data": "OK"}


def test_edit_generic_pipeline_sends_name_alone(
    component: Component, connection: dict[str, str]
) -> None:
    adapter = _Capture(b"")
    _capturing(component, adapter)
    assert component.run("editGenericPipeline", {"name": "events-daily-export"}, connection) == {
        "data": None
    }
    sent = adapter.sent[0]
    assert sent.method == "POST"
    assert sent.url == "https://data.mixpanel.com/api/2.0/nessie/pipeline/edit"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.body == b"name=events-daily-export"


# --- input errors: nothing is sent -------------------------------------------------------------

RAW = {"baseUrl": "https://api.mixpanel.com", "url": "/import", "method": "POST"}
CREATE: dict[str, Any] = {}
EDIT = {"name": "events-daily-export"}


def _input_error(
    component: Component, connection: dict[str, str], action: str, inputs: dict[str, Any]
) -> InputError:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    with pytest.raises(InputError) as caught:
        component.run(action, inputs, connection)
    return caught.value


@pytest.mark.parametrize(
    ("action", "base"),
    [("rawRequest", RAW), ("createGenericPipeline", CREATE), ("editGenericPipeline", EDIT)],
)
def test_data_with_form_or_file_data_is_an_input_error(
    component: Component, connection: dict[str, str], action: str, base: dict[str, Any]
) -> None:
    for extra in ({"formData": "a: 1"}, {"fileData": "f.txt: hello"}):
        error = _input_error(component, connection, action, {**base, "data": '{"a": 1}', **extra})
        assert [e.key for e in error.errors] == ["data"]
        assert "Form Data (`formData`)" in str(error)


@pytest.mark.parametrize(
    ("action", "inputs", "key"),
    [
        ("rawRequest", {**RAW, "method": "FETCH"}, "method"),
        ("rawRequest", {**RAW, "method": "post"}, "method"),
        ("rawRequest", {**RAW, "timeout": "abc"}, "timeout"),
        ("rawRequest", {**RAW, "timeout": "-5"}, "timeout"),
        ("rawRequest", {**RAW, "maxRetries": "two"}, "maxRetries"),
        ("rawRequest", {**RAW, "retryDelayMS": "1.5"}, "retryDelayMS"),
        ("rawRequest", {**RAW, "retryAllErrors": "maybe"}, "retryAllErrors"),
        ("rawRequest", {**RAW, "useExponentialBackoff": "sometimes"}, "useExponentialBackoff"),
        ("rawRequest", {**RAW, "allowAnyHost": "perhaps"}, "allowAnyHost"),
        ("rawRequest", {**RAW, "responseType": "xml"}, "responseType"),
        ("rawRequest", {**RAW, "headers": '[{"key": "User-Agent", "value": '}, "headers"),
        ("rawRequest", {**RAW, "headers": "no colon here"}, "headers"),
        ("rawRequest", {**RAW, "queryParams": '{"project_id": 1'}, "queryParams"),
        ("rawRequest", {**RAW, "formData": '[{key: "example.txt"}]'}, "formData"),
        ("rawRequest", {**RAW, "fileData": "[not json"}, "fileData"),
        ("rawRequest", {**RAW, "data": '{"exampleKey": '}, "data"),
        ("rawRequest", {**RAW, "baseUrl": "api.mixpanel.com"}, "baseUrl"),
        ("rawRequest", {"url": "/import", "method": "GET"}, "baseUrl"),
        ("rawRequest", {"baseUrl": "https://api.mixpanel.com", "method": "GET"}, "url"),
        ("rawRequest", {"baseUrl": "https://api.mixpanel.com", "url": "/import"}, "method"),
        (
            "rawRequest",
            {**RAW, "fileData": "a.txt: x", "fileDataFileNames": "b.txt: y.txt"},
            "fileDataFileNames",
        ),
        ("rawRequest", {**RAW, "colour": "blue"}, "colour"),
        ("createGenericPipeline", {"data": "[1, 2]"}, "data"),
        ("createGenericPipeline", {"method": "FETCH"}, "method"),
        ("createGenericPipeline", {"dataAndDomain": "data-us"}, "dataAndDomain"),
        ("createGenericPipeline", {"timeout": "abc"}, "timeout"),
        ("editGenericPipeline", {"data": '{"project_id": 1}'}, "name"),
        ("editGenericPipeline", {**EDIT, "data": '"text"'}, "data"),
        ("editGenericPipeline", {**EDIT, "headers": "[{bad"}, "headers"),
    ],
)
def test_bad_inputs_are_refused_before_sending(
    component: Component,
    connection: dict[str, str],
    action: str,
    inputs: dict[str, Any],
    key: str,
) -> None:
    error = _input_error(component, connection, action, inputs)
    assert key in [e.key for e in error.errors]
    assert f"`{key}`" in str(error)


def test_missing_connection_credentials_are_an_input_error(component: Component) -> None:
    component.transport = NothingMayBeSent()  # type: ignore[assignment]
    with pytest.raises(InputError, match="projectToken"):
        component.run("rawRequest", RAW, {"username": "only-a-username"})


# --- the rendered requests satisfy Mixpanel's OpenAPI ------------------------------------------


@pytest.mark.parametrize(
    ("action", "inputs", "operation_id"),
    [
        (
            "rawRequest",
            {
                "baseUrl": "https://mixpanel.com/api/query",
                "url": "/funnels/list",
                "method": "GET",
                "queryParams": "project_id: 2891273",
            },
            "funnels-list-saved",
        ),
        (
            "createGenericPipeline",
            {
                "data": {
                    "type": "gcs-raw",
                    "project_id": 2891273,
                    "trial": False,
                    "from_date": "2024-01-01",
                    "events": ["Signed up", "Purchase"],
                    "gcs_bucket": "my-mixpanel-export",
                    "gcs_region": "us-east1",
                }
            },
            "create-warehouse-pipeline",
        ),
        (
            "createGenericPipeline",
            {
                "dataAndDomain": "data-eu",
                "formData": "type: s3-raw\nproject_id: 2891273\nfrom_date: 2024-01-01\n"
                "s3_bucket: my-mixpanel-export\ns3_region: eu-west-1\n"
                "s3_role: arn:aws:iam::123456789012:role/mixpanel-export",
            },
            "create-warehouse-pipeline",
        ),
        (
            "editGenericPipeline",
            {"name": "events-daily-export", "data": {"project_id": 2891273, "events": ["a", "b"]}},
            "edit-warehouse-pipeline",
        ),
        ("editGenericPipeline", {"name": "events-daily-export"}, "edit-warehouse-pipeline"),
    ],
)
def test_rendered_request_matches_openapi(
    component: Component,
    connection: dict[str, str],
    action: str,
    inputs: dict[str, Any],
    operation_id: str,
) -> None:
    wire = pytest.importorskip("tests.contract.wire")
    request, authorization = component.prepare(component.spec.actions[action], inputs, connection)
    headers = dict(request.headers)
    if authorization:
        headers["Authorization"] = authorization
    sent = wire.WireRequest(request.method, request.full_url, headers, request.content)
    assert wire.check_wire_request(sent, operation_id) == []
