"""Window imports that overlap: the next starts once the last one's records were all handed over.

A copy imports each window with its own run. Waiting for a run to return before starting the
next drains the requests in flight at every window boundary for a full round trip (the last
answers of the window). Instead the next window's import starts as soon as the previous run
has read its last record, so its batches fill the lanes while those answers come back. Runs
sending to one target share one concurrency limit (connector.modes.batched.live), so the
two together never have more requests in flight than one would. At most two imports run at
once: the next waits for the oldest to end, which also bounds the windows held to one more.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConnectorError

__all__ = ["Job", "Overlap", "Running"]

#: Imports at once: the one ending (its last answers) and the next one.
AT_ONCE = 2

Job = Callable[[Callable[[Iterator[Any]], Iterator[Any]]], None]


class _Import:
    """One window's import on its own thread; its error, if any, kept for the caller."""

    def __init__(self, job: Job, label: str, stop: threading.Event, wake: threading.Event) -> None:
        self.label, self.stop, self.wake = label, stop, wake
        self.handed = threading.Event()  # every record was read (or the import ended)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(job,), name=f"copy-{label}")

    def _run(self, job: Job) -> None:
        try:
            job(self._watched)
        except BaseException as exc:  # noqa: BLE001 - raised on the caller's thread
            self.error = exc
        finally:
            self.handed.set()
            self.wake.set()

    def _watched(self, records: Iterator[Any]) -> Iterator[Any]:
        for record in records:
            if self.stop.is_set():  # another import failed: this one must not end as done
                raise ConnectorError(f"window {self.label}: stopped, another window failed")
            yield record
        self.handed.set()
        self.wake.set()


class Overlap:
    """Imports started one after another, each once the last had handed over its records."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._wake = threading.Event()  # an import handed over its records, or ended
        self._running: deque[_Import] = deque()

    def start(self, label: str, job: Job, dropped: Callable[[], None]) -> None:
        """Run `job(watch)` on a thread; return once the records it gives `watch` were read.

        `job` wraps its records in `watch`. An import's error is raised here as soon as it
        comes (then the caller must call `close`); when it stops `job` from starting,
        `dropped` is called in its place.
        """
        try:
            while len(self._running) >= AT_ONCE:
                self._reap(self._running.popleft())
        except BaseException:
            dropped()
            raise
        started = _Import(job, label, self.stop, self._wake)
        self._running.append(started)
        started.thread.start()
        while True:  # until it read its records, or an import failed
            self._wake.clear()
            if started.handed.is_set() or any(i.error for i in self._running):
                break
            self._wake.wait()
        for done in [i for i in self._running if i.error or not i.thread.is_alive()]:
            self._running.remove(done)
            self._reap(done)

    def finish(self) -> None:
        """Wait for every import; raise the first error."""
        while self._running:
            self._reap(self._running.popleft())

    def close(self) -> None:
        """After an error: stop the imports still reading and wait for them (errors dropped)."""
        self.stop.set()
        while self._running:
            self._running.popleft().thread.join()

    def _reap(self, one: _Import) -> None:
        one.thread.join()
        if one.error is not None:
            raise one.error


class Running:
    """The target's progress over a whole copy: the windows' counts added up.

    Two windows may be imported at once: each one's last figures are kept apart until its
    import ends, then join the base.
    """

    SUMMED = ("sent", "imported", "requests", "retried", "throttled")

    def __init__(self, inner: Any) -> None:
        self.inner, self.base = inner, dict.fromkeys(self.SUMMED, 0)
        self.last: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def window(self, label: str) -> _WindowProgress:
        """The progress one window's import reports to."""
        return _WindowProgress(self, label)

    def update(self, label: str, figures: Mapping[str, Any]) -> None:
        """Show `figures` of window `label` with the other windows' added."""
        with self._lock:
            self.last[label] = dict(figures)
            shown = dict(figures)
            for key in self.SUMMED:
                if key in figures:
                    shown[key] = self.base[key] + sum(
                        int(last.get(key) or 0) for last in self.last.values()
                    )
            self.inner.update(shown)

    def window_done(self, label: str) -> None:
        """The window's import ended: its counts join the base."""
        with self._lock:
            last = self.last.pop(label, {})
            for key in self.SUMMED:
                self.base[key] += int(last.get(key) or 0)


@dataclass
class _WindowProgress:
    """What one window's import reports to: the copy's progress, under the window's label."""

    running: Running
    label: str

    def update(self, figures: Mapping[str, Any]) -> None:
        """Show the window's `figures` added to the others'."""
        self.running.update(self.label, figures)
