"""Client-side rate budgets kept in process memory (the `memory` store) and their registry.

The limits, the error, the window arithmetic and the protocols live in ``connector.limits``
and are re-exported here; ``connector.budgets`` keeps the same budgets in SQLite or Redis so
that every process (or every host) shares them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from .limits import (
    NOTICE_AFTER_S,
    SHORT_WINDOWS,
    Budget,
    BudgetExceeded,
    OnWait,
    RateLimit,
    Registry,
    Slot,
    budget_message,
    format_duration,
    rate_windows,
    wait_limits,
    window_horizon,
    window_wait,
)

__all__ = [
    "DEFAULT_REGISTRY",
    "BudgetExceeded",
    "Budget",
    "BudgetRegistry",
    "RateBudget",
    "RateLimit",
    "Registry",
    "Slot",
    "budget_message",
    "format_duration",
    "rate_windows",
    "window_horizon",
    "window_wait",
]


class _KeyState:
    """Call history and in-flight count for one key."""

    __slots__ = ("starts", "in_flight")

    def __init__(self) -> None:
        self.starts: deque[float] = deque()
        self.in_flight = 0


class RateBudget:
    """Sliding-window call budget for one ``RateLimit``, tracked separately per key.

    Thread-safe: share one instance (see ``BudgetRegistry``) between all threads that call
    the same API so that together they stay within the limit. A call counts against the
    rate windows from the moment it is granted; it stops counting exactly
    ``window`` seconds later.
    """

    def __init__(
        self,
        limit: RateLimit,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a budget.

        Args:
            limit: The limits to enforce for every key.
            clock: Monotonic clock in seconds.
            sleep: Called with a number of seconds to wait for the rate windows to free up.
        """
        self.limit = limit
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition(threading.Lock())
        self._states: dict[str, _KeyState] = {}

    def _state(self, key: str) -> _KeyState:
        state = self._states.get(key)
        if state is None:
            state = self._states[key] = _KeyState()
        return state

    def _rate_wait(self, state: _KeyState, now: float) -> tuple[float, str]:
        """Seconds until one more call fits both windows, and the binding window's name."""
        starts = state.starts
        horizon = window_horizon(self.limit)
        while starts and starts[0] + horizon <= now:
            starts.popleft()
        return window_wait(self.limit, starts, now)

    def _message(self, key: str, window: str, wait_s: float | None) -> str:
        return budget_message(self.limit, key, window, wait_s)

    def acquire(
        self,
        key: str,
        *,
        max_wait_s: float,
        short_wait_s: float | None = None,
        on_wait: OnWait | None = None,
    ) -> Slot:
        """Reserve one call for ``key``, waiting for it to fit.

        Waits for the rate windows go through the injected ``sleep``; waits for a
        concurrency slot block on a condition variable until another slot is released.

        Args:
            key: Budget key, e.g. the project id.
            max_wait_s: Longest acceptable wait for the hourly window (0 fails fast).
            short_wait_s: Longest acceptable wait for the per-second window or a
                concurrency slot (default: ``max_wait_s``).
            on_wait: Told once of each wait longer than NOTICE_AFTER_S.

        Returns:
            A slot; use it as a context manager (or call ``release``) to free the
            concurrency slot when the call finishes.

        Raises:
            BudgetExceeded: If the call cannot fit within the wait allowed.
        """
        long_s, short_s = wait_limits(max_wait_s, short_wait_s)
        start = self._clock()
        spent = 0.0  # waits done so far, so a frozen test clock cannot make us wait forever
        announced = False
        limit = self.limit
        while True:
            with self._cond:
                now = self._clock()
                waited = max(now - start, spent)
                state = self._state(key)
                wait, window = self._rate_wait(state, now)
                full = limit.max_concurrent is not None and state.in_flight >= limit.max_concurrent
                if wait <= 0.0 and not full:
                    state.starts.append(now)
                    state.in_flight += 1
                    return Slot(self, key)
                if wait <= 0.0:
                    remaining = short_s - waited
                    if remaining <= 0.0:
                        raise BudgetExceeded(
                            limit.name,
                            None,
                            None,
                            key=key,
                            message=self._message(key, "concurrency", None),
                        )
                    if on_wait is not None and not announced and waited >= NOTICE_AFTER_S:
                        announced = True
                        on_wait("concurrency", None)
                    began = time.monotonic()
                    self._cond.wait(min(remaining, NOTICE_AFTER_S) if not announced else remaining)
                    spent += time.monotonic() - began
                    continue
                cap = short_s if window in SHORT_WINDOWS else long_s
                if wait > cap - waited:
                    raise BudgetExceeded(
                        limit.name,
                        now + wait,
                        wait,
                        key=key,
                        message=self._message(key, window, wait),
                    )
            if on_wait is not None and wait > NOTICE_AFTER_S:
                on_wait(window, wait)
            self._sleep(wait)
            spent += wait

    def seconds_until_free(self, key: str) -> float:
        """Seconds until the rate windows admit another call for ``key`` (0 if now).

        Concurrency is not included: when all slots are held, the time until one is
        released is unknown.

        Args:
            key: Budget key, e.g. the project id.

        Returns:
            Seconds to wait, 0.0 if a call fits the rate windows now.
        """
        with self._cond:
            return self._rate_wait(self._state(key), self._clock())[0]

    def in_flight(self, key: str) -> int:
        """Number of slots currently held for ``key``.

        Args:
            key: Budget key, e.g. the project id.

        Returns:
            The count of acquired, unreleased slots.
        """
        with self._cond:
            return self._state(key).in_flight

    def release_slot(self, key: str, token: str = "") -> None:
        """Free the slot of a finished call (see ``limits.Slot``)."""
        with self._cond:
            state = self._state(key)
            state.in_flight = max(0, state.in_flight - 1)
            self._cond.notify_all()


class BudgetRegistry:
    """Process-wide map from limit name to its shared ``RateBudget`` (which is per key)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a registry whose budgets use the given clock and sleep.

        Args:
            clock: Monotonic clock in seconds, passed to every budget.
            sleep: Sleep function, passed to every budget.
        """
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._budgets: dict[str, RateBudget] = {}
        self._notes: dict[str, str] = {}

    def note(self, name: str) -> str | None:
        """What this process keeps under ``name`` (what a server advertised), or None."""
        with self._lock:
            return self._notes.get(name)

    def keep_note(self, name: str, value: str) -> None:
        """Keep ``value`` under ``name`` for this process."""
        with self._lock:
            self._notes[name] = value

    def budget(self, limit: RateLimit) -> RateBudget:
        """Return the shared budget for ``limit``, creating it on first use.

        Args:
            limit: The limit whose budget is wanted.

        Returns:
            The same ``RateBudget`` for every call with this limit.

        Raises:
            ValueError: If a different limit with the same name is already registered.
        """
        with self._lock:
            existing = self._budgets.get(limit.name)
            if existing is None:
                existing = RateBudget(limit, clock=self._clock, sleep=self._sleep)
                self._budgets[limit.name] = existing
            elif existing.limit != limit:
                raise ValueError(
                    f"rate limit {limit.name!r} is already registered as {existing.limit!r}"
                )
            return existing


#: The registry shared by every component instance in this process.
DEFAULT_REGISTRY = BudgetRegistry()
