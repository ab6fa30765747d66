"""Plans a date range as non-overlapping windows of days; halves a window that keeps failing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["DEFAULT_WINDOW_DAYS", "Window", "plan_windows", "remaining_windows"]

#: Days per request when a spec declares a window without a size.
DEFAULT_WINDOW_DAYS = 30
_DAY = timedelta(days=1)


@dataclass(frozen=True, order=True)
class Window:
    """An inclusive range of whole days, `first` to `last`."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"a window cannot end ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        """How many days the window covers."""
        return (self.last - self.first).days + 1

    def halves(self) -> tuple[Window, Window] | None:
        """The window split into two that do not overlap (the first the larger); None for a day."""
        if self.days < 2:
            return None
        middle = self.first + timedelta(days=(self.days + 1) // 2 - 1)
        return Window(self.first, middle), Window(middle + _DAY, self.last)

    def label(self) -> str:
        """`2024-01-01` for one day, `2024-01-01..2024-01-30` for more."""
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    def to_list(self) -> list[str]:
        """[first, last] as ISO dates, for a state file."""
        return [self.first.isoformat(), self.last.isoformat()]

    @classmethod
    def from_list(cls, pair: Sequence[str]) -> Window:
        """The inverse of `to_list`; ValueError when `pair` is not two ISO dates in order."""
        if len(pair) != 2:
            raise ValueError(f"expected [first, last], got {list(pair)!r}")
        return cls(date.fromisoformat(str(pair[0])), date.fromisoformat(str(pair[1])))


def plan_windows(first: date, last: date, days: int) -> list[Window]:
    """`first`..`last` (inclusive) as consecutive windows of `days` days, the last one shorter.

    An empty list when `last` is before `first`. The last day a date can be (9999-12-31) is
    planned like any other.

    Raises:
        ValueError: `days` is below 1.
    """
    if days < 1:
        raise ValueError(f"a window holds at least 1 day, not {days}")
    windows = []
    start = first
    while start <= last:
        end = last if (last - start).days < days else start + timedelta(days=days - 1)
        windows.append(Window(start, end))
        if end == last:
            break
        start = end + _DAY
    return windows


def remaining_windows(first: date, last: date, days: int, done: Iterable[Window]) -> list[Window]:
    """The windows still to fetch when the days of `done` are already kept.

    Each run of days not covered by `done` is planned on its own, so no window overlaps a
    kept one and none spans a gap between two of them. Its cost grows with the windows, not
    with the days they span.
    """
    windows: list[Window] = []
    start: date | None = first
    for window in sorted(done):
        if start is None or window.last < start:
            continue
        if window.first > last:
            break
        if window.first > start:
            windows.extend(plan_windows(start, window.first - _DAY, days))
        start = window.last + _DAY if window.last < last else None
    if start is not None:
        windows.extend(plan_windows(start, last, days))
    return windows
