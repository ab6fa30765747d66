"""Unit tests of the retry loop, idempotency, the seed-input mapping and budget slots."""

from __future__ import annotations

import gc
import random
import weakref
from typing import Any

import pytest

from connector import ClientError, InputError, RateLimitError, ServerError, TransportError
from connector.budgets.memory import BudgetExceeded, RateLimit
from connector.parse.response import parse_response
from connector.prepare.request import HTTPRequest
from connector.send.attempts import (
    AttemptLoop,
    budget_key,
    is_idempotent,
    policy_for,
    send_with_retries,
)
from connector.send.response import RawResponse
from connector.send.retry import RetryPolicy
from tests.http.helpers import FakeClock

QUERY_API = RateLimit("query", per_hour=60, per_second=None, max_concurrent=5)


def _request(method: str = "GET", **retry: Any) -> HTTPRequest:
    return HTTPRequest(
        action="act", method=method, url="https://api.mixpanel.com/x", retry=retry, api="Mixpanel"
    )


def _run(
    responses: list[RawResponse | Exception],
    request: HTTPRequest,
    policy: RetryPolicy | None = None,
    clock: FakeClock | None = None,
    **options: Any,
) -> tuple[Any, FakeClock, int]:
    clock = clock or FakeClock()
    sent = 0

    def send() -> RawResponse:
        nonlocal sent
        item = responses[min(sent, len(responses) - 1)]
        sent += 1
        if isinstance(item, Exception):
            raise item
        return item

    result = send_with_retries(
        send,
        lambda r: parse_response(request, r),
        request=request,
        policy=policy or RetryPolicy(jitter=0),
        clock=clock,
        rng=random.Random(1),
        registry=options.pop("registry", clock.registry()),
        limits={"query": QUERY_API},
        **options,
    )
    return result, clock, sent


@pytest.mark.parametrize(
    ("method", "flag", "expected"),
    [
        ("GET", None, True),
        ("HEAD", None, True),
        ("POST", None, False),
        ("OPTIONS", None, True),
        ("PUT", None, True),
        ("DELETE", None, True),
        ("PATCH", None, False),
        ("PATCH", "true", True),
        ("PUT", "false", False),
        ("POST", True, True),
        ("POST", "True", True),
        ("GET", False, False),
        ("POST", "", False),
    ],
)
def test_idempotency_comes_from_the_spec_else_the_method(
    method: str, flag: Any, expected: bool
) -> None:
    retry = {} if flag is None else {"idempotent": flag}
    assert is_idempotent(_request(method, **retry)) is expected


def test_seed_inputs_map_onto_the_policy() -> None:
    default = RetryPolicy()
    policy = policy_for(
        _request(max_retries="3", delay_ms=250, exponential=False, all_errors="true"), default
    )
    assert policy.max_attempts == 4
    assert policy.fixed_delay_s == 0.25
    assert policy.retry_all_errors is True
    assert policy_for(_request(max_retries=None, delay_ms=""), default) == default


def test_bad_seed_input_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Max Retry Count"):
        policy_for(_request(max_retries="-1"), RetryPolicy())
    with pytest.raises(InputError, match="Use Exponential Backoff"):
        policy_for(_request(exponential="maybe"), RetryPolicy())


def test_retry_after_http_date_is_read_against_the_injected_clock() -> None:
    clock = FakeClock()
    limited = RawResponse(429, {"retry-after": "Wed, 01 May 2024 12:00:09 GMT"}, b"{}")
    result, clock, sent = _run([limited, RawResponse(200, {}, b"[1]")], _request(), clock=clock)
    assert result == [1]
    assert clock.sleeps == [9.0]


def test_429_error_carries_the_wait_when_retries_run_out() -> None:
    limited = RawResponse(429, {"retry-after": "5"}, b'{"error": "limit"}')
    with pytest.raises(RateLimitError) as info:
        _run([limited], _request(), RetryPolicy(max_attempts=2))
    assert info.value.retry_after_s == 5.0
    assert info.value.attempts == 2
    assert "Mixpanel asks to wait 5 s" in str(info.value)


def test_non_idempotent_500_is_not_retried_and_explains_why() -> None:
    with pytest.raises(ServerError) as info:
        _run([RawResponse(502, {}, b"bad")], _request("POST"))
    assert info.value.attempts == 1
    assert "retry_non_idempotent=True" in str(info.value)


def test_non_idempotent_429_is_retried_when_the_api_says_it_was_not_processed() -> None:
    guided = RetryPolicy(jitter=0, not_processed_statuses=frozenset({429}))
    answers: list[RawResponse | Exception] = [
        RawResponse(429, {}, b"{}"),
        RawResponse(200, {}, b"1"),
    ]
    result, _, sent = _run(answers, _request("POST"), guided)
    assert (result, sent) == (1, 2)
    with pytest.raises(RateLimitError):
        _run(answers, _request("POST"))


def test_connect_error_before_sending_is_retried_even_for_a_write() -> None:
    refused = TransportError("no", kind="connect", sent=False)
    result, clock, sent = _run([refused, RawResponse(200, {}, b"1")], _request("POST"))
    assert (result, sent) == (1, 2)
    assert clock.sleeps == [2.0]


def test_200_rejection_from_fail_when_is_not_retried() -> None:
    request = HTTPRequest(
        action="act",
        method="POST",
        url="https://api.mixpanel.com/track",
        retry={"idempotent": True},
        response={"fail_when": [{"if": "body == 0", "message": "rejected"}]},
    )
    with pytest.raises(ClientError, match="rejected"):
        _run([RawResponse(200, {}, b"0")], request)


KEY = "p1 at https://api.mixpanel.com"


def test_budget_is_taken_per_attempt_and_released() -> None:
    clock = FakeClock()
    registry = clock.registry()
    request = _request(rate_limit="query", rate_key="p1")
    _run(
        [RawResponse(503, {}, b""), RawResponse(200, {}, b"1")],
        request,
        clock=clock,
        registry=registry,
    )
    budget = registry.budget(QUERY_API)
    assert budget.in_flight(KEY) == 0
    for _ in range(58):
        budget.acquire(KEY, max_wait_s=0).release()
    with pytest.raises(BudgetExceeded) as info:
        _run([RawResponse(200, {}, b"1")], request, clock=clock, registry=registry)
    assert isinstance(info.value, RateLimitError)
    assert info.value.status is None
    assert info.value.retry_after_s == info.value.wait_s


def test_missing_rate_key_still_uses_a_budget() -> None:
    clock = FakeClock()
    registry = clock.registry()
    _run([RawResponse(200, {}, b"1")], _request(rate_limit="query"), registry=registry)
    key = "(no project key) at https://api.mixpanel.com"
    assert registry.budget(QUERY_API).seconds_until_free(key) == 0.0


def test_budget_key_is_the_rate_key_at_the_requests_scheme_host_and_port() -> None:
    def key(url: str, rate_key: str = "2891273") -> str:
        request = HTTPRequest(action="a", method="GET", url=url, retry={"rate_key": rate_key})
        return budget_key(request, QUERY_API)

    assert key("https://mixpanel.com/api/query/x") == "2891273 at https://mixpanel.com"
    assert key("https://MixPanel.com:443/other?q=1") == "2891273 at https://mixpanel.com"
    assert key("http://127.0.0.1:8080/api/query/x") == "2891273 at http://127.0.0.1:8080"
    assert key("http://127.0.0.1:8081/api/query/x") == "2891273 at http://127.0.0.1:8081"
    assert key("http://mixpanel.com/api") == "2891273 at http://mixpanel.com"
    assert key("http://[::1]:9/x", "7") == "7 at http://[::1]:9"


def test_an_attempt_loop_is_freed_without_the_cyclic_collector() -> None:
    # A batch's request (and the records it carries) must go when its loop goes, not when the
    # cyclic collector next runs: with 16 requests in flight, waiting for it held 30+ bodies.
    loop = AttemptLoop(_request(), RetryPolicy(jitter=0), clock=FakeClock(), rng=random.Random(1))
    alive = weakref.ref(loop)
    gc.disable()
    try:
        del loop
        assert alive() is None
    finally:
        gc.enable()


def test_an_attempt_loop_without_hooks_still_notes_why_it_gave_up() -> None:
    loop = AttemptLoop(
        _request("POST"), RetryPolicy(jitter=0), clock=FakeClock(), rng=random.Random(1)
    )
    next(iter(loop))
    with pytest.raises(ServerError, match="retry_non_idempotent=True"):
        loop.failed(ServerError("bad gateway", status=502))
