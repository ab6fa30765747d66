"""Yields an action's records one by one: JSON-lines streams read as windows of days.

A streamed action whose spec declares `stream.split` reads its date range as windows of
`window_days` days (an input may change it). Each window is one request whose records are
held aside (connector.modes.streamed.buffer) until the answer is complete, so a cut or a
failure redoes that window alone and nothing is lost or doubled; a window that keeps failing
is split in halves. Completed windows are yielded in order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from .errors import InputError, InputProblem
from .files.resume import inputs_digest
from .inputs import validate_inputs
from .modes.progress import NoProgress, Progress
from .modes.streamed.buffer import WindowBuffer
from .modes.streamed.fetch import (
    DEFAULT_HALVE_AFTER,
    StreamJob,
    StreamStats,
    WindowPlan,
    fetch_windows,
)
from .modes.streamed.windows import DEFAULT_WINDOW_DAYS, Window, remaining_windows
from .paging import iter_pages, paging_enabled, records_at
from .retry import RetryPolicy
from .spec import OperationSpec

if TYPE_CHECKING:
    from .component import Component

__all__ = [
    "DEFAULT_HALVE_AFTER",
    "STREAM_RATE_WAIT_S",
    "RecordStream",
    "StreamStats",
    "iter_records",
]

log = logging.getLogger("connector.stream")

#: How long a streamed request waits for the hourly budget unless told otherwise (the
#: per-second window is always waited for): a range is several requests in a row.
STREAM_RATE_WAIT_S = 60.0


class RecordStream(Iterator[Any]):
    """The iterator `Component.iter` returns; `.stats` counts windows, requests and cuts.

    `identity` is a digest of the action and its checked inputs (what a resumed export
    compares); `progress` receives the figures as windows complete.
    """

    def __init__(
        self,
        windows: Iterator[tuple[Window | None, WindowBuffer]] | None,
        records: Iterator[Any] | None,
        stats: StreamStats,
        identity: str = "",
        plan: WindowPlan | None = None,
    ) -> None:
        self._windows, self._records = windows, records
        self._plan = plan
        self.stats = stats
        self.identity = identity
        self.progress: Progress = NoProgress()
        self._restart: Any = None

    @property
    def windowed(self) -> bool:
        """Whether the stream reads a date range window by window (and so can resume)."""
        return self._plan is not None and self._plan.windows != [None]

    def skip(self, kept: list[Window]) -> None:
        """Before iterating: leave out the days of `kept` windows (written by an earlier run)."""
        if not self.windowed or not kept or self._restart is None:
            return
        self.stats.kept = len(kept)
        self.stats.days += sum(window.days for window in kept)
        self._windows = self._restart(kept)

    def windows(self) -> Iterator[tuple[Window | None, WindowBuffer]]:
        """Each complete window and its buffered records, in order (the caller closes each)."""
        if self._windows is None:
            for record in self:
                buffer = WindowBuffer()
                buffer.add(record)
                yield None, buffer
            return
        yield from self._windows

    def __next__(self) -> Any:
        if self._records is None:
            self._records = self._flatten()
        return next(self._records)

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


def iter_records(
    component: Component,
    op: OperationSpec,
    inputs: Mapping[str, Any],
    connection: Mapping[str, Any],
    *,
    retry: RetryPolicy | None = None,
    rate_wait_s: float | None = None,
) -> RecordStream:
    """Check the inputs now, then return an iterator over the operation's records.

    Raises:
        InputError: before anything is sent, when the inputs are invalid.
    """
    values = validate_inputs(op, inputs, connection)
    component._prepare(op, values, connection)  # renders once: template and auth errors now
    stats = StreamStats()
    if op.stream:
        if rate_wait_s is None:
            rate_wait_s = max(component.rate_wait_s, STREAM_RATE_WAIT_S)
        plan = _plan(op, values)  # now: a date like 2024-02-30 is an input error here
        job = StreamJob(component, op, values, connection, retry, rate_wait_s, stats)
        job.progress = component.progress
        stream = RecordStream(None, None, stats, inputs_digest(op.key, values), plan)

        def restart(kept: list[Window]) -> Iterator[tuple[Window | None, WindowBuffer]]:
            assert plan.bounds is not None
            left = remaining_windows(plan.bounds[0], plan.bounds[1], plan.days, kept)
            return fetch_windows(job, replace(plan, windows=list(left)))

        stream._windows = fetch_windows(job, plan)
        stream._restart = restart
        return stream
    records: Iterator[Any]
    if op.paging and paging_enabled(op, values):
        records = iter_pages(
            component, op, values, connection, retry=retry, rate_wait_s=rate_wait_s
        )
    else:
        records = _items(component, op, values, connection, retry, rate_wait_s)
    return RecordStream(None, records, stats)


def _items(
    component: Component,
    op: OperationSpec,
    values: dict[str, Any],
    connection: Mapping[str, Any],
    retry: RetryPolicy | None,
    rate_wait_s: float | None,
) -> Iterator[Any]:
    data = component._call(op, values, connection, retry=retry, rate_wait_s=rate_wait_s)
    if op.paging:
        yield from records_at(data, op.paging["records"])
    elif isinstance(data, list):
        yield from data
    else:
        yield data


def _days_of(op: OperationSpec, values: Mapping[str, Any]) -> int:
    split = op.stream.get("split") or {}
    key = split.get("window_input")
    chosen = values.get(key) if key else None
    return int(chosen or split.get("window_days") or DEFAULT_WINDOW_DAYS)


def _plan(op: OperationSpec, values: Mapping[str, Any]) -> WindowPlan:
    """The stream's windows; [None] (one request) when it is not split or has no range."""
    split = op.stream.get("split")
    if not split or not values.get(split["from"]) or not values.get(split["to"]):
        return WindowPlan([None])
    bounds = []
    for end in ("from", "to"):
        key = split[end]
        try:
            bounds.append(date.fromisoformat(str(values[key])))
        except ValueError:
            spec = op.input(key)
            problem = InputProblem(key, spec.label, "expected a date such as 2024-01-31")
            raise InputError(op.key, [problem]) from None
    days = _days_of(op, values)
    windows: list[Window | None] = list(remaining_windows(bounds[0], bounds[1], days, []))
    halve_after = int(split.get("halve_after") or DEFAULT_HALVE_AFTER)
    return WindowPlan(
        windows, split["from"], split["to"], days, halve_after, (bounds[0], bounds[1])
    )
