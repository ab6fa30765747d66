"""How a long call shows its figures: a bar on a terminal, a log line every ten seconds elsewhere.

Any mode reports through `Progress.update(figures)`, a mapping of figure names to values
(records, requests, retried, MB, windows "3/13", waiting "...", concurrency, throttled,
skipped); the figures a mode does not know are simply absent.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tqdm import tqdm

__all__ = [
    "LOG_INTERVAL_S",
    "BarProgress",
    "LogProgress",
    "NoProgress",
    "Progress",
    "describe",
    "open_progress",
]

Figures = Mapping[str, float | int | str]
log = logging.getLogger("connector.progress")

#: Off a terminal, how often a progress line is logged.
LOG_INTERVAL_S = 10.0
# The order and wording of the figures after the record count.
_ORDER = (
    ("pages", "{:,} pages"),
    ("imported", "{:,} imported"),
    ("requests", "{:,} requests"),
    ("retried", "{:,} retried"),
    ("skipped", "{:,} batches skipped"),
    ("mb", "{:,.1f} MB"),
    ("windows", "windows {}"),
    ("concurrency", "{} in flight"),
    ("throttled", "{:,} throttled"),
    ("job", "job {}"),
    ("status", "status {}"),
    ("polls", "{:,} polls"),
    ("waiting", "waiting: {}"),
)


class Progress(Protocol):
    """What a mode reports to; `update` may be called from any thread."""

    def update(self, figures: Figures) -> None:
        """Merge `figures` into what is shown."""


def describe(figures: Figures, *, rate: float | None = None) -> str:
    """The figures as one line: `12,000 records, 2,400 records/s, 6 requests, windows 3/13`."""
    parts = []
    if "records" in figures:
        parts.append(f"{int(figures['records']):,} records")
    if rate is not None:
        parts.append(f"{rate:,.0f} records/s")
    for key, text in _ORDER:
        value = figures.get(key)
        if value not in (None, ""):
            parts.append(text.format(value))
    return ", ".join(parts)


class NoProgress:
    """Shows nothing (`--quiet`, or a caller that did not ask)."""

    def update(self, figures: Figures) -> None:
        """Ignore the figures."""

    def close(self, ok: bool = True) -> None:
        """Nothing to close."""


class BarProgress:
    """A tqdm bar counting records, with the other figures after it; drawn at the first figure."""

    def __init__(self, label: str, stream: Any) -> None:
        self._label, self._stream = label, stream
        self._tqdm: tqdm[Any] | None = None
        self._figures: dict[str, float | int | str] = {}
        self._lock = threading.Lock()
        self._logging: contextlib.ExitStack | None = None
        self._closed = False

    @property
    def _bar(self) -> tqdm[Any]:
        if self._tqdm is None:
            self._tqdm = tqdm(
                desc=self._label,
                unit=" records",
                unit_scale=True,
                file=self._stream,
                mininterval=0.5,
                leave=True,
            )
            # While the bar is drawn, log lines (waits, resumes, retries) are written above it
            # instead of through it.
            from tqdm.contrib.logging import logging_redirect_tqdm

            self._logging = contextlib.ExitStack()
            self._logging.enter_context(logging_redirect_tqdm(tqdm_class=tqdm))
        return self._tqdm

    def update(self, figures: Figures) -> None:
        """Move the bar to the record count and show the other figures."""
        with self._lock:
            waiting_changed = figures.get("waiting", self._figures.get("waiting")) != (
                self._figures.get("waiting")
            )
            self._figures.update(figures)
            records = int(self._figures.get("records", 0))
            others = {k: v for k, v in self._figures.items() if k != "records"}
            self._bar.set_postfix_str(describe(others), refresh=False)
            if records > self._bar.n:
                self._bar.update(records - self._bar.n)
            elif waiting_changed:
                self._bar.refresh()

    def close(self, ok: bool = True) -> None:
        """Leave the bar with its final figures, marked "(stopped)" unless the call succeeded.

        Only the first call counts: a summary printed after it never meets the bar.
        """
        with self._lock:
            if self._tqdm is None or self._closed:
                return
            self._closed = True
            self._figures.pop("waiting", None)
            others = {k: v for k, v in self._figures.items() if k != "records"}
            if not ok:
                self._tqdm.set_description_str(f"{self._label} (stopped)", refresh=False)
            self._tqdm.set_postfix_str(describe(others), refresh=False)
            self._tqdm.close()
            if self._logging is not None:
                self._logging.close()


class LogProgress:
    """Logs the figures at INFO every `interval_s` seconds, and once more at the end."""

    def __init__(
        self,
        label: str,
        *,
        interval_s: float = LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger = log,
    ) -> None:
        self.label = label
        self._interval_s = interval_s
        self._clock = clock
        self._log = logger
        self._started = self._last = clock()
        self._figures: dict[str, float | int | str] = {}
        self._lock = threading.Lock()
        self._closed = False

    def update(self, figures: Figures) -> None:
        """Merge the figures; log them when `interval_s` has passed since the last line."""
        with self._lock:
            self._figures.update(figures)
            now = self._clock()
            if now - self._last >= self._interval_s:
                self._last = now
                self._emit(now)

    def close(self, ok: bool = True) -> None:
        """Log the final figures once: "(done)" when the call succeeded, else "(stopped)"."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._figures.pop("waiting", None)
            if self._figures:
                self._emit(self._clock(), final=" (done)" if ok else " (stopped)")

    def _emit(self, now: float, *, final: str = "") -> None:
        elapsed = now - self._started
        rate = int(self._figures.get("records", 0)) / elapsed if elapsed > 0 else None
        self._log.info("%s%s: %s", self.label, final, describe(self._figures, rate=rate))


def open_progress(
    label: str, *, quiet: bool, stream: Any
) -> NoProgress | BarProgress | LogProgress:
    """A bar when `stream` is a terminal, log lines when it is not, nothing when `quiet`."""
    if quiet:
        return NoProgress()
    if bool(getattr(stream, "isatty", lambda: False)()):
        return BarProgress(label, stream)
    return LogProgress(label)
