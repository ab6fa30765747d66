"""Rate limits as specs declare them: the sliding-window arithmetic, messages and protocols.

Pure: no clock or lock of its own. ``budgets.memory`` keeps budgets in process memory and the
stores of ``connector.budgets`` in SQLite or Redis; all apply these rules and raise
``errors.BudgetExceeded`` (re-exported here).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol

from ..errors import BudgetExceeded

__all__ = [
    "NOTICE_AFTER_S",
    "SHORT_WINDOWS",
    "Budget",
    "BudgetExceeded",
    "RateLimit",
    "Registry",
    "Releaser",
    "Slot",
    "budget_message",
    "format_duration",
    "OnWait",
    "wait_limits",
    "WINDOWS",
    "allowed_in",
    "rate_windows",
    "window_horizon",
    "window_wait",
]

#: The sliding windows a limit can declare, longest first: (name, length in seconds).
#: ``RateLimit.per_<name>`` holds how many calls each admits.
WINDOWS = (("hour", 3600.0), ("minute", 60.0), ("second", 1.0))
#: Waits longer than this are announced (once each, see ``connector.budgets.notice``).
NOTICE_AFTER_S = 1.0
#: Windows that free up within a minute: always waited for, up to a caller's short-wait cap,
#: even when the caller allows no wait for the hourly budget.
SHORT_WINDOWS = frozenset({"minute", "second", "concurrency"})


@dataclass(frozen=True)
class RateLimit:
    """A named set of limits applied separately to each key (e.g. each project).

    Attributes:
        name: Short identifier, also the registry key.
        per_hour: Calls allowed in any sliding 3600 s window, or None for no limit.
        per_second: Calls allowed in any sliding 1 s window, or None for no limit.
        max_concurrent: Calls allowed in flight at once, or None for no limit.
        per_minute: Calls allowed in any sliding 60 s window, or None for no limit.
        label: Human name used in messages (defaults to ``name``).
        unit: Plural noun for one call, used in messages.
        scope: What a key identifies, used in messages ("project 123"); named by the spec
            that declares the budget (component.yaml `rate_limits.<name>.scope`).
        basis: Why the client keeps it, for messages ("Mixpanel's documented limits", "the
            limits http://127.0.0.1:8080 advertises").
    """

    name: str
    per_hour: int | None
    per_second: int | None
    max_concurrent: int | None
    per_minute: int | None = None
    label: str = ""
    unit: str = "calls"
    scope: str = ""
    basis: str = field(default="", compare=False)  # words only: not part of the limit

    def __post_init__(self) -> None:
        for attr in ("per_hour", "per_minute", "per_second", "max_concurrent"):
            value = getattr(self, attr)
            if value is not None and value < 1:
                raise ValueError(f"{attr} must be >= 1 or None, got {value}")

    @property
    def display_name(self) -> str:
        """Human-readable name of the limit."""
        return self.label or self.name


def format_duration(seconds: float) -> str:
    """Format a wait for humans, e.g. ``"0.4 s"``, ``"12 s"`` or ``"12 min 3 s"``.

    Args:
        seconds: Duration in seconds (negative is treated as 0).

    Returns:
        The formatted duration; whole seconds are rounded up.
    """
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{math.ceil(seconds * 10) / 10:.1f} s"
    whole = math.ceil(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    return f"{minutes} min {secs} s"


def allowed_in(limit: RateLimit, window: str) -> int | None:
    """How many calls ``limit`` admits in ``window`` ("hour", "minute" or "second")."""
    allowed: int | None = getattr(limit, f"per_{window}")
    return allowed


def rate_windows(limit: RateLimit) -> list[tuple[int, float, str]]:
    """The windows ``limit`` declares, longest first: (calls allowed, seconds, name)."""
    found = []
    for name, span in WINDOWS:
        allowed = allowed_in(limit, name)
        if allowed is not None:
            found.append((allowed, span, name))
    return found


def window_horizon(limit: RateLimit) -> float:
    """How long a call can count against one of ``limit``'s windows (1 s when it has none)."""
    return max((span for _, span, _ in rate_windows(limit)), default=1.0)


def window_wait(limit: RateLimit, starts: Sequence[float], now: float) -> tuple[float, str]:
    """Seconds until one more call fits every rate window of ``limit``.

    Args:
        limit: The limits.
        starts: When earlier calls count from, oldest first (those out of every window are
            ignored).
        now: The current time on the same clock as ``starts``.

    Returns:
        The wait (0.0 when a call fits now) and the binding window: "hour", "minute" or
        "second".
    """
    wait, window = 0.0, ""
    for allowed, span, name in rate_windows(limit):
        in_window = [t for t in starts if t + span > now]
        if len(in_window) >= allowed:
            # The call fits once all but allowed - 1 of these have left the window.
            frees_at = in_window[len(in_window) - allowed] + span
            if frees_at - now > wait:
                wait, window = frees_at - now, name
    return wait, window


def budget_message(limit: RateLimit, key: str, window: str, wait_s: float | None) -> str:
    """The message of a used-up budget: which limit, for whom, and when it frees up.

    Args:
        limit: The exhausted limit.
        key: The budget key (e.g. the project id).
        window: "hour", "minute", "second" or "concurrency".
        wait_s: Seconds until a call fits (ignored for "concurrency").

    Returns:
        One sentence, e.g. "Query API budget of 60 queries per hour for project 1 is used up;
        it frees up in 12 min 3 s".
    """
    who = f"{limit.scope} {key}" if limit.scope else key
    if window == "concurrency":
        return (
            f"{limit.display_name} budget of {limit.max_concurrent} concurrent "
            f"{limit.unit} for {who} is used up; it frees up when a running call finishes"
        )
    return (
        f"{limit.display_name} budget of {allowed_in(limit, window)} {limit.unit} per {window} "
        f"for {who} "
        f"is used up; it frees up in {format_duration(wait_s or 0.0)}"
    )


#: Told of a wait about to start: the window ("hour", "minute", "second", "concurrency") and its
#: length in seconds (None for a concurrency slot, whose wait is unknown).
OnWait = Callable[[str, "float | None"], None]


def wait_limits(max_wait_s: float, short_wait_s: float | None) -> tuple[float, float]:
    """(long, short) wait caps: both at least 0, the short one never below the long one."""
    long_s = max(0.0, max_wait_s)
    return long_s, long_s if short_wait_s is None else max(long_s, short_wait_s)


class Releaser(Protocol):
    """What a slot is granted by: it frees the slot when the call finishes."""

    def release_slot(self, key: str, token: str = "") -> None:
        """Free one slot held for ``key`` (``token``: which one, in a shared store)."""
        ...


class Slot:
    """A granted call; a context manager that frees its concurrency slot on exit."""

    def __init__(self, budget: Releaser, key: str, *, token: str = "") -> None:
        self._budget = budget
        self._key = key
        self._token = token
        self._released = False

    @property
    def key(self) -> str:
        """The key the slot was granted for."""
        return self._key

    def release(self) -> None:
        """Free the concurrency slot; further calls do nothing."""
        if not self._released:
            self._released = True
            self._budget.release_slot(self._key, self._token)

    def __enter__(self) -> Slot:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class Budget(Protocol):
    """What a caller needs of one limit's budget, wherever it is kept."""

    limit: RateLimit

    def acquire(
        self,
        key: str,
        *,
        max_wait_s: float,
        short_wait_s: float | None = None,
        on_wait: OnWait | None = None,
    ) -> Slot:
        """Reserve one call for ``key``; raise BudgetExceeded when it does not fit in time.

        ``max_wait_s`` bounds a wait for the hourly window; ``short_wait_s`` (default: the
        same) one for a per-minute or per-second window or a concurrency slot. ``on_wait``
        hears of each wait longer than NOTICE_AFTER_S once, before it starts.
        """
        ...

    def seconds_until_free(self, key: str) -> float:
        """Seconds until the rate windows admit another call for ``key``."""
        ...

    def in_flight(self, key: str) -> int:
        """Number of calls currently holding a slot for ``key``."""
        ...


class Registry(Protocol):
    """Hands out the budget of each limit; ``BudgetRegistry`` and ``connector.budgets``'s."""

    def budget(self, limit: RateLimit) -> Budget:
        """Return the shared budget for ``limit``."""
        ...

    def note(self, name: str) -> str | None:
        """What the registry's store keeps under ``name`` (what a server advertised)."""
        ...

    def keep_note(self, name: str, value: str) -> None:
        """Keep ``value`` under ``name`` wherever the budgets are shared."""
        ...
