"""What `Component.iter` returns: the records (or a streamed action's complete windows), stats."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from .window_buffer import WindowBuffer
from .windows import DEFAULT_WINDOW_DAYS, Window, remaining_windows

__all__ = ["DEFAULT_HALVE_AFTER", "RecordStream", "StreamStats", "WindowPlan", "Windows"]

#: Attempts a window of several days gets before it is split in halves (one day: the policy's).
DEFAULT_HALVE_AFTER = 2

Windows = Iterator[tuple[Window | None, WindowBuffer]]


@dataclass
class StreamStats:
    """What a stream did so far: windows (and the days in them) complete, requests, cuts."""

    days: int = 0
    windows: int = 0
    windows_total: int = 0
    requests: int = 0
    cuts: int = 0
    halved: int = 0
    kept: int = 0  # windows an earlier run had already written (see connector.files.resume)


@dataclass(frozen=True)
class WindowPlan:
    """The windows of one stream ([None]: one request), the inputs that carry a window."""

    windows: list[Window | None]
    first: str = ""
    last: str = ""
    days: int = DEFAULT_WINDOW_DAYS
    halve_after: int = DEFAULT_HALVE_AFTER
    bounds: tuple[date, date] | None = None

    def without(self, kept: list[Window]) -> WindowPlan:
        """The plan of the days `kept` windows do not cover."""
        if self.bounds is None:
            return self
        left = remaining_windows(self.bounds[0], self.bounds[1], self.days, kept)
        return replace(self, windows=list(left))


class RecordStream(Iterator[Any]):
    """The iterator `Component.iter` returns; `.stats` counts windows, requests and cuts.

    `identity` is a digest of the action and its checked inputs, `scope()` its target
    (connector.files.scope): what a resumed export compares. `windows()` gives each complete
    window with its records (for files); iterating gives the records one by one.
    """

    def __init__(
        self,
        records: Iterator[Any] | None,
        stats: StreamStats,
        *,
        identity: str = "",
        scope: Callable[[], Any] | None = None,
        plan: WindowPlan | None = None,
        start: Callable[[WindowPlan], Windows] | None = None,
    ) -> None:
        self._records = records
        self._plan, self._start = plan, start
        self._windows: Windows | None = start(plan) if start and plan else None
        self.stats = stats
        self.identity = identity
        self.scope = scope

    @property
    def windowed(self) -> bool:
        """Whether the stream reads a date range window by window (and so can resume)."""
        return self._plan is not None and self._plan.bounds is not None

    @property
    def bounds(self) -> tuple[date, date] | None:
        """The first and last day of a windowed stream (None: read in one request)."""
        return self._plan.bounds if self._plan is not None else None

    def skip(self, kept: list[Window]) -> None:
        """Before iterating: leave out the days of `kept` windows (written by an earlier run)."""
        if not self.windowed or not kept or self._start is None or self._plan is None:
            return
        self.stats.kept = len(kept)
        self.stats.days += sum(window.days for window in kept)
        self._windows = self._start(self._plan.without(kept))

    def windows(self) -> Windows:
        """Each complete window and its buffered records, in order (the caller closes each)."""
        if self._windows is None:  # not windowed: every record, as one piece
            buffer = WindowBuffer()
            for record in self:
                buffer.add(record)
            yield None, buffer
            return
        yield from self._windows

    def __next__(self) -> Any:
        return next(iter(self))

    def __iter__(self) -> Iterator[Any]:
        # A for loop runs the generator itself, saving a Python call per record.
        if self._records is None:
            self._records = self._flatten()
        return self._records

    def _flatten(self) -> Iterator[Any]:
        assert self._windows is not None
        for _, buffer in self._windows:
            try:
                yield from buffer.records()
            finally:
                buffer.close()

    def close(self) -> None:
        """Stop early, releasing the connection."""
        for part in (self._records, self._windows):
            close = getattr(part, "close", None)
            if close is not None:
                close()
