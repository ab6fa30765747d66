"""The retry policy: how often and how patiently a request is retried, and an action's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..core.values import parse_bool, parse_int
from ..errors import ERROR_CONNECT, ERROR_READ_TIMEOUT, ERROR_RESET, InputError, InputProblem
from ..prepare.request import HTTPRequest

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "NETWORK_ERROR_KINDS",
    "RetryPolicy",
    "guided",
    "policy_for",
]

#: Network error kinds retried by default (every kind is retried under ``retry_all_errors``).
NETWORK_ERROR_KINDS: frozenset[str] = frozenset({ERROR_CONNECT, ERROR_READ_TIMEOUT, ERROR_RESET})

#: Statuses retried by default: HTTP's transient answers (rate limiting and gateway trouble).
#: A component may declare its API's own list in component.yaml (`retry.statuses`).
DEFAULT_RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})


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
            This is the retry inputs' "HTTP 5xx and network errors" mode.
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
    def from_retry_inputs(
        cls,
        max_retries: int | None,
        retry_delay_ms: int | None,
        use_exponential_backoff: bool | None,
        retry_all_errors: bool | None,
        default: RetryPolicy,
    ) -> RetryPolicy:
        """Map the generic HTTP actions' retry inputs onto a policy.

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


#: The labels of the action inputs that override a policy, for messages.
_LABELS = {
    "max_retries": "Max Retry Count",
    "delay_ms": "Retry Delay (ms)",
    "exponential": "Use Exponential Backoff",
    "all_errors": "Retry On All Errors",
}


def policy_for(request: HTTPRequest, default: RetryPolicy) -> RetryPolicy:
    """`default`, overridden by the action's rendered retry inputs (Max Retry Count etc.).

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
        return RetryPolicy.from_retry_inputs(
            max_retries, delay_ms, exponential, all_errors, default
        )
    except (TypeError, ValueError) as exc:
        label = _LABELS.get(field, "Retry settings")
        raise InputError(
            request.action, [InputProblem(f"retry.{field or 'policy'}", label, str(exc))]
        ) from None


def guided(
    policy: RetryPolicy, guidance: Mapping[str, Any], *, statuses: bool = False
) -> RetryPolicy:
    """Apply an API's retry guidance (component.yaml `retry:`) to `policy`.

    Not-processed statuses fill in where the policy leaves them open; `statuses` also sets
    the statuses to retry (for the component's own default policy).
    """
    if policy.not_processed_statuses is None:
        policy = replace(
            policy,
            not_processed_statuses=frozenset(guidance.get("not_processed_statuses") or ()),
        )
    if statuses and "statuses" in guidance:
        policy = replace(policy, retry_statuses=frozenset(guidance["statuses"]))
    return policy
