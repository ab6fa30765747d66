"""The one attempt loop: a rate-budget slot per attempt, retries as the policy decides, a clock."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import TypeVar

from ..budgets.advertised import HEADER as ADVERTISED
from ..budgets.advertised import in_force, learn
from ..budgets.limits import RateLimit, Registry
from ..budgets.memory import DEFAULT_REGISTRY
from ..budgets.notice import PYTHON_ADVICE, SHORT_WINDOWS, wait_notice, whose
from ..core.values import parse_bool
from ..errors import APIError, BudgetExceeded, TransportError
from ..prepare.request import HTTPRequest
from .clock import Clock, SystemClock
from .policy import policy_for
from .redirects import origin
from .response import RawResponse
from .retry import RetryDecision, RetryPolicy, decide, parse_retry_after

__all__ = [
    "DEFAULT_RETRY",
    "NO_RETRY",
    "REPEATABLE_METHODS",
    "SHORT_WAIT_S",
    "AttemptLoop",
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
#: Called when the loop gives up on `error` (to note why in its message), before it is raised.
OnStop = Callable[[APIError, RetryDecision], None]
#: Called before the loop waits `decision.delay_s` and tries again.
OnRetry = Callable[[APIError, RetryDecision], None]


class _Announcer:
    """The budget's wait callback: one warning (and `on_wait`) per wait; `done` after it."""

    def __init__(
        self,
        limit: RateLimit,
        key: str,
        registry: Registry | None,
        on_wait: Callable[[str], None] | None,
        advice: str = "",
    ) -> None:
        self.limit, self.key, self.on_wait, self.advice = limit, key, on_wait, advice
        self.where = getattr(registry or DEFAULT_REGISTRY, "url", None)
        self.waiting = False

    def __call__(self, window: str, wait_s: float | None) -> None:
        notice = wait_notice(self.limit, self.key, window, wait_s, self.where)
        # A wait for the hourly window says whose budget it is and how to change it.
        logged = (
            notice if window in SHORT_WINDOWS else f"{notice}. {whose(self.limit, self.advice)}"
        )
        waits_log.warning("%s", logged)
        self.waiting = True
        if self.on_wait is not None:
            self.on_wait(notice)

    def done(self) -> None:
        """The wait is over: `on_wait("")`."""
        if self.waiting and self.on_wait is not None:
            self.on_wait("")
        self.waiting = False


#: Methods HTTP defines as idempotent (RFC 9110, 9.2.2): repeating one leaves the server as
#: one request would. POST and PATCH are not, unless the spec declares `retry.idempotent`.
REPEATABLE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def is_idempotent(request: HTTPRequest) -> bool:
    """The spec's rendered `retry.idempotent`; when absent, the method's own (RFC 9110)."""
    flag = parse_bool(request.retry.get("idempotent"))
    if flag is None:
        return request.method in REPEATABLE_METHODS
    return flag


class AttemptLoop:
    """The attempts of one request: iterate for each attempt, report each failure to `failed`.

    `failed` asks the retry policy: it waits and returns when another attempt may follow (the
    loop then yields it), else it raises the error, with `.attempts` set. Every mode's request
    runs in one (`send_with_retries`); a stream's resumptions after a cut are the attempts of
    another, whose failures are the cuts (connector.modes.streamed).
    """

    def __init__(
        self,
        request: HTTPRequest,
        policy: RetryPolicy,
        *,
        clock: Clock,
        rng: random.Random,
        idempotent: bool | None = None,
        reached: bool | None = None,
        on_stop: OnStop | None = None,
        on_retry: OnRetry | None = None,
    ) -> None:
        self.request = request
        self.policy = policy
        self.clock = clock
        self.rng = rng
        self.idempotent = is_idempotent(request) if idempotent is None else idempotent
        self.reached = reached  # None: as the error says (TransportError.sent)
        # Kept as given (None: the loop's own): a bound method stored on its own object would be
        # a reference cycle, and each request's body would then wait for the cyclic collector.
        self.on_stop = on_stop
        self.on_retry = on_retry
        self.attempt = 0
        self.start = clock.monotonic()

    def __iter__(self) -> Iterator[int]:
        while True:
            self.attempt += 1
            yield self.attempt

    def failed(self, error: APIError) -> None:
        """Wait for the next attempt if the policy allows one; else raise `error`."""
        if isinstance(error, TransportError):
            status, kind, reached = None, error.kind, error.sent
        else:
            status, kind, reached = error.status, None, True
        decision = decide(
            self.policy,
            self.attempt,
            status=status,
            error_kind=kind,
            retry_after_s=error.retry_after_s,
            paced=error.paced,
            elapsed_s=self.clock.monotonic() - self.start,
            idempotent=self.idempotent,
            request_may_have_reached_server=reached if self.reached is None else self.reached,
            rng=self.rng,
        )
        error.attempts = self.attempt
        if decision.delay_s is None:
            (self.on_stop or self._noted)(error, decision)
            raise error
        (self.on_retry or self._logged)(error, decision)
        self.clock.sleep(decision.delay_s)

    def _noted(self, error: APIError, decision: RetryDecision) -> None:
        request = self.request
        log.info("%s: giving up: %s", request.action, decision.reason)
        if "non-idempotent" in decision.reason:
            error.add_note_to_message(
                f". Not retried: the request may have reached {request.api_name} and "
                "repeating it could apply it twice; pass "
                "retry=RetryPolicy(retry_non_idempotent=True) to retry anyway."
            )
        elif self.attempt > 1:
            error.add_note_to_message(
                f" (gave up after {self.attempt} attempts: {decision.reason})"
            )

    def _logged(self, error: APIError, decision: RetryDecision) -> None:
        log.warning("%s", self.request.secrets.text(retry_line(self.request, error, decision)))


def budget_key(request: HTTPRequest, limit: RateLimit | None) -> str:
    """Whose budget a request draws from: its `retry.rate_key` at the API it goes to.

    The scheme, host and port are part of the key, so traffic to a local server or a test
    host never uses up the budget of the same key (the same project) at the real API.
    """
    key = str(request.retry.get("rate_key") or f"(no {limit.scope if limit else ''} key)")
    return f"{key} at {origin_text(request.url)}"


def origin_text(url: str) -> str:
    """`scheme://host[:port]` of `url`, the port left out when it is the scheme's default."""
    scheme, host, port = origin(url)
    default = {"http": 80, "https": 443}.get(scheme)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"{scheme}://{shown}{'' if port == default else f':{port}'}"


def retry_line(request: HTTPRequest, error: APIError, decision: RetryDecision) -> str:
    """The one log line of a retry; a network failure says where and why, in a few words."""
    if isinstance(error, TransportError):  # e.g. "could not reach 127.0.0.1:9: connection refused"
        return f"{error}; {decision.reason}"
    return f"{request.action}: {decision.reason}"


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
    advice: str = PYTHON_ADVICE,
) -> T:
    """Send, parse, and retry failures the policy allows; return the parsed result.

    Each attempt first takes a slot from the request's rate budget (`retry.rate_limit`, looked
    up in `limits`, with `retry.rate_key`) in `registry` and holds it while the request is in
    flight. A per-second window or a concurrency slot is waited for up to `short_wait_s`; the
    hourly window up to `rate_wait_s`. Each wait over a second is announced once: a warning
    on the `connector.waits` log naming the budget, the wait and where the budget is shared,
    and the same text to `on_wait` (then `on_wait("")` once the slot is granted); a wait for
    the hourly window, and its BudgetExceeded, also say whose budget it is, with `advice` on
    changing it. A
    `Retry-After` header is parsed against `clock.now()` and stored on the response before
    parsing, so a 429 error carries the wait.

    Raises:
        APIError: the last failure, with `.attempts`; a budget that stays used up raises
            BudgetExceeded (a RateLimitError) saying when it frees up.
    """
    clock = clock or SystemClock()
    loop = AttemptLoop(request, policy, clock=clock, rng=rng or random.Random())
    registry = registry or DEFAULT_REGISTRY
    where = origin_text(request.url)
    limit = (limits or {}).get(str(request.retry.get("rate_limit") or "none"))
    if limit is not None:  # what the server advertised, when it did, instead of the spec's
        limit = in_force(limit, registry, where)
    budget = registry.budget(limit) if limit else None
    key = budget_key(request, limit)
    announce = _Announcer(limit, key, registry, on_wait, advice) if limit else None
    for attempt in loop:
        try:
            slot = (
                budget.acquire(
                    key, max_wait_s=rate_wait_s, short_wait_s=short_wait_s, on_wait=announce
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
            if limit is not None:
                learn(registry, where, response.headers.get(ADVERTISED))
            wait = parse_retry_after(response.headers.get("retry-after"), clock.now())
            if wait is not None:
                response = replace(response, retry_after_s=wait)
            return parse(response)
        except BudgetExceeded as exc:
            exc.attempts = attempt - 1
            if attempt > 1:
                exc.add_note_to_message(f" (after {attempt - 1} attempt(s) of {request.action})")
            if limit is not None and exc.retry_at_s is not None:  # an hourly window, not a slot
                exc.add_note_to_message(f". {whose(limit, advice)}")
            raise
        except APIError as exc:
            loop.failed(exc)
    raise AssertionError("unreachable")  # pragma: no cover
