"""Pure retry decisions (which failures to retry and how long to wait) per Mixpanel's guidance."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "ERROR_CONNECT",
    "ERROR_READ_TIMEOUT",
    "ERROR_RESET",
    "NETWORK_ERROR_KINDS",
    "PERMANENT_5XX",
    "RetryDecision",
    "RetryPolicy",
    "decide",
    "parse_retry_after",
]

#: The connection could not be established; the request was never sent.
ERROR_CONNECT = "connect"
#: The request was sent but no (complete) response arrived in time.
ERROR_READ_TIMEOUT = "read_timeout"
#: The connection was reset or closed after the request was (possibly) sent.
ERROR_RESET = "reset"
#: Network error kinds retried by default (every kind is retried under ``retry_all_errors``).
NETWORK_ERROR_KINDS: frozenset[str] = frozenset({ERROR_CONNECT, ERROR_READ_TIMEOUT, ERROR_RESET})

#: Statuses retried by default: HTTP's transient answers (rate limiting and gateway trouble).
#: A component may declare its API's own list in component.yaml (`retry.statuses`).
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})

#: 5xx statuses that are permanent by definition (Not Implemented, HTTP Version Not
#: Supported): repeating the request cannot change the answer.
PERMANENT_5XX: frozenset[int] = frozenset({501, 505})

_DELTA_SECONDS = re.compile(r"[+-]?\d+(?:\.\d+)?")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a request is retried.

    Attributes:
        max_attempts: Total attempts including the first one (1 means never retry).
        total_budget_s: Wall-clock budget, measured from the start of the first attempt;
            no retry is scheduled whose wait would end after it.
        base_delay_s: First exponential backoff delay; attempt ``n`` waits
            ``base_delay_s * 2 ** (n - 1)`` before attempt ``n + 1``.
        max_delay_s: Cap on a single exponential backoff delay.
        jitter: Fraction in ``[0, 1]``; an exponential delay ``d`` becomes a uniform draw
            from ``[d * (1 - jitter), d]``.
        retry_statuses: HTTP statuses that are retried.
        retry_all_errors: Retry every status ``>= 400`` and every network error kind.
        fixed_delay_s: When set, every wait is exactly this many seconds (no growth, no
            jitter) instead of exponential backoff.
        retry_non_idempotent: Also retry non-idempotent requests that may have reached the
            server (risking a duplicate write).
        retry_5xx: Also retry every 5xx status, not just those in ``retry_statuses``.
            This is the seed's "HTTP 5xx and network errors" mode.
        idempotent_5xx: Retry every 5xx status of an idempotent request (one that is safe to
            repeat: a GET, or a write its spec marks idempotent), whatever ``retry_statuses``;
            501 and 505 excepted (``PERMANENT_5XX``).
        not_processed_statuses: Statuses the API documents as "rejected without processing",
            so even a non-idempotent request may be resent after them. None: the component's
            declaration (component.yaml `retry.not_processed_statuses`), else none.
    """

    max_attempts: int = 5
    total_budget_s: float = 300.0
    base_delay_s: float = 2.0
    max_delay_s: float = 60.0
    jitter: float = 0.5
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)
    retry_all_errors: bool = False
    fixed_delay_s: float | None = None
    retry_non_idempotent: bool = False
    retry_5xx: bool = False
    idempotent_5xx: bool = True
    not_processed_statuses: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.total_budget_s < 0:
            raise ValueError(f"total_budget_s must be >= 0, got {self.total_budget_s}")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ValueError("base_delay_s and max_delay_s must be >= 0")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")
        if self.fixed_delay_s is not None and self.fixed_delay_s < 0:
            raise ValueError(f"fixed_delay_s must be >= 0, got {self.fixed_delay_s}")

    @classmethod
    def from_seed_inputs(
        cls,
        max_retries: int | None,
        retry_delay_ms: int | None,
        use_exponential_backoff: bool | None,
        retry_all_errors: bool | None,
        default: RetryPolicy,
    ) -> RetryPolicy:
        """Map the seed's generic HTTP retry inputs onto a policy.

        ``None`` means the input was not given, so ``default``'s value is kept.

        * "Max Retry Count" counts retries, so ``max_attempts = max_retries + 1``
          (0 means a single attempt).
        * "Use Exponential Backoff" true selects exponential backoff and ignores
          "Retry Delay (ms)"; false selects a fixed delay of ``retry_delay_ms / 1000``
          seconds (falling back to ``default.fixed_delay_s``, then ``default.base_delay_s``,
          when no delay is given). When the switch is not given, the default's mode is
          kept and a given delay only applies if that mode is the fixed one.
        * "Retry On All Errors" true retries every status ``>= 400`` and every network
          error; false means "only HTTP 5xx and network errors", i.e. ``retry_5xx`` on top
          of ``default.retry_statuses`` (which keeps 429, Mixpanel's rate-limit signal).

        Args:
            max_retries: "Max Retry Count" input, or None.
            retry_delay_ms: "Retry Delay (ms)" input, or None.
            use_exponential_backoff: "Use Exponential Backoff" input, or None.
            retry_all_errors: "Retry On All Errors" input, or None.
            default: Policy supplying every value that is not given.

        Returns:
            The resulting policy.

        Raises:
            ValueError: If ``max_retries`` or ``retry_delay_ms`` is negative.
        """
        policy = default
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError(f"Max Retry Count must be >= 0, got {max_retries}")
            policy = replace(policy, max_attempts=max_retries + 1)
        if retry_delay_ms is not None and retry_delay_ms < 0:
            raise ValueError(f"Retry Delay (ms) must be >= 0, got {retry_delay_ms}")
        if use_exponential_backoff is True:
            policy = replace(policy, fixed_delay_s=None)
        elif use_exponential_backoff is False:
            if retry_delay_ms is not None:
                fixed = retry_delay_ms / 1000.0
            elif default.fixed_delay_s is not None:
                fixed = default.fixed_delay_s
            else:
                fixed = default.base_delay_s
            policy = replace(policy, fixed_delay_s=fixed)
        elif retry_delay_ms is not None and policy.fixed_delay_s is not None:
            policy = replace(policy, fixed_delay_s=retry_delay_ms / 1000.0)
        if retry_all_errors is True:
            policy = replace(policy, retry_all_errors=True)
        elif retry_all_errors is False:
            policy = replace(policy, retry_all_errors=False, retry_5xx=True)
        return policy

    def is_retriable_status(self, status: int) -> bool:
        """Tell whether an HTTP status is retriable under this policy.

        Args:
            status: HTTP status code of the response.

        Returns:
            True if the status may be retried (subject to attempts, budget and idempotency).
        """
        if status < 400:
            return False
        if self.retry_all_errors or status in self.retry_statuses:
            return True
        return self.retry_5xx and 500 <= status <= 599

    def is_retriable_error(self, error_kind: str) -> bool:
        """Tell whether a network error kind is retriable under this policy.

        Args:
            error_kind: One of the ``ERROR_*`` constants, or any other label.

        Returns:
            True if the error may be retried (subject to attempts, budget and idempotency).
        """
        return self.retry_all_errors or error_kind in NETWORK_ERROR_KINDS


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


def decide(
    policy: RetryPolicy,
    attempt: int,
    *,
    status: int | None,
    error_kind: str | None,
    retry_after_s: float | None,
    elapsed_s: float,
    idempotent: bool,
    request_may_have_reached_server: bool,
    rng: random.Random,
) -> RetryDecision:
    """Decide whether to retry a failed attempt and how long to wait first.

    Rules, in order:

    1. Only failures are retried: a status ``>= 400`` or a network ``error_kind``.
       4xx other than 429 is final unless ``policy.retry_all_errors``; 429/502/503/504
       (``policy.retry_statuses``) are retried, and any 5xx when ``policy.retry_5xx`` or
       when the request is idempotent (``policy.idempotent_5xx``).
       Error kinds ``connect``, ``read_timeout`` and ``reset`` are retried.
    2. Stop once ``attempt`` reaches ``policy.max_attempts``.
    3. Non-idempotent requests (``idempotent=False``) that may have reached the server are
       not retried unless ``policy.retry_non_idempotent``: repeating them could apply a
       write twice. Any HTTP response counts as having reached the server, whereas a
       connection error before the request was sent is always safe. Exception: a 429 or
       503 response means Mixpanel rejected the request (rate limit / unavailable) without
       processing it, so repeating it cannot duplicate anything and it IS retried.
    4. The wait is the ``Retry-After`` value when given (it wins over backoff and is not
       capped by ``max_delay_s``); otherwise ``fixed_delay_s`` if set, else
       ``base_delay_s * 2 ** (attempt - 1)`` capped at ``max_delay_s`` with jitter drawn
       from ``rng``.
    5. Stop if ``elapsed_s`` plus the wait would exceed ``policy.total_budget_s``.

    Args:
        policy: Retry policy in force.
        attempt: 1-based number of the attempt that just failed.
        status: HTTP status of the response, or None if there was none.
        error_kind: Network error kind (see ``ERROR_*``), or None if a response arrived.
        retry_after_s: Parsed ``Retry-After`` value in seconds, or None.
        elapsed_s: Seconds since the first attempt started.
        idempotent: Whether repeating the request is harmless.
        request_may_have_reached_server: Whether the request may have been (partly)
            received, e.g. a read timeout or reset after sending.
        rng: Random source for jitter (inject a seeded one for determinism).

    Returns:
        The decision: seconds to wait before the next attempt (or None) and why.
    """
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

    if retry_after_s is not None:
        delay = max(0.0, retry_after_s)
        source = "Retry-After"
    else:
        delay = _backoff(policy, attempt, rng)
        source = "fixed delay" if policy.fixed_delay_s is not None else "backoff"

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
