"""Runs one call as attempts: a rate-budget slot each, retries as the policy allows, a clock."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from .budgets.notice import wait_notice
from .errors import APIError, InputError, InputProblem, TransportError
from .parse import RawResponse
from .ratelimit import DEFAULT_REGISTRY, BudgetExceeded, RateLimit, Registry
from .request import HTTPRequest
from .retry import RetryPolicy, decide, parse_retry_after
from .transport import IDEMPOTENT_METHODS
from .values import parse_bool, parse_int

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "SHORT_WAIT_S",
    "Clock",
    "SystemClock",
    "is_idempotent",
    "policy_for",
    "send_with_retries",
]

log = logging.getLogger("connector.attempts")
waits_log = logging.getLogger("connector.waits")

#: How long a call waits for a per-second window or a concurrency slot unless told otherwise.
#: These free up within seconds, so they are always waited for; the cap only stops a call
#: that would otherwise wait forever on a slot another process never gives back.
SHORT_WAIT_S = 300.0

#: Mixpanel's guidance: 429/502/503/504 and network errors, 2 s doubling to 60 s, jittered.
DEFAULT_RETRY = RetryPolicy()
#: A single attempt; handy for tests and callers that retry themselves.
NO_RETRY = RetryPolicy(max_attempts=1)

T = TypeVar("T")


class Clock(Protocol):
    """Time as the retry layer sees it; inject a fake one so tests never really wait."""

    def monotonic(self) -> float:
        """Seconds on a monotonic clock."""

    def now(self) -> datetime:
        """The current wall-clock time (aware, UTC), for Retry-After HTTP dates."""

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`."""


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """Seconds on time.monotonic."""
        return time.monotonic()

    def now(self) -> datetime:
        """The current UTC time."""
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        """time.sleep."""
        time.sleep(seconds)


class _Announcer:
    """The budget's wait callback: one warning (and `on_wait`) per wait; `done` after it."""

    def __init__(
        self,
        limit: RateLimit,
        key: str,
        registry: Registry | None,
        on_wait: Callable[[str], None] | None,
    ) -> None:
        self.limit, self.key, self.on_wait = limit, key, on_wait
        self.where = getattr(registry or DEFAULT_REGISTRY, "url", None)
        self.waiting = False

    def __call__(self, window: str, wait_s: float | None) -> None:
        notice = wait_notice(self.limit, self.key, window, wait_s, self.where)
        waits_log.warning("%s", notice)
        self.waiting = True
        if self.on_wait is not None:
            self.on_wait(notice)

    def done(self) -> None:
        """The wait is over: `on_wait("")`."""
        if self.waiting and self.on_wait is not None:
            self.on_wait("")
        self.waiting = False


def is_idempotent(request: HTTPRequest) -> bool:
    """The spec's rendered `retry.idempotent`; when absent, GET and HEAD are idempotent."""
    flag = parse_bool(request.retry.get("idempotent"))
    if flag is None:
        return request.method in IDEMPOTENT_METHODS
    return flag


def policy_for(request: HTTPRequest, default: RetryPolicy) -> RetryPolicy:
    """`default`, overridden by the action's rendered seed inputs (Max Retry Count etc.).

    Raises:
        InputError: a rendered retry input is not a number / boolean, or is negative.
    """
    spec = request.retry
    field = ""
    try:
        field = "max_retries"
        max_retries = parse_int(spec.get("max_retries"))
        field = "delay_ms"
        delay_ms = parse_int(spec.get("delay_ms"))
        field = "exponential"
        exponential = parse_bool(spec.get("exponential"))
        field = "all_errors"
        all_errors = parse_bool(spec.get("all_errors"))
        field = ""
        return RetryPolicy.from_seed_inputs(max_retries, delay_ms, exponential, all_errors, default)
    except (TypeError, ValueError) as exc:
        label = {
            "max_retries": "Max Retry Count",
            "delay_ms": "Retry Delay (ms)",
            "exponential": "Use Exponential Backoff",
            "all_errors": "Retry On All Errors",
        }.get(field, "Retry settings")
        raise InputError(
            request.action, [InputProblem(f"retry.{field or 'policy'}", label, str(exc))]
        ) from None


def send_with_retries(
    send: Callable[[], RawResponse],
    parse: Callable[[RawResponse], T],
    *,
    request: HTTPRequest,
    policy: RetryPolicy,
    clock: Clock | None = None,
    rng: random.Random | None = None,
    registry: Registry | None = None,
    limits: Mapping[str, RateLimit] | None = None,
    rate_wait_s: float = 0.0,
    short_wait_s: float = SHORT_WAIT_S,
    on_wait: Callable[[str], None] | None = None,
) -> T:
    """Send, parse, and retry failures the policy allows; return the parsed result.

    Each attempt first takes a slot from the request's rate budget (`retry.rate_limit`, looked
    up in `limits`, with `retry.rate_key`) in `registry` and holds it while the request is in
    flight. A per-second window or a concurrency slot is waited for up to `short_wait_s`; the
    hourly window up to `rate_wait_s`. Each wait over a second is announced once: a warning
    on the `connector.waits` log naming the budget, the wait and where the budget is shared,
    and the same text to `on_wait` (then `on_wait("")` once the slot is granted). A
    `Retry-After` header is parsed against `clock.now()` and stored on the response before
    parsing, so a 429 error carries the wait.

    Raises:
        APIError: the last failure, with `.attempts`; a budget that stays used up raises
            ratelimit.BudgetExceeded (a RateLimitError) saying when it frees up.
    """
    clock = clock or SystemClock()
    rng = rng or random.Random()
    idempotent = is_idempotent(request)
    limit = (limits or {}).get(str(request.retry.get("rate_limit") or "none"))
    budget = (registry or DEFAULT_REGISTRY).budget(limit) if limit else None
    budget_key = str(request.retry.get("rate_key") or f"(no {limit.scope if limit else ''} key)")
    announce = _Announcer(limit, budget_key, registry, on_wait) if limit else None
    start = clock.monotonic()
    attempt = 0
    while True:
        attempt += 1
        error: APIError
        try:
            slot = (
                budget.acquire(
                    budget_key, max_wait_s=rate_wait_s, short_wait_s=short_wait_s, on_wait=announce
                )
                if budget
                else None
            )
            if announce is not None:
                announce.done()
            try:
                response = send()
            finally:
                if slot is not None:
                    slot.release()
            wait = parse_retry_after(response.headers.get("retry-after"), clock.now())
            if wait is not None:
                response = replace(response, retry_after_s=wait)
            return parse(response)
        except BudgetExceeded as exc:
            exc.attempts = attempt - 1
            if attempt > 1:
                exc.add_note_to_message(f" (after {attempt - 1} attempt(s) of {request.action})")
            raise
        except TransportError as exc:
            error, status, kind, reached = exc, None, exc.kind, exc.sent
        except APIError as exc:
            error, status, kind, reached = exc, exc.status, None, True
        decision = decide(
            policy,
            attempt,
            status=status,
            error_kind=kind,
            retry_after_s=error.retry_after_s,
            elapsed_s=clock.monotonic() - start,
            idempotent=idempotent,
            request_may_have_reached_server=reached,
            rng=rng,
        )
        error.attempts = attempt
        if decision.delay_s is None:
            log.info("%s: giving up: %s", request.action, decision.reason)
            if "non-idempotent" in decision.reason:
                error.add_note_to_message(
                    f". Not retried: the request may have reached {request.api_name} and "
                    "repeating it could apply it twice; pass "
                    "retry=RetryPolicy(retry_non_idempotent=True) to retry anyway."
                )
            elif attempt > 1:
                error.add_note_to_message(f" (gave up after {attempt} attempts: {decision.reason})")
            raise error
        log.warning("%s: %s", request.action, request.secrets.text(decision.reason))
        clock.sleep(decision.delay_s)
