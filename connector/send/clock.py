"""Time as the attempt loop sees it: a protocol, so that tests inject a clock that never waits."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


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
