"""Unit tests for connector.retry."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from connector.send.retry import (
    DEFAULT_RETRY_STATUSES,
    RetryDecision,
    RetryPolicy,
    decide,
    parse_retry_after,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
NO_JITTER = RetryPolicy(jitter=0.0)


def call(policy: RetryPolicy, attempt: int = 1, **overrides: Any) -> float | None:
    kwargs: dict[str, Any] = {
        "status": None,
        "error_kind": None,
        "retry_after_s": None,
        "elapsed_s": 0.0,
        "idempotent": True,
        "request_may_have_reached_server": False,
        "rng": random.Random(1234),
    }
    kwargs.update(overrides)
    return decide(policy, attempt, **kwargs).delay_s


# --- status classes -------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_4xx_other_than_429_is_final(status: int) -> None:
    assert call(NO_JITTER, status=status) is None


def test_429_is_retried() -> None:
    assert call(NO_JITTER, status=429) == 2.0


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_statuses_are_retried(status: int) -> None:
    assert call(NO_JITTER, status=status) == 2.0


def test_500_of_a_request_not_safe_to_repeat_is_not_retried_by_default() -> None:
    assert call(NO_JITTER, status=500, idempotent=False) is None
    assert call(NO_JITTER, status=501, idempotent=False) is None


@pytest.mark.parametrize("status", [500, 502, 503, 504, 507, 599])
def test_every_5xx_of_an_idempotent_request_is_retried(status: int) -> None:
    assert call(NO_JITTER, status=status) == 2.0
    assert call(NO_JITTER, status=400) is None
    assert call(NO_JITTER, status=501) is None  # Not Implemented: permanent by definition
    assert call(NO_JITTER, status=505) is None
    assert call(RetryPolicy(jitter=0.0, idempotent_5xx=False), status=500) is None


def test_500_retried_in_seed_5xx_and_network_mode() -> None:
    policy = RetryPolicy.from_retry_inputs(None, None, None, False, default=NO_JITTER)
    assert policy.retry_5xx is True
    assert policy.retry_all_errors is False
    for status in (500, 501, 502, 503, 504, 599):
        assert call(policy, status=status) == 2.0
    # Still not a 4xx retrier, but keeps Mixpanel's 429 rate-limit signal.
    assert call(policy, status=400) is None
    assert call(policy, status=401) is None
    assert call(policy, status=429) == 2.0
    # Network errors are retried in this mode.
    assert call(policy, error_kind="connect") == 2.0
    assert call(policy, error_kind="read_timeout") == 2.0


def test_retry_all_errors_retries_every_4xx_and_5xx() -> None:
    policy = RetryPolicy.from_retry_inputs(None, None, None, True, default=NO_JITTER)
    assert policy.retry_all_errors is True
    for status in (400, 401, 404, 418, 500, 599):
        assert call(policy, status=status) == 2.0
    assert call(policy, error_kind="ssl") == 2.0


@pytest.mark.parametrize("status", [200, 201, 204, 301, 304])
def test_non_error_status_is_not_retried(status: int) -> None:
    policy = RetryPolicy(retry_all_errors=True, jitter=0.0)
    assert call(policy, status=status) is None


def test_nothing_failed_is_not_retried() -> None:
    assert call(NO_JITTER) is None


def test_network_error_kinds() -> None:
    assert call(NO_JITTER, error_kind="connect") == 2.0
    assert call(NO_JITTER, error_kind="read_timeout", request_may_have_reached_server=True) == 2.0
    assert call(NO_JITTER, error_kind="reset", request_may_have_reached_server=True) == 2.0
    assert call(NO_JITTER, error_kind="ssl") is None
    assert call(NO_JITTER, error_kind="decode") is None


def test_default_statuses() -> None:
    assert RetryPolicy().retry_statuses == frozenset({429, 502, 503, 504})
    assert DEFAULT_RETRY_STATUSES == frozenset({429, 502, 503, 504})


# --- backoff ----------------------------------------------------------------------------


def test_exponential_growth_without_jitter_caps_at_max_delay() -> None:
    policy = RetryPolicy(max_attempts=10, total_budget_s=10_000.0, jitter=0.0)
    delays = [call(policy, attempt, status=503) for attempt in range(1, 10)]
    assert delays == [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0, 60.0]


def test_exponential_growth_with_jitter_stays_in_bounds() -> None:
    policy = RetryPolicy(max_attempts=10, total_budget_s=10_000.0, jitter=0.5)
    rng = random.Random(42)
    nominal = [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0, 60.0]
    for _ in range(50):
        for attempt, full in enumerate(nominal, start=1):
            delay = call(policy, attempt, status=429, rng=rng)
            assert delay is not None
            assert full * 0.5 <= delay <= full


def test_jitter_is_deterministic_with_seeded_rng() -> None:
    policy = RetryPolicy()
    first = [call(policy, a, status=503, rng=random.Random(7)) for a in (1, 2, 3)]
    second = [call(policy, a, status=503, rng=random.Random(7)) for a in (1, 2, 3)]
    assert first == second
    assert first != [2.0, 4.0, 8.0]


def test_full_jitter_range_reaches_zero() -> None:
    policy = RetryPolicy(jitter=1.0)
    for seed in range(20):
        delay = call(policy, 3, status=503, rng=random.Random(seed))
        assert delay is not None
        assert 0.0 <= delay <= 8.0


def test_attempts_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3, jitter=0.0)
    assert call(policy, 1, status=503) == 2.0
    assert call(policy, 2, status=503) == 4.0
    assert call(policy, 3, status=503) is None


def test_budget_exhausted_by_backoff() -> None:
    policy = RetryPolicy(total_budget_s=10.0, jitter=0.0)
    assert call(policy, 3, status=503, elapsed_s=2.0) == 8.0  # ends exactly at 10 s
    assert call(policy, 3, status=503, elapsed_s=2.5) is None
    assert call(policy, 1, status=503, elapsed_s=11.0) is None


# --- Retry-After --------------------------------------------------------------------------


def test_parse_retry_after_seconds() -> None:
    assert parse_retry_after("120", NOW) == 120.0
    assert parse_retry_after("  7 ", NOW) == 7.0
    assert parse_retry_after("0", NOW) == 0.0
    assert parse_retry_after("1.5", NOW) == 1.5


def test_parse_retry_after_negative_is_zero() -> None:
    assert parse_retry_after("-5", NOW) == 0.0


def test_parse_retry_after_http_date() -> None:
    future = format_datetime(NOW + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(future, NOW) == 90.0
    assert parse_retry_after("Wed, 01 May 2024 12:01:00 GMT", NOW) == 60.0


def test_parse_retry_after_http_date_in_past_is_zero() -> None:
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", NOW) == 0.0


def test_parse_retry_after_naive_now_is_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    assert parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", naive) == 30.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "nan", "inf", "1e3", "12abc"])
def test_parse_retry_after_garbage(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_retry_after_wins_over_backoff() -> None:
    assert call(RetryPolicy(), 1, status=429, retry_after_s=17.0) == 17.0
    # Not capped by max_delay_s, only by the budget.
    assert call(RetryPolicy(), 1, status=503, retry_after_s=120.0) == 120.0
    # Also wins over a fixed delay.
    assert call(RetryPolicy(fixed_delay_s=0.5), 1, status=503, retry_after_s=3.0) == 3.0


def test_retry_after_exceeding_budget_stops() -> None:
    policy = RetryPolicy(total_budget_s=300.0)
    assert call(policy, 1, status=429, retry_after_s=301.0) is None
    assert call(policy, 1, status=429, retry_after_s=200.0, elapsed_s=150.0) is None
    assert call(policy, 1, status=429, retry_after_s=150.0, elapsed_s=150.0) == 150.0


def test_retry_after_does_not_make_final_status_retriable() -> None:
    assert call(RetryPolicy(), 1, status=400, retry_after_s=1.0) is None


def test_retry_after_does_not_extend_attempts() -> None:
    assert call(RetryPolicy(max_attempts=2), 2, status=429, retry_after_s=1.0) is None


# --- seed input mapping ------------------------------------------------------------------


def test_seed_max_retry_count_zero_means_no_retries() -> None:
    policy = RetryPolicy.from_retry_inputs(0, None, None, None, default=RetryPolicy())
    assert policy.max_attempts == 1
    assert call(policy, 1, status=503) is None


def test_seed_max_retry_count_maps_to_attempts() -> None:
    policy = RetryPolicy.from_retry_inputs(3, None, None, None, default=RetryPolicy())
    assert policy.max_attempts == 4


def test_seed_fixed_delay_when_backoff_off() -> None:
    policy = RetryPolicy.from_retry_inputs(3, 500, False, None, default=RetryPolicy())
    assert policy.fixed_delay_s == 0.5
    delays = [call(policy, a, status=503, rng=random.Random(a)) for a in (1, 2, 3, 4)]
    assert delays == [0.5, 0.5, 0.5, None]


def test_seed_delay_ignored_when_backoff_on() -> None:
    default = RetryPolicy(fixed_delay_s=1.0, jitter=0.0)
    policy = RetryPolicy.from_retry_inputs(None, 500, True, None, default=default)
    assert policy.fixed_delay_s is None
    assert [call(policy, a, status=503) for a in (1, 2, 3)] == [2.0, 4.0, 8.0]


def test_seed_backoff_off_without_delay_uses_base_delay() -> None:
    policy = RetryPolicy.from_retry_inputs(None, None, False, None, default=RetryPolicy())
    assert policy.fixed_delay_s == 2.0


def test_seed_delay_without_switch_follows_default_mode() -> None:
    exponential = RetryPolicy.from_retry_inputs(None, 500, None, None, default=RetryPolicy())
    assert exponential.fixed_delay_s is None
    fixed_default = RetryPolicy(fixed_delay_s=1.0)
    fixed = RetryPolicy.from_retry_inputs(None, 250, None, None, default=fixed_default)
    assert fixed.fixed_delay_s == 0.25


def test_seed_none_keeps_default() -> None:
    default = RetryPolicy(max_attempts=7, retry_all_errors=True, fixed_delay_s=3.0)
    assert RetryPolicy.from_retry_inputs(None, None, None, None, default=default) == default


def test_seed_rejects_negative_inputs() -> None:
    with pytest.raises(ValueError):
        RetryPolicy.from_retry_inputs(-1, None, None, None, default=RetryPolicy())
    with pytest.raises(ValueError):
        RetryPolicy.from_retry_inputs(None, -1, False, None, default=RetryPolicy())


@pytest.mark.parametrize(
    "kwargs",
    [{"max_attempts": 0}, {"jitter": 1.5}, {"jitter": -0.1}, {"fixed_delay_s": -1.0}],
)
def test_policy_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


# --- idempotency ---------------------------------------------------------------------------


def test_non_idempotent_connect_error_before_send_is_retried() -> None:
    delay = call(NO_JITTER, error_kind="connect", idempotent=False)
    assert delay == 2.0


@pytest.mark.parametrize("kind", ["read_timeout", "reset"])
def test_non_idempotent_error_after_send_is_not_retried(kind: str) -> None:
    assert (
        call(NO_JITTER, error_kind=kind, idempotent=False, request_may_have_reached_server=True)
        is None
    )


@pytest.mark.parametrize("status", [502, 504])
def test_non_idempotent_gateway_response_is_not_retried(status: int) -> None:
    assert call(NO_JITTER, status=status, idempotent=False) is None
    assert (
        call(NO_JITTER, status=status, idempotent=False, request_may_have_reached_server=True)
        is None
    )


@pytest.mark.parametrize("status", [429, 503])
def test_non_idempotent_not_processed_statuses_are_retried(status: int) -> None:
    guided = RetryPolicy(jitter=0.0, not_processed_statuses=frozenset({429, 503}))
    assert (
        call(guided, status=status, idempotent=False, request_may_have_reached_server=True) == 2.0
    )
    # Without the API's declaration nothing counts as "not processed": no duplicate risked.
    assert (
        call(NO_JITTER, status=status, idempotent=False, request_may_have_reached_server=True)
        is None
    )


def test_non_idempotent_retried_when_policy_allows() -> None:
    policy = RetryPolicy(retry_non_idempotent=True, jitter=0.0)
    assert (
        call(
            policy,
            error_kind="read_timeout",
            idempotent=False,
            request_may_have_reached_server=True,
        )
        == 2.0
    )
    assert call(policy, status=502, idempotent=False) == 2.0


def test_retry_all_errors_does_not_override_idempotency() -> None:
    policy = RetryPolicy(retry_all_errors=True, jitter=0.0)
    assert call(policy, status=500, idempotent=False) is None


# --- decision explanation ------------------------------------------------------------------


def test_decide_explains() -> None:
    rng = random.Random(0)
    common: dict[str, Any] = {
        "error_kind": None,
        "retry_after_s": None,
        "elapsed_s": 0.0,
        "idempotent": True,
        "request_may_have_reached_server": False,
        "rng": rng,
    }
    ok = decide(NO_JITTER, 1, status=503, **common)
    assert ok == RetryDecision(2.0, ok.reason)
    assert ok.retry
    assert "HTTP 503" in ok.reason and "2/5" in ok.reason
    final = decide(NO_JITTER, 1, status=401, **common)
    assert not final.retry
    assert "not retriable" in final.reason
    exhausted = decide(NO_JITTER, 5, status=503, **common)
    assert exhausted.delay_s is None
    assert "attempt" in exhausted.reason
    over = decide(NO_JITTER, 1, status=429, **{**common, "retry_after_s": 999.0})
    assert over.delay_s is None
    assert "budget" in over.reason


def test_a_paced_throttle_is_retried_at_once_but_the_last_attempt_backs_off() -> None:
    # The request's concurrency limit was lowered for it: the lower limit paces the retry.
    assert call(NO_JITTER, 1, status=429, paced=True) == 0.0
    assert call(NO_JITTER, 3, status=429, paced=True) == 0.0
    assert call(NO_JITTER, 4, status=429, paced=True) == 16.0  # before the 5th and last
    assert call(NO_JITTER, 1, status=429) == 2.0
    assert call(NO_JITTER, 1, status=429, paced=True, retry_after_s=7) == 7.0  # the server's word
    decision = decide(
        NO_JITTER,
        1,
        status=429,
        error_kind=None,
        retry_after_s=None,
        elapsed_s=0.0,
        idempotent=True,
        request_may_have_reached_server=True,
        rng=random.Random(1),
        paced=True,
    )
    assert "concurrency limit was lowered" in decision.reason
