"""Injected misbehaviour: latency, 5xx, 429 beyond a rate, and connections reset mid-response."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field

FAIL_STATUSES = (500, 502, 503)


@dataclass
class Decision:
    """What to do to one request: wait, answer an error instead, or drop the connection."""

    delay_s: float = 0.0
    status: int | None = None  # an injected 5xx or 429 instead of handling the request
    retry_after_s: int | None = None
    reset: str | None = None  # "before" (nothing stored) or "after" (stored, answer lost)

    @property
    def label(self) -> str | None:
        """What was injected: "500", "429", "reset-before", "reset-after", or None."""
        if self.reset:
            return f"reset-{self.reset}"
        return None if self.status is None else str(self.status)


@dataclass
class Faults:
    """Fault settings; `decide()` draws from a seeded generator, so a seed replays the same run."""

    fail_rate: float = 0.0
    rate_limit: float | None = None
    reset_rate: float = 0.0
    latency_ms: int = 0
    throttle_rate: float = 0.0  # 429 at random, besides the per-second rate limit
    seed: int | None = None
    #: Send RateLimit-Policy (`advertised_policy`); off, clients keep Mixpanel's documented
    #: limits against the sandbox, as the budget tests need.
    advertise_limits: bool = True
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _window: list[float] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("fail_rate", "reset_rate", "throttle_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ValueError("rate_limit must be a positive number of requests per second")
        if self.latency_ms < 0:
            raise ValueError("latency_ms must be 0 or more")
        self._rng = random.Random(self.seed)

    @property
    def active(self) -> bool:
        """True when any fault is configured."""
        return (
            bool(self.fail_rate or self.reset_rate or self.throttle_rate or self.latency_ms)
            or self.rate_limit is not None
        )

    def decide(self) -> Decision:
        """Draw the fate of the next request."""
        with self._lock:
            decision = Decision(delay_s=self.latency_ms / 1000)
            if self.rate_limit is not None and not self._admit(time.monotonic()):
                decision.status, decision.retry_after_s = 429, 1
                return decision
            draw = self._rng.random()
            if draw < self.fail_rate:
                decision.status = self._rng.choice(FAIL_STATUSES)
            elif draw < self.fail_rate + self.throttle_rate:
                decision.status, decision.retry_after_s = 429, 1
            elif draw < self.fail_rate + self.throttle_rate + self.reset_rate:
                decision.reset = self._rng.choice(("before", "after"))
            return decision

    def _admit(self, now: float) -> bool:
        assert self.rate_limit is not None
        self._window = [t for t in self._window if now - t < 1.0]
        if len(self._window) >= self.rate_limit:
            return False
        self._window.append(now)
        return True


def advertised_policy(faults: Faults, workers: int) -> str | None:
    """The sandbox's own limits as a RateLimit-Policy field, sent with every routed answer.

    It answers `workers` requests at once and, with --rate-limit, that many a second (as a
    per-hour quota when under one a second). A client that honours the field keeps these
    instead of Mixpanel's documented limits: no hourly wait against a sandbox without one.
    """
    if not faults.advertise_limits:
        return None
    policies = [f'"workers";q={workers};qu="concurrent-requests"']
    rate = faults.rate_limit
    if rate is not None and rate >= 1:
        policies.append(f'"rate-limit";q={int(rate)};w=1')
    elif rate is not None:
        policies.append(f'"rate-limit";q={max(1, int(rate * 3600))};w=3600')
    return ", ".join(policies)
