"""Pure retry decisions (which failures to retry and how long to wait) per Mixpanel's guidance.

`decide` applies these rules, in order:

1. Only failures are retried: a status ``>= 400`` or a network ``error_kind``.
   4xx other than 429 is final unless ``policy.retry_all_errors``; 429/502/503/504
   (``policy.retry_statuses``) are retried, and any 5xx when ``policy.retry_5xx`` or
   when the request is idempotent (``policy.idempotent_5xx``; 501 and 505 excepted).
   Error kinds ``connect``, ``read_timeout`` and ``reset`` are retried.
2. Stop once ``attempt`` reaches ``policy.max_attempts``.
3. Non-idempotent requests (``idempotent=False``) that may have reached the server are
   not retried unless ``policy.retry_non_idempotent``: repeating them could apply a
   write twice. Any HTTP response counts as having reached the server, whereas a
   connection error before the request was sent is always safe. Exception: a 429 or
   503 response means Mixpanel rejected the request (rate limit / unavailable) without
   processing it, so repeating it cannot duplicate anything and it IS retried.
4. The wait is the ``Retry-After`` value when given (it wins over backoff and is not
   capped by ``max_delay_s``); otherwise none when the throttled request's adaptive
   concurrency limit was lowered for it (``paced``: waiting for a slot under the lowered
   limit is the slowing down, as a TCP sender halves its window and resends at once after a
   loss, RFC 5681 fast retransmit; a request is paced twice at most, its later throttles back
   off),
   except before the last attempt, which always backs off;
   otherwise ``fixed_delay_s`` if set, else
   ``base_delay_s * 2 ** (attempt - 1)`` capped at ``max_delay_s`` with jitter drawn
   from ``rng``.
5. Stop if ``elapsed_s`` plus the wait would exceed ``policy.total_budget_s``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from ..errors import ERROR_CONNECT, ERROR_READ_TIMEOUT, ERROR_RESET
from .policy import DEFAULT_RETRY_STATUSES, NETWORK_ERROR_KINDS, PERMANENT_5XX, RetryPolicy

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "ERROR_CONNECT",
    "ERROR_READ_TIMEOUT",
    "ERROR_RESET",
    "NETWORK_ERROR_KINDS",
    "RetryDecision",
    "RetryPolicy",
    "decide",
    "parse_retry_after",
]

_DELTA_SECONDS = re.compile(r"[+-]?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class RetryDecision:
    """Outcome of a retry decision, with a human-readable reason for logs.

    Attributes:
        delay_s: Seconds to wait before the next attempt, or None to stop.
        reason: Why the decision was taken.
    """

    delay_s: float | None
    reason: str

    @property
    def retry(self) -> bool:
        """Whether another attempt should be made."""
        return self.delay_s is not None


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Parse a ``Retry-After`` header into seconds to wait.

    Both forms are accepted: delta-seconds (``"120"``) and an HTTP-date
    (``"Wed, 21 Oct 2015 07:28:00 GMT"``). Negative values and dates in the past give 0.

    Args:
        value: Raw header value, or None if the header was absent.
        now: Current time; a naive value is taken to be UTC.

    Returns:
        Seconds to wait (>= 0), or None if the header is absent or unparseable.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return max(0.0, float(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _backoff(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Delay after ``attempt`` from fixed or jittered exponential backoff."""
    if policy.fixed_delay_s is not None:
        return policy.fixed_delay_s
    exponent = min(attempt - 1, 64)  # bounded: 2**64 * base exceeds any sane max_delay
    delay = min(policy.base_delay_s * 2.0**exponent, policy.max_delay_s)
    if policy.jitter == 0.0:
        return delay
    return rng.uniform(delay * (1.0 - policy.jitter), delay)


def _failure(
    policy: RetryPolicy, status: int | None, error_kind: str | None, idempotent: bool
) -> str | RetryDecision:
    """The retriable failure's name ("HTTP 503", "reset error"), or the decision to stop."""
    if status is not None and status >= 400:
        failure = f"HTTP {status}"
        retriable = policy.is_retriable_status(status) or (
            idempotent
            and policy.idempotent_5xx
            and 500 <= status <= 599
            and status not in PERMANENT_5XX
        )
    elif error_kind is not None:
        failure = f"{error_kind} error"
        retriable = policy.is_retriable_error(error_kind)
    elif status is not None:
        return RetryDecision(None, f"HTTP {status} is not an error")
    else:
        return RetryDecision(None, "no failure to retry")
    if not retriable:
        return RetryDecision(None, f"{failure} is not retriable")
    return failure


def _wait(
    policy: RetryPolicy,
    attempt: int,
    retry_after_s: float | None,
    rng: random.Random,
    paced: bool = False,
) -> tuple[float, str]:
    """The wait before the next attempt, and where it comes from."""
    if retry_after_s is not None:
        return max(0.0, retry_after_s), "Retry-After"
    if paced and attempt < policy.max_attempts - 1:
        return 0.0, "the concurrency limit was lowered: it paces the retry"
    source = "fixed delay" if policy.fixed_delay_s is not None else "backoff"
    return _backoff(policy, attempt, rng), source


def decide(
    policy: RetryPolicy,
    attempt: int,
    *,
    status: int | None,
    error_kind: str | None,
    retry_after_s: float | None,
    elapsed_s: float,
    paced: bool = False,
    idempotent: bool,
    request_may_have_reached_server: bool,
    rng: random.Random,
) -> RetryDecision:
    """Decide whether to retry a failed attempt and how long to wait first (rules above).

    Args:
        policy: Retry policy in force.
        attempt: 1-based number of the attempt that just failed.
        status: HTTP status of the response, or None if there was none.
        error_kind: Network error kind (see ``ERROR_*``), or None if a response arrived.
        retry_after_s: Parsed ``Retry-After`` value in seconds, or None.
        paced: The request's adaptive concurrency limit is lower than when it left (lowered
            for this throttling answer or since): the retry need not wait (rule 4).
        elapsed_s: Seconds since the first attempt started.
        idempotent: Whether repeating the request is harmless.
        request_may_have_reached_server: Whether the request may have been (partly)
            received, e.g. a read timeout or reset after sending.
        rng: Random source for jitter (inject a seeded one for determinism).

    Returns:
        The decision: seconds to wait before the next attempt (or None) and why.
    """
    failure = _failure(policy, status, error_kind, idempotent)
    if isinstance(failure, RetryDecision):
        return failure
    if attempt >= policy.max_attempts:
        return RetryDecision(
            None, f"{failure}: all {policy.max_attempts} attempt(s) used (attempt {attempt})"
        )
    reached = request_may_have_reached_server or status is not None
    if (
        not idempotent
        and reached
        and not policy.retry_non_idempotent
        and status not in (policy.not_processed_statuses or ())
    ):
        return RetryDecision(
            None,
            f"{failure}: non-idempotent request may have reached the server; "
            "not retried to avoid a duplicate",
        )

    delay, source = _wait(policy, attempt, retry_after_s, rng, paced)
    remaining = policy.total_budget_s - elapsed_s
    if delay > remaining:
        return RetryDecision(
            None,
            f"{failure}: {source} wait of {delay:.3g} s exceeds the remaining retry budget "
            f"of {max(0.0, remaining):.3g} s",
        )
    return RetryDecision(
        delay,
        f"{failure}: retry {attempt + 1}/{policy.max_attempts} after {delay:.3g} s ({source})",
    )
