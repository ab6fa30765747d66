from __future__ import annotations

import base64
from typing import Any

import pytest

from connector import AuthError, ClientError, PayloadTooLargeError, RateLimitError, ServerError
from connector.core.redact import Redactor
from connector.errors import APIError
from connector.parse.response import decode_body, parse_response
from connector.prepare.request import HTTPRequest
from connector.send.response import RawResponse


def _request(response: dict[str, Any] | None = None, **inputs: Any) -> HTTPRequest:
    return HTTPRequest(
        action="act",
        method="POST",
        url="https://api.mixpanel.com/x",
        response=response or {},
        inputs=inputs,
        secrets=Redactor(["tok-secret-1"]),
    )


def _raw(body: bytes, status: int = 200, content_type: str = "application/json") -> RawResponse:
    return RawResponse(status, {"content-type": content_type}, body)


@pytest.mark.parametrize(
    ("body", "fmt", "content_type", "expected"),
    [
        pytest.param(b"1", "auto", "text/plain", 1, id="track-1"),
        pytest.param(b'{"a": 1}', "auto", "application/json", {"a": 1}, id="json"),
        pytest.param(
            b'{"a":1}\n{"a":2}\n', "auto", "application/x-ndjson", [{"a": 1}, {"a": 2}], id="ndjson"
        ),
        pytest.param(
            b'{"a":1}\n{"a":2}\n', "jsonl", "text/plain", [{"a": 1}, {"a": 2}], id="jsonl"
        ),
        pytest.param(b"OK", "auto", "text/plain", "OK", id="text"),
        pytest.param(b"1", "text", "text/plain", "1", id="text-forced"),
        pytest.param(b"", "auto", "application/json", None, id="empty"),
        pytest.param(
            b"\x00\x01", "binary", "image/gif", base64.b64encode(b"\x00\x01").decode(), id="binary"
        ),
    ],
)
def test_decode_body(body: bytes, fmt: str, content_type: str, expected: Any) -> None:
    assert decode_body(_raw(body, content_type=content_type), fmt) == expected


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ClientError),
        (401, AuthError),
        (403, AuthError),
        (404, ClientError),
        (413, PayloadTooLargeError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (302, APIError),
    ],
)
def test_status_maps_to_a_typed_error_with_mixpanels_message(
    status: int, error_class: type[APIError]
) -> None:
    with pytest.raises(error_class) as caught:
        parse_response(_request(), _raw(b'{"error": "bad tok-secret-1 thing"}', status))
    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert "bad *** thing" in str(caught.value)
    assert "tok-secret-1" not in str(caught.value) + repr(caught.value.body)


def test_ok_when_turns_a_partial_400_into_a_result() -> None:
    request = _request({"ok_when": "status < 300 or body.get('failed_records') is not none"})
    body = b'{"num_records_imported": 1, "failed_records": [{"index": 0}]}'
    assert parse_response(request, _raw(body, 400))["num_records_imported"] == 1


def test_fail_when_raises_on_a_200_rejection() -> None:
    request = _request({"fail_when": [{"if": "body == 0", "message": "rejected ({{ status }})"}]})
    with pytest.raises(ClientError, match=r"act: rejected \(200\)"):
        parse_response(request, _raw(b"0", 200, "text/plain"))


def test_response_templates_read_the_inputs() -> None:
    request = _request(
        {"format": "{{ responseType }}", "output": "{{ body }}"}, responseType="text"
    )
    assert parse_response(request, _raw(b'{"a": 1}')) == '{"a": 1}'


def test_error_hints_are_appended() -> None:
    request = _request({"error_hints": {413: "At most 2000 events per request."}})
    with pytest.raises(PayloadTooLargeError, match="At most 2000 events per request."):
        parse_response(request, _raw(b'{"error": "too big"}', 413))
