"""The strict cassette matcher rejects each wire mutation and masks credentials to scheme names."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from vcr.request import Request

from connector.core.redact import basic_header
from tests.conftest import KNOWN_AUTH, TEST_CONNECTION, _scrub_request
from tests.wire_match import decode_body, difference, mismatch

URL = "https://api.mixpanel.com/import?strict=1&project_id=2891273"
EVENTS = [{"event": "Signed up", "properties": {"time": 1618716477000, "ok": True, "n": 1}}]
SERVICE_ACCOUNT = basic_header(TEST_CONNECTION["username"], TEST_CONNECTION["password"])
PROJECT_TOKEN = basic_header(TEST_CONNECTION["projectToken"], "")


def _live(
    body: Any = EVENTS,
    *,
    url: str = URL,
    method: str = "POST",
    auth: str | None = SERVICE_ACCOUNT,
    content_type: str | None = "application/json",
    encoding: str | None = None,
    raw: bytes | None = None,
) -> Request:
    """A request as the connector sends it, fingerprinted as the cassette filter does."""
    content = raw if raw is not None else json.dumps(body).encode()
    headers = {"User-Agent": "mixpanel-connector/0.1"}
    if auth:
        headers["Authorization"] = auth
    if content_type:
        headers["Content-Type"] = content_type
    if encoding:
        headers["Content-Encoding"] = encoding
        content = gzip.compress(content)
    return _scrub_request(Request(method, url, content, headers))


RECORDED = _live()


def test_the_same_request_matches() -> None:
    assert mismatch(_live(), RECORDED) is None


def test_query_order_does_not_matter() -> None:
    assert (
        mismatch(
            _live(url=URL.replace("strict=1&project_id=2891273", "project_id=2891273&strict=1")),
            RECORDED,
        )
        is None
    )


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        pytest.param(_live(auth=PROJECT_TOKEN), "Authorization", id="auth-scheme-swapped"),
        pytest.param(_live(auth=None), "Authorization", id="auth-missing"),
        pytest.param(_live(auth="Basic b3RoZXI6"), "Authorization", id="auth-unknown-credential"),
        pytest.param(_live(method="PUT"), "method", id="method"),
        pytest.param(_live(url=URL.replace("api.", "api-eu.")), "host", id="host"),
        pytest.param(_live(url=URL.replace("https", "http")), "scheme", id="scheme"),
        pytest.param(_live(url=URL.replace("/import", "/track")), "path", id="path"),
        pytest.param(_live(url=URL + "&verbose=1"), "query", id="extra-query-key"),
        pytest.param(_live(url=URL.replace("strict=1&", "")), "query", id="missing-query-key"),
        pytest.param(_live(url=URL.replace("strict=1", "strict=0")), "query", id="query-value"),
        pytest.param(_live(url=URL + "&strict=1"), "query", id="repeated-query-key"),
        pytest.param(_live(encoding="gzip"), "Content-Encoding", id="gzip-vs-plain"),
        pytest.param(_live(content_type="application/x-ndjson"), "Content-Type", id="content-type"),
        pytest.param(_live(content_type=None), "Content-Type", id="content-type-missing"),
        pytest.param(
            _live(raw=b"".join(json.dumps(e).encode() + b"\n" for e in EVENTS)),
            "body",
            id="ndjson-body-under-a-json-content-type",
        ),
        pytest.param(
            _live([{**EVENTS[0], "properties": {**EVENTS[0]["properties"], "ok": 1}}]),
            "body[0].properties.ok: int 1 vs bool True",
            id="true-vs-1",
        ),
        pytest.param(
            _live([{**EVENTS[0], "properties": {**EVENTS[0]["properties"], "n": 1.0}}]),
            "body[0].properties.n: float 1.0 vs int 1",
            id="1-vs-1.0",
        ),
        pytest.param(
            _live([{**EVENTS[0], "event": "Signed Up"}]), "body[0].event", id="event-name"
        ),
        pytest.param(_live([*EVENTS, *EVENTS]), "body: 2 items vs 1", id="extra-record"),
    ],
)
def test_each_wire_mutation_is_rejected(live: Request, expected: str) -> None:
    found = mismatch(live, RECORDED)
    assert found is not None and found.startswith(expected), found


def test_gzip_must_be_declared_on_both_sides_then_content_compares() -> None:
    recorded = _live(encoding="gzip")
    assert recorded.body == json.dumps(EVENTS).encode()  # stored readable, declared gzip
    assert mismatch(_live(encoding="gzip"), recorded) is None
    assert mismatch(_live(), recorded) == "Content-Encoding None vs 'gzip'"
    changed = _live([{**EVENTS[0], "event": "x"}], encoding="gzip")
    assert (mismatch(changed, recorded) or "").startswith("body[0].event")


def test_gzip_bytes_without_content_encoding_never_match_plain_content() -> None:
    undeclared = _scrub_request(
        Request(
            "POST",
            URL,
            gzip.compress(json.dumps(EVENTS).encode()),
            {"Content-Type": "application/json"},
        )
    )
    assert (mismatch(undeclared, _live(auth=None)) or "").startswith("the body is not")


def test_the_recorded_content_type_decides_how_both_bodies_are_read() -> None:
    ndjson = b'{"a": 1}\n{"a": 2}\n'
    assert decode_body(ndjson, "application/x-ndjson") == [{"a": 1}, {"a": 2}]
    with pytest.raises(ValueError):
        decode_body(ndjson, "application/json")
    assert decode_body(b'[{"a": 1}]', "application/x-ndjson") == [[{"a": 1}]]


def test_form_bodies_compare_pairs_order_free_and_embedded_json_as_data() -> None:
    form = "application/x-www-form-urlencoded"
    a = decode_body(b"x=1&ids=%5B%22a%22%2C+%22b%22%5D", form)
    b = decode_body(b'ids=["a","b"]&x=1', form)
    assert difference(a, b) is None
    assert difference(decode_body(b"x=1", form), decode_body(b"x=1.0", form)) is not None
    assert difference(decode_body(b"x=true", form), decode_body(b"x=1", form)) is not None
    assert difference(decode_body(b"x=1&x=1", form), decode_body(b"x=1", form)) is not None


def test_multipart_compares_parts_not_the_random_boundary() -> None:
    def multipart(boundary: str, value: str) -> tuple[bytes, str]:
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.csv"\r\n\r\n'
            f"{value}\r\n--{boundary}--\r\n"
        ).encode()
        return body, f"multipart/form-data; boundary={boundary}"

    one, two, other = multipart("abc", "1,2"), multipart("xyz", "1,2"), multipart("xyz", "1,3")
    assert difference(decode_body(*one), decode_body(*two)) is None
    assert decode_body(*one) == [["f", "a.csv", "1,2"]]
    assert difference(decode_body(*one), decode_body(*other)) is not None


def test_difference_checks_types_recursively() -> None:
    assert difference({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]}) is None
    assert difference({"a": [1, {"b": True}]}, {"a": [1, {"b": 1}]}) == (
        "$.a[1].b: bool True vs int 1"
    )
    assert difference(1, 1.0) == "$: int 1 vs float 1.0"
    assert difference({"a": 1}, {"b": 1}) == "$: keys differ: ['a', 'b']"
    assert difference("1", 1) is not None


def test_fingerprints_name_the_scheme_and_hold_no_credential() -> None:
    assert set(KNOWN_AUTH.values()) == {"service_account", "project_token", "oauth_token"}
    request = _live(auth=PROJECT_TOKEN)
    assert request.headers["Authorization"] == "Basic <project_token>"
    again = _scrub_request(request)  # vcrpy filters loaded requests again: unchanged
    assert again.headers["Authorization"] == "Basic <project_token>"
    assert "Authorization" not in _live(auth=None).headers
    text = json.dumps(dict(_live().headers))
    assert SERVICE_ACCOUNT.split()[1] not in text and TEST_CONNECTION["password"] not in text
