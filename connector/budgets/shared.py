"""A budget kept outside the process: the wait loop around a store's atomic check-and-record."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .limits import NOTICE_AFTER_S, SHORT_WINDOWS, OnWait, wait_limits
from .memory import BudgetExceeded, RateLimit, Slot, budget_message

__all__ = ["LATE_S", "POLL_S", "SharedBudget", "SharedRegistry", "Store", "Verdict", "counts_from"]

#: A call counts against its windows from when it completes, since its request reached the
#: server at some moment between its grant and its answer; a call still running (or whose
#: process died) counts from at most this long after its grant. So however late a request
#: leaves (a loaded host, a slow TLS handshake), the next window's calls reach the server
#: after it, and a long export holds the windows no more than this beyond Mixpanel's count.
LATE_S = 10.0
#: How often a call waiting for a concurrency slot held by another process looks again.
POLL_S = 0.05
#: How long a note (what a server advertised) is kept after it was last heard, and how often a
#: process looks at the store's copy again.
NOTE_TTL_S = 86_400.0
NOTE_CACHE_S = 60.0


def counts_from(recorded: list[float], now: float) -> list[float]:
    """When each recorded call counts from, oldest first; a running call counts from now.

    A store records ``grant + LATE_S`` at the grant and lowers it to the completion time on
    release, so ``min(recorded, now)`` is the completion time, or now while the call runs.
    """
    return sorted(min(at, now) for at in recorded)


@dataclass(frozen=True)
class Verdict:
    """A store's answer: a slot token when granted, else how long and which window binds.

    Attributes:
        token: Identifies the granted call (pass it to ``release``); None when refused.
        wait_s: Seconds until the rate windows admit the call (0 for a concurrency refusal).
        window: "hour", "second" or "concurrency" when refused.
    """

    token: str | None
    wait_s: float = 0.0
    window: str = ""


class Store(Protocol):
    """Where shared budgets are kept; each method is atomic across every sharing process."""

    url: str

    def try_acquire(self, limit: RateLimit, key: str) -> Verdict:
        """Grant and record one call for ``key`` if it fits every limit now; else say why."""
        ...

    def release(self, limit: RateLimit, key: str, token: str) -> None:
        """The call has completed: it counts from now (or earlier), and frees its slot."""
        ...

    def seconds_until_free(self, limit: RateLimit, key: str) -> float:
        """Seconds until the rate windows admit another call (0 if now)."""
        ...

    def in_flight(self, limit: RateLimit, key: str) -> int:
        """Calls holding a concurrency slot for ``key`` in every sharing process."""
        ...

    def read_note(self, name: str) -> str | None:
        """The note kept under ``name`` (what a server advertised), unless it expired."""
        ...

    def write_note(self, name: str, value: str, ttl_s: float) -> None:
        """Keep ``value`` under ``name`` for ``ttl_s`` seconds, for every sharing process."""
        ...


class SharedBudget:
    """One limit's budget in a ``Store``: same API and errors as ``ratelimit.RateBudget``."""

    def __init__(
        self,
        limit: RateLimit,
        store: Store,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Create a budget.

        Args:
            limit: The limits to enforce for every key.
            store: Where calls are recorded.
            clock: Local monotonic clock, only to measure this caller's waits.
            sleep: Called to wait for the windows to free up or a slot to be released.
        """
        self.limit = limit
        self._store = store
        self._clock = clock
        self._sleep = sleep

    def acquire(
        self,
        key: str,
        *,
        max_wait_s: float,
        short_wait_s: float | None = None,
        on_wait: OnWait | None = None,
    ) -> Slot:
        """Reserve one call for ``key``, waiting for it to fit.

        Args:
            key: Budget key, e.g. the project id.
            max_wait_s: Longest acceptable wait for the hourly window (0 fails fast).
            short_wait_s: Longest acceptable wait for the per-second window or a
                concurrency slot (default: ``max_wait_s``).
            on_wait: Told once of each wait longer than NOTICE_AFTER_S.

        Returns:
            A slot; release it (or use it as a context manager) when the call finishes.

        Raises:
            BudgetExceeded: If the call cannot fit within the wait allowed.
            BudgetStoreError: If the store cannot be used.
        """
        long_s, short_s = wait_limits(max_wait_s, short_wait_s)
        start = self._clock()
        announced = False
        limit = self.limit
        while True:
            verdict = self._store.try_acquire(limit, key)
            if verdict.token is not None:
                return Slot(self, key, token=verdict.token)
            now = self._clock()
            waited = now - start
            if verdict.window == "concurrency":
                remaining = short_s - waited
                if remaining <= 0.0:
                    message = budget_message(limit, key, "concurrency", None)
                    raise BudgetExceeded(limit.name, None, None, key=key, message=message)
                if on_wait is not None and not announced and waited >= NOTICE_AFTER_S:
                    announced = True
                    on_wait("concurrency", None)
                # Jittered, so that waiting processes do not all look at the same instant.
                self._sleep(min(remaining, POLL_S * random.uniform(0.5, 1.5)))
                continue
            cap = short_s if verdict.window in SHORT_WINDOWS else long_s
            if verdict.wait_s > cap - waited:
                message = budget_message(limit, key, verdict.window, verdict.wait_s)
                raise BudgetExceeded(
                    limit.name, now + verdict.wait_s, verdict.wait_s, key=key, message=message
                )
            if on_wait is not None and verdict.wait_s > NOTICE_AFTER_S:
                on_wait(verdict.window, verdict.wait_s)
            self._sleep(verdict.wait_s)

    def seconds_until_free(self, key: str) -> float:
        """Seconds until the rate windows admit another call for ``key`` (0 if now)."""
        return self._store.seconds_until_free(self.limit, key)

    def in_flight(self, key: str) -> int:
        """Calls holding a concurrency slot for ``key``, in every process sharing the store."""
        return self._store.in_flight(self.limit, key)

    def release_slot(self, key: str, token: str = "") -> None:
        """Free the slot of a finished call (see ``limits.Slot``)."""
        self._store.release(self.limit, key, token)


class SharedRegistry:
    """Hands out ``SharedBudget``s over one store, opened on first use (again after a fork)."""

    def __init__(self, url: str, opener: Callable[[], Store]) -> None:
        """Create a registry.

        Args:
            url: The store's URL with any password masked, for messages.
            opener: Opens the store; called on first use and in a forked child.
        """
        self.url = url
        self._opener = opener
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._pid = 0
        self._budgets: dict[RateLimit, SharedBudget] = {}
        self._notes: dict[str, tuple[str | None, float]] = {}  # name -> value, when read

    def __repr__(self) -> str:
        return f"<SharedRegistry {self.url}>"

    def note(self, name: str) -> str | None:
        """What the store keeps under ``name`` (read once a minute at most by this process)."""
        with self._lock:
            cached = self._notes.get(name)
        if cached is not None and time.monotonic() - cached[1] < NOTE_CACHE_S:
            return cached[0]
        value = self.store().read_note(name)
        with self._lock:
            self._notes[name] = (value, time.monotonic())
        return value

    def keep_note(self, name: str, value: str) -> None:
        """Keep ``value`` under ``name`` for every sharing process.

        Written when it changes, and once a minute at most while it stays (renewing its
        NOTE_TTL_S).
        """
        with self._lock:
            cached = self._notes.get(name)
        if (
            cached is not None
            and cached[0] == value
            and time.monotonic() - cached[1] < NOTE_CACHE_S
        ):
            return
        self.store().write_note(name, value, NOTE_TTL_S)
        with self._lock:
            self._notes[name] = (value, time.monotonic())

    def store(self) -> Store:
        """The open store (opening it now if needed)."""
        with self._lock:
            if self._store is None or self._pid != os.getpid():
                # A forked child must not share its parent's SQLite connection or lock files.
                self._store, self._pid, self._budgets = self._opener(), os.getpid(), {}
            return self._store

    def budget(self, limit: RateLimit) -> SharedBudget:
        """Return the budget for ``limit`` in this registry's store.

        Raises:
            BudgetStoreError: If the store cannot be opened.
        """
        store = self.store()
        with self._lock:
            budget = self._budgets.get(limit)
            if budget is None:
                budget = self._budgets[limit] = SharedBudget(limit, store)
            return budget
