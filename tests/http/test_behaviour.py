"""HTTP behaviour on loopback: retries, timeouts, redirects, Mixpanel's error shapes, budgets.

Every test talks to a local server on 127.0.0.1 (pytest-httpserver, or a raw socket server for
connection resets) through `load_component(base_url=...)`; time is a FakeClock, so nothing
really waits except the deliberately tiny timeouts.
"""

from __future__ import annotations

import functools
import json
import logging
import random
import re
import time
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from connector import (
    AuthError,
    ClientError,
    Component,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    TransportError,
    load_component,
    load_specs,
)
from connector.budgets.memory import BudgetRegistry
from connector.catalog.spec import ComponentSpec
from connector.core.redact import basic_header
from connector.core.templates import render_value
from connector.errors import RedirectError
from connector.send.retry import RetryPolicy
from connector.send.transport import Transport
from tests.conftest import SECRET_VALUES, TEST_CONNECTION

from .helpers import (
    FakeClock,
    answer,
    reset_after_headers,
    reset_before_answer,
    socket_server,
)

FUNNELS_PATH = "/api/query/funnels/list"
FUNNELS_INPUTS = {"project_id": "2891273"}
FUNNELS_BODY = [{"funnel_id": 7509, "name": "Signup funnel"}]
EVENTS = [
    {
        "event": "Signed up",
        "properties": {"time": 1618716477000, "distinct_id": "u1", "$insert_id": "id-1"},
    },
    {
        "event": "Signed up",
        "properties": {"time": 1618716477000, "distinct_id": "u2", "$insert_id": "id-2"},
    },
]
BASIC = basic_header(TEST_CONNECTION["username"], TEST_CONNECTION["password"])

RATE_LIMITS = load_specs().rate_limits
QUERY_API, RAW_EXPORT = RATE_LIMITS["query"], RATE_LIMITS["export"]
GDPR_API, LEXICON_API = RATE_LIMITS["gdpr"], RATE_LIMITS["lexicon"]


@functools.cache
def _specs() -> ComponentSpec:
    return load_specs()


def make(base_url: str, clock: FakeClock, **options: Any) -> Component:
    """A component sending to `base_url`, on the fake clock, with its own rate budgets."""
    options.setdefault("rate_registry", clock.registry())
    return Component(_specs(), base_url=base_url, clock=clock, rng=random.Random(4), **options)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def connection() -> dict[str, str]:
    return dict(TEST_CONNECTION)


# --- retries ----------------------------------------------------------------------------------


def test_429_with_retry_after_seconds_waits_that_long_then_succeeds(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_ordered_request(FUNNELS_PATH).respond_with_json(
        {"error": "too many requests"}, status=429, headers={"Retry-After": "2"}
    )
    server.expect_ordered_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)
    component = make(server.url_for("/"), clock)

    assert component.run("listSavedFunnels", FUNNELS_INPUTS, connection) == {"data": FUNNELS_BODY}
    assert clock.sleeps == [pytest.approx(2.0)]
    assert len(server.log) == 2


def test_429_with_retry_after_http_date_waits_until_then(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    when = format_datetime(clock.now() + timedelta(seconds=7), usegmt=True)
    server.expect_ordered_request(FUNNELS_PATH).respond_with_json(
        {"error": "slow down"}, status=429, headers={"Retry-After": when}
    )
    server.expect_ordered_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)

    make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert clock.sleeps == [pytest.approx(7.0)]


def test_503_three_times_then_success_backs_off_exponentially(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    for _ in range(3):
        server.expect_ordered_request(FUNNELS_PATH).respond_with_data("unavailable", status=503)
    server.expect_ordered_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)

    result = make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert result == {"data": FUNNELS_BODY}
    assert len(server.log) == 4
    # 2 s doubling, jittered down by at most half: [1, 2], [2, 4], [4, 8]
    for wait, full in zip(clock.sleeps, (2.0, 4.0, 8.0), strict=True):
        assert full / 2 <= wait <= full


def test_retries_stop_at_max_attempts_and_say_so(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_data("bad gateway", status=502)
    component = make(server.url_for("/"), clock, retry=RetryPolicy(max_attempts=3, jitter=0))

    with pytest.raises(ServerError) as info:
        component.run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert len(server.log) == 3
    assert info.value.attempts == 3
    assert "gave up after 3 attempts" in str(info.value)
    assert clock.sleeps == [2.0, 4.0]


def test_per_call_policy_overrides_the_component(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_data("bad gateway", status=502)
    component = make(server.url_for("/"), clock)

    with pytest.raises(ServerError):
        component.run(
            "listSavedFunnels", FUNNELS_INPUTS, connection, retry=RetryPolicy(max_attempts=1)
        )
    assert len(server.log) == 1


def test_total_time_budget_stops_retrying(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_json(
        {"error": "later"}, status=429, headers={"Retry-After": "30"}
    )
    component = make(server.url_for("/"), clock, retry=RetryPolicy(total_budget_s=45))

    with pytest.raises(RateLimitError) as info:
        component.run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert clock.sleeps == [30.0]  # the second 30 s wait would end after 45 s
    assert info.value.retry_after_s == 30.0
    # A local server stands in for Mixpanel here: messages name it by its origin.
    assert f"The server at {server.url_for('/').rstrip('/')} asks to wait 30 s" in str(info.value)
    assert "exceeds the remaining retry budget" in str(info.value)


def test_400_is_final(server: HTTPServer, clock: FakeClock, connection: dict[str, str]) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_json(
        {"error": "Invalid project_id"}, status=400
    )

    with pytest.raises(ClientError, match="Invalid project_id") as info:
        make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert len(server.log) == 1
    assert clock.sleeps == []
    assert info.value.attempts == 1


def _raw_request_inputs(method: str, base_url: str, **extra: Any) -> dict[str, Any]:
    return {"baseUrl": base_url, "url": "/track", "method": method, **extra}


def test_generic_actions_retry_by_default_and_max_retry_count_0_means_none(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    """Left empty, Max Retry Count gives the default policy; "0" keeps the seed's "no retries"."""
    server.expect_request("/track").respond_with_data("busy", status=503)
    with pytest.raises(ServerError) as caught:
        make(server.url_for("/"), clock).run(
            "rawRequest", _raw_request_inputs("GET", server.url_for("/")), connection
        )
    assert len(server.log) == 5
    assert caught.value.attempts == 5
    server.clear_log()
    with pytest.raises(ServerError):
        make(server.url_for("/"), clock).run(
            "rawRequest",
            _raw_request_inputs("GET", server.url_for("/"), maxRetries="0"),
            connection,
        )
    assert len(server.log) == 1


def test_seed_retry_inputs_keep_their_meaning(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    """Max Retry Count counts retries; Retry Delay (ms) is a fixed wait without backoff."""
    server.expect_request("/track").respond_with_data("oops", status=500)
    component = make(server.url_for("/"), clock)
    inputs = _raw_request_inputs(
        "GET",
        server.url_for("/"),
        maxRetries=2,
        retryDelayMS=1500,
        useExponentialBackoff=False,
        retryAllErrors=False,
    )

    with pytest.raises(ServerError):
        component.run("rawRequest", inputs, connection)
    assert len(server.log) == 3  # 1 + Max Retry Count
    assert clock.sleeps == [1.5, 1.5]


def test_retry_on_all_errors_retries_a_400(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_ordered_request("/track").respond_with_data("no", status=400)
    server.expect_ordered_request("/track").respond_with_json({"ok": True})
    inputs = _raw_request_inputs("GET", server.url_for("/"), maxRetries=1, retryAllErrors=True)

    result = make(server.url_for("/"), clock).run("rawRequest", inputs, connection)
    assert result == {"data": {"ok": True}}


# --- network failures -------------------------------------------------------------------------


@pytest.mark.parametrize("failure", [reset_after_headers, reset_before_answer])
def test_connection_reset_is_retried_for_an_idempotent_action(
    failure: Any, clock: FakeClock, connection: dict[str, str]
) -> None:
    ok = answer(200, json.dumps(FUNNELS_BODY).encode())
    with socket_server([failure, ok]) as (base_url, received):
        result = make(base_url, clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert result == {"data": FUNNELS_BODY}
    assert len(received) == 2
    assert len(clock.sleeps) == 1


def test_connection_reset_is_not_retried_for_a_non_idempotent_action(
    clock: FakeClock, connection: dict[str, str]
) -> None:
    ok = answer(200, b'{"status": "ok"}')
    with socket_server([reset_after_headers, ok]) as (base_url, received):
        component = make(base_url, clock)
        with pytest.raises(TransportError) as info:
            component.run(
                "rawRequest", _raw_request_inputs("POST", base_url, maxRetries=3), connection
            )
    assert len(received) == 1
    assert info.value.sent is True
    assert "retry_non_idempotent=True" in str(info.value)


def test_non_idempotent_reset_is_retried_when_the_caller_opts_in(
    clock: FakeClock, connection: dict[str, str]
) -> None:
    ok = answer(200, b'{"status": "ok"}')
    with socket_server([reset_after_headers, ok]) as (base_url, received):
        result = make(base_url, clock).run(
            "rawRequest",
            _raw_request_inputs("POST", base_url, maxRetries=3),
            connection,
            retry=RetryPolicy(retry_non_idempotent=True),
        )
    assert result == {"data": {"status": "ok"}}
    assert len(received) == 2


def test_non_idempotent_503_is_retried_because_mixpanel_did_not_process_it(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_ordered_request("/track").respond_with_data("busy", status=503)
    server.expect_ordered_request("/track").respond_with_json({"ok": 1})
    inputs = _raw_request_inputs("POST", server.url_for("/"), maxRetries=1)

    assert make(server.url_for("/"), clock).run("rawRequest", inputs, connection) == {
        "data": {"ok": 1}
    }


def test_connection_refused_is_always_safe_to_retry(
    clock: FakeClock, connection: dict[str, str]
) -> None:
    with socket_server([]) as (base_url, _):
        pass  # closed: nothing listens on that port any more
    component = make(base_url, clock)
    with pytest.raises(TransportError) as info:
        component.run("rawRequest", _raw_request_inputs("POST", base_url, maxRetries=1), connection)
    assert info.value.kind == "connect"
    assert info.value.sent is False
    assert info.value.attempts == 2  # retried although POST: the request was never sent


def test_slow_response_hits_the_timeout_and_names_it(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.3)
        return Response("[]", content_type="application/json")

    server.expect_request(FUNNELS_PATH).respond_with_handler(slow)
    component = make(
        server.url_for("/"),
        clock,
        transport=Transport(timeout_s=0.05),
        retry=RetryPolicy(max_attempts=2),
    )
    started = time.monotonic()
    with pytest.raises(TransportError) as info:
        component.run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert time.monotonic() - started < 1.5
    assert "within the timeout of 0.05 s" in str(info.value)
    assert info.value.kind == "read_timeout"
    assert info.value.timeout_s == 0.05
    assert info.value.attempts == 2
    server.clear()  # do not wait for the slow handler's second answer in teardown


# --- redirects --------------------------------------------------------------------------------


def _other_host_url(other: HTTPServer, path: str) -> str:
    return f"http://localhost:{other.port}{path}"


def test_a_302_after_a_post_is_followed_as_a_get_without_the_body(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    """The connector follows redirects itself (requests' own following is off): after a 302
    to a POST it asks with GET, sends neither body nor Content-Type, and keeps credentials on
    the same host."""
    server.expect_request("/import", method="POST").respond_with_data(
        "", status=302, headers={"Location": "/import-done"}
    )
    server.expect_request("/import-done", method="GET").respond_with_json(
        {"code": 200, "num_records_imported": 1, "status": "OK"}
    )
    inputs = {"events": EVENTS[:1], "project_id": "2891273"}
    result = make(server.url_for("/"), clock).run("importEvents", inputs, connection)
    assert result["data"]["num_records_imported"] == 1
    first, second = [entry for entry, _ in server.log if entry.path.startswith("/import")]
    assert first.method == "POST" and first.get_data()
    assert second.method == "GET" and second.path == "/import-done"
    assert second.get_data() == b"" and "Content-Type" not in second.headers
    assert second.headers["Authorization"] == BASIC


def test_redirect_to_another_host_carries_no_credentials(
    server: HTTPServer, other_server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_data(
        "", status=302, headers={"Location": _other_host_url(other_server, "/elsewhere")}
    )
    other_server.expect_request("/elsewhere").respond_with_json(FUNNELS_BODY)

    result = make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert result == {"data": FUNNELS_BODY}
    assert server.log[0][0].headers["Authorization"] == BASIC
    landed = other_server.log[0][0]
    assert "Authorization" not in landed.headers
    assert all(secret not in str(landed.headers) for secret in SECRET_VALUES)


def test_redirect_on_the_same_host_keeps_credentials(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_data(
        "", status=307, headers={"Location": "/moved"}
    )
    server.expect_request("/moved").respond_with_json(FUNNELS_BODY)

    make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert server.log[1][0].headers["Authorization"] == BASIC


def test_body_carrying_the_token_is_not_resent_to_another_host(
    server: HTTPServer, other_server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request("/track").respond_with_data(
        "", status=307, headers={"Location": _other_host_url(other_server, "/track")}
    )
    inputs = {"alias": "user-alias-67890", "distinct_id": "user-12345"}

    with pytest.raises(RedirectError, match="contains a credential"):
        make(server.url_for("/"), clock).run("createAlias", inputs, connection)
    assert other_server.log == []


def test_endless_redirects_stop(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_data(
        "", status=302, headers={"Location": FUNNELS_PATH}
    )
    with pytest.raises(RedirectError, match="more than 5 redirects"):
        make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert len(server.log) == 6


# --- Mixpanel's error shapes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("0", "it answered 0"),
        ('{"status": 0, "error": "token is invalid"}', "token is invalid"),
    ],
)
def test_track_200_meaning_rejected_is_a_client_error(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str], body: str, message: str
) -> None:
    server.expect_request("/track").respond_with_data(body, content_type="application/json")
    inputs = {"alias": "user-alias-67890", "distinct_id": "user-12345"}

    with pytest.raises(ClientError, match=message) as info:
        make(server.url_for("/"), clock).run("createAlias", inputs, connection)
    assert info.value.status == 200
    assert len(server.log) == 1  # a rejection is final, not retried


def test_import_partial_400_returns_the_imported_count_and_failed_records(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    partial = {
        "code": 400,
        "num_records_imported": 1,
        "status": "Bad Request",
        "failed_records": [
            {"index": 1, "$insert_id": "id-2", "field": "properties.time", "message": "too old"}
        ],
    }
    server.expect_request("/import").respond_with_json(partial, status=400)

    result = make(server.url_for("/"), clock).run(
        "importEvents", {"events": EVENTS, "project_id": "2891273"}, connection
    )
    assert {key: result["data"][key] for key in partial} == partial
    assert result["data"]["records_failed"] == 1
    assert len(server.log) == 1


def test_import_400_without_failed_records_is_an_error(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request("/import").respond_with_json(
        {"code": 400, "error": "some data points in the request failed validation"}, status=400
    )
    with pytest.raises(ClientError, match="failed validation"):
        make(server.url_for("/"), clock).run(
            "importEvents", {"events": EVENTS, "project_id": "2891273"}, connection
        )


@pytest.mark.parametrize("status", [401, 403])
def test_auth_errors_name_the_credential_fields_and_scheme_never_values(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str], status: int
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_json(
        {"error": "Unauthorized", "status": "error"}, status=status
    )
    with pytest.raises(AuthError) as info:
        make(server.url_for("/"), clock).run("listSavedFunnels", FUNNELS_INPUTS, connection)
    text = str(info.value)
    assert "service_account" in text
    assert "Username (`username`)" in text and "Password (`password`)" in text
    assert all(secret not in text for secret in SECRET_VALUES)
    assert TEST_CONNECTION["password"] not in repr(info.value)
    assert len(server.log) == 1


def test_auth_error_with_project_token_names_the_token_field(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_json({"error": "no"}, status=401)
    with pytest.raises(AuthError, match=r"project_token \(Project Token \(`projectToken`\)\)"):
        make(server.url_for("/"), clock).run(
            "listSavedFunnels", {**FUNNELS_INPUTS, "useProjectToken": True}, connection
        )


def test_413_names_the_limit_and_the_size_sent(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    server.expect_request("/import").respond_with_json(
        {"error": "request body too large: max 10MB uncompressed"}, status=413
    )
    with pytest.raises(PayloadTooLargeError) as info:
        make(server.url_for("/"), clock).run(
            "importEvents", {"events": EVENTS, "project_id": "2891273"}, connection
        )
    text = str(info.value)
    assert "max 10MB uncompressed" in text
    sent = len(server.log[0][0].get_data())
    assert f"The body sent was {sent} bytes" in text
    # The spec's own hint names the per-request limits of this endpoint.
    assert "/import takes at most 2000 events and 10 MB uncompressed per request" in text


# --- client-side rate budgets -----------------------------------------------------------------


def _key(server: HTTPServer, project: str = "2891273") -> str:
    """The budget key of a project's requests to the test server: the project at that host."""
    return f"{project} at http://{server.host}:{server.port}"


def _use_up(registry: BudgetRegistry, key: str, count: int = 60) -> None:
    budget = registry.budget(QUERY_API)
    for _ in range(count):
        budget.acquire(key, max_wait_s=0).release()


def test_exhausted_query_budget_fails_fast_saying_when_it_frees_up(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    registry = clock.registry()
    _use_up(registry, _key(server))
    clock.t += 600  # ten minutes later the oldest call leaves the window in 50 min
    component = make(server.url_for("/"), clock, rate_registry=registry)

    with pytest.raises(RateLimitError) as info:
        component.run("listSavedFunnels", FUNNELS_INPUTS, connection)
    assert (
        f"Query API budget of 60 queries per hour for project 2891273 at "
        f"http://{server.host}:{server.port} is used up" in str(info.value)
    )
    assert "frees up in 50 min 0 s" in str(info.value)
    assert info.value.retry_after_s == pytest.approx(3000.0)
    assert server.log == []  # nothing was sent
    # another project has its own budget
    server.expect_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)
    component.run("listSavedFunnels", {"project_id": "42"}, connection)


def test_budgets_are_scoped_by_host_as_well_as_project(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    """A test server's traffic never uses up the same project's budget at another host."""
    registry = clock.registry()
    other = HTTPServer(host="127.0.0.1")
    other.start()
    try:
        for host in (server, other):
            host.expect_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)
        here = make(server.url_for("/"), clock, rate_registry=registry)
        there = make(other.url_for("/"), clock, rate_registry=registry)
        _use_up(registry, _key(server), 59)
        here.run("listSavedFunnels", FUNNELS_INPUTS, connection)  # the 60th at this host
        with pytest.raises(RateLimitError, match=f"2891273 at http://{server.host}:"):
            here.run("listSavedFunnels", FUNNELS_INPUTS, connection)
        for _ in range(3):  # the same project at another host has a budget of its own
            assert there.run("listSavedFunnels", FUNNELS_INPUTS, connection) == {
                "data": FUNNELS_BODY
            }
        assert registry.budget(QUERY_API).seconds_until_free(_key(other)) == 0.0
        assert registry.budget(QUERY_API).seconds_until_free(_key(server)) > 0.0
    finally:
        other.clear()
        if other.is_running():
            other.stop()


def test_exhausted_budget_waits_when_the_caller_allows_it(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    registry = clock.registry()
    _use_up(registry, _key(server))
    server.expect_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)
    component = make(server.url_for("/"), clock, rate_registry=registry)

    with pytest.raises(RateLimitError):  # a cap shorter than the wait still fails fast
        component.run("listSavedFunnels", FUNNELS_INPUTS, connection, rate_wait_s=60)
    result = component.run("listSavedFunnels", FUNNELS_INPUTS, connection, rate_wait_s=3600)
    assert result == {"data": FUNNELS_BODY}
    assert clock.sleeps == [pytest.approx(3600.0)]


def test_budget_is_shared_between_component_instances(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    registry = clock.registry()
    server.expect_request(FUNNELS_PATH).respond_with_json(FUNNELS_BODY)
    first = make(server.url_for("/"), clock, rate_registry=registry)
    second = make(server.url_for("/"), clock, rate_registry=registry)
    _use_up(registry, _key(server), 59)
    first.run("listSavedFunnels", FUNNELS_INPUTS, connection)
    with pytest.raises(RateLimitError):
        second.run("listSavedFunnels", FUNNELS_INPUTS, connection)


def test_a_concurrency_slot_is_held_while_the_request_is_in_flight(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    registry = clock.registry()
    seen: list[int] = []

    def handler(request: Request) -> Response:
        seen.append(registry.budget(QUERY_API).in_flight(_key(server)))
        return Response(json.dumps(FUNNELS_BODY), content_type="application/json")

    server.expect_request(FUNNELS_PATH).respond_with_handler(handler)
    make(server.url_for("/"), clock, rate_registry=registry).run(
        "listSavedFunnels", FUNNELS_INPUTS, connection
    )
    assert seen == [1]
    assert registry.budget(QUERY_API).in_flight(_key(server)) == 0


def test_export_draws_from_the_raw_export_budget(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    registry = clock.registry()
    server.expect_request("/api/2.0/export").respond_with_data(
        '{"event": "a", "properties": {}}\n', content_type="application/x-ndjson"
    )
    component = make(server.url_for("/"), clock, rate_registry=registry)
    inputs = {"from_date": "2024-01-01", "to_date": "2024-01-31", "project_id": "2891273"}
    for _ in range(3):
        component.run("downloadData", inputs, connection)
    # A per-second window is always waited for, even when no wait is allowed for the hour.
    component.run("downloadData", inputs, connection, rate_wait_s=0)
    assert clock.sleeps == [pytest.approx(1.0)]
    for _ in range(56):
        component.run("downloadData", inputs, connection, rate_wait_s=0)
    assert len(server.log) == 60
    # The hour's 60 are used: with no wait allowed, the 61st fails at once saying when.
    with pytest.raises(RateLimitError, match="60 queries per hour .* frees up in 59 min"):
        component.run("downloadData", inputs, connection, rate_wait_s=0)
    assert len(server.log) == 60
    assert registry.budget(RAW_EXPORT).in_flight(_key(server)) == 0


def test_a_burst_of_gdpr_calls_waits_for_the_one_per_second_budget(
    server: HTTPServer, clock: FakeClock, connection: dict[str, str]
) -> None:
    registry = clock.registry()
    sent_at: list[float] = []

    def handler(request: Request) -> Response:
        sent_at.append(clock.t)
        body = {"status": "ok", "results": {"task_id": "job-1"}}
        return Response(json.dumps(body), content_type="application/json")

    server.expect_request("/api/app/data-deletions/v3.0", method="POST").respond_with_handler(
        handler
    )
    server.expect_request("/api/app/data-retrievals/v3.0", method="POST").respond_with_handler(
        handler
    )
    component = make(server.url_for("/"), clock, rate_registry=registry)
    for action in ("createDataDeletion", "createDataRetrieval", "createDataDeletion"):
        component.run(action, {"distinct_ids": "u1"}, connection, rate_wait_s=0)
    # Deletions and retrievals share one budget: each call after the first waited its second.
    assert sent_at == [1000.0, 1001.0, 1002.0]
    assert clock.sleeps == [pytest.approx(1.0), pytest.approx(1.0)]
    # The budget is keyed by a fingerprint of the project token, never by the token itself.
    token = connection["projectToken"]
    key = (
        render_value("{{ t | fingerprint }}", {"t": token}, action="test", field="rate_key")
        + f" at http://{server.host}:{server.port}"
    )
    assert token not in key
    assert registry.budget(GDPR_API).seconds_until_free(key) == pytest.approx(1.0)
    # Another project's token has a budget of its own: no wait.
    other = {**connection, "projectToken": "0123456789abcdef0123456789abcdef"}
    component.run("createDataDeletion", {"distinct_ids": "u1"}, other, rate_wait_s=0)
    assert sent_at[-1] == 1002.0 and len(clock.sleeps) == 2


# --- secrets ----------------------------------------------------------------------------------


def _leaks(text: str) -> list[str]:
    return [s for s in (*SECRET_VALUES, BASIC) if s in text]


def test_secrets_appear_in_no_log_error_repr_or_dry_run(
    server: HTTPServer,
    other_server: HTTPServer,
    clock: FakeClock,
    connection: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # URL-carried token (rawRequest query) to exercise urllib3's request-line logging too.
    token = TEST_CONNECTION["projectToken"]
    server.expect_ordered_request("/track").respond_with_data("busy", status=503)
    server.expect_ordered_request("/track").respond_with_json({"error": f"bad {token}"}, status=401)
    server.expect_request(FUNNELS_PATH).respond_with_data(
        "", status=302, headers={"Location": _other_host_url(other_server, "/x")}
    )
    other_server.expect_request("/x").respond_with_json({"error": "nope"}, status=403)
    server.expect_request("/import").respond_with_data("down", status=500)
    server.expect_request("/track", method="POST").respond_with_json(
        {"status": 0, "error": f"token {token} is not valid"}
    )
    component = make(server.url_for("/"), clock, retry=RetryPolicy(max_attempts=2))
    shown: list[str] = [repr(component)]
    calls: list[tuple[str, dict[str, Any]]] = [
        (
            "rawRequest",
            _raw_request_inputs(
                "GET",
                server.url_for("/"),
                maxRetries=1,
                queryParams=[{"key": "token", "value": token}],
            ),
        ),
        ("listSavedFunnels", FUNNELS_INPUTS),
        ("importEvents", {"events": EVENTS, "project_id": "2891273"}),
        ("createAlias", {"alias": "a-1", "distinct_id": "d-1"}),
    ]
    for action, inputs in calls:
        shown.append(json.dumps(component.preview(action, inputs, connection)))
        op = component.spec.actions[action]
        request, _ = component.prepare(op, inputs, connection)
        shown.append(repr(request))
        try:
            component.run(action, inputs, connection)
        except Exception as exc:  # every failure is under test here
            shown += [str(exc), repr(exc), repr(getattr(exc, "request", None))]
            shown.append(json.dumps(getattr(exc, "body", None)))
    with socket_server([reset_after_headers]) as (base_url, _):
        try:
            make(base_url, clock, retry=RetryPolicy(max_attempts=1)).run(
                "listSavedFunnels", FUNNELS_INPUTS, connection
            )
        except TransportError as exc:
            shown += [str(exc), repr(exc)]
    assert len(server.log) >= 4
    assert any(token in str(entry[0].full_path) for entry in server.log)  # it was really sent
    assert caplog.records, "the library logs through logging"
    # Everything the client side logs (our loggers and those of requests/urllib3); the test
    # server's own access log (werkzeug) is not part of the library.
    client = [r for r in caplog.records if not r.name.startswith(("werkzeug", "pytest_httpserver"))]
    assert {r.name for r in client} >= {
        "connector.transport",
        "connector.attempts",
        "urllib3.connectionpool",
    }
    assert [r.getMessage() for r in client if _leaks(r.getMessage())] == []
    assert [text for text in shown if _leaks(text)] == []


def test_library_prints_nothing(
    server: HTTPServer,
    clock: FakeClock,
    connection: dict[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.expect_request(FUNNELS_PATH).respond_with_data("x", status=503)
    with pytest.raises(ServerError):
        make(server.url_for("/"), clock, retry=RetryPolicy(max_attempts=2)).run(
            "listSavedFunnels", FUNNELS_INPUTS, connection
        )
    assert capsys.readouterr() == ("", "")


def test_credentials_are_refused_for_an_untrusted_host(
    clock: FakeClock, connection: dict[str, str]
) -> None:
    """rawRequest to a non-Mixpanel host: refused before anything is sent."""
    component = load_component(clock=clock)

    class Refuse:
        def send(self, *args: Any) -> Any:
            raise AssertionError("nothing may be sent")

    component.transport = Refuse()  # type: ignore[assignment]
    with pytest.raises(Exception, match="not a Mixpanel host"):
        component.run(
            "rawRequest",
            {"baseUrl": "https://example.org/", "url": "/x", "method": "GET"},
            connection,
        )


def test_a_burst_of_lexicon_calls_is_paced_at_five_a_minute(
    server: HTTPServer,
    clock: FakeClock,
    connection: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = clock.registry()
    sent_at: list[float] = []

    def handler(request: Request) -> Response:
        sent_at.append(clock.t)
        return Response(json.dumps({"results": []}), content_type="application/json")

    server.expect_request(re.compile("/api/app/projects/.*/schemas.*")).respond_with_handler(
        handler
    )
    component = make(server.url_for("/"), clock, rate_registry=registry)
    one = {"entityType": "event", "name": "Signed up"}
    for i in range(10):
        # Reads of two projects through one service account draw from one budget.
        project = {"project_id": "1" if i % 2 else "2"}
        if i % 3:
            component.run("listSchemas", project, connection, rate_wait_s=0)
        else:
            component.run("getSchema", {**project, **one}, connection, rate_wait_s=0)
    # Five fit the minute; the sixth waited until the first five left it, then five more fit.
    assert sent_at == [1000.0] * 5 + [1060.0] * 5
    assert clock.sleeps == [pytest.approx(60.0)]
    waits = [r.getMessage() for r in caplog.records if r.name == "connector.waits"]
    assert len(waits) == 1 and re.match(
        r"Lexicon Schemas API budget of 5 requests per minute for service account "
        r"sha256:[0-9a-f]{12} at http://\S+ is used up: waiting 1 min 0 s",
        waits[0],
    )
    username = connection["username"]
    key = (
        render_value("{{ u | fingerprint }}", {"u": username}, action="test", field="rate_key")
        + f" at http://{server.host}:{server.port}"
    )
    assert username not in key
    assert registry.budget(LEXICON_API).seconds_until_free(key) == pytest.approx(60.0)
    # With the minute used up, a call allowed no wait at all is refused, naming the window.
    with pytest.raises(RateLimitError, match="5 requests per minute for service account sha256:"):
        registry.budget(LEXICON_API).acquire(key, max_wait_s=0, short_wait_s=0)
    # Another service account has a budget of its own: no wait.
    other = {**connection, "username": "other.account"}
    component.run("listSchemas", {"project_id": "1"}, other, rate_wait_s=0)
    assert sent_at[-1] == 1060.0 and len(clock.sleeps) == 1
