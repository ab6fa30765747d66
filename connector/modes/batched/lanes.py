"""Ordered lanes: one key always goes through one lane, in order; lanes run in parallel."""

from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson

T = TypeVar("T")

#: Items waiting for a worker, besides the one each worker holds: one per lane when ordered,
#: this many in all otherwise, so memory stays bounded however many workers there are.
QUEUED = 2
_STOP = object()


def lane_of(key: Any, lanes: int) -> int:
    """The lane of a record key: a stable hash (the same in every process and run), mod `lanes`.

    Python's hash() of text is randomized per process, so it would not do: CRC-32 of the key's
    text (its JSON when it is not text) decides.
    """
    if lanes <= 1:
        return 0
    data = key.encode("utf-8", "surrogatepass") if type(key) is str else orjson.dumps(key)
    return zlib.crc32(data) % lanes


class LanePool(Generic[T]):
    """Runs `work(item)` on `workers` threads.

    Unordered (`ordered=False`): any free worker takes the next item. Ordered: worker `n` owns
    lane `n` and takes that lane's items one at a time in the order they were submitted, so
    two items of one lane never overlap and never swap. `submit` blocks while the queue it
    feeds is full. After the first exception from `work`, queued items are dropped unrun,
    `submit` refuses more (returns False) and `close` raises that exception.
    """

    def __init__(self, workers: int, work: Callable[[T], None], *, ordered: bool) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.ordered = ordered
        self._work = work
        count = workers if ordered else 1
        self._queues: list[queue.Queue[Any]] = [
            queue.Queue(1 if ordered else QUEUED) for _ in range(count)
        ]
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(
                target=self._run,
                args=(self._queues[n if ordered else 0],),
                name=f"batch-lane-{n}",
                daemon=True,
            )
            for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def error(self) -> BaseException | None:
        """The first exception a work item raised, if any."""
        return self._error

    def submit(self, item: T, lane: int = 0) -> bool:
        """Queue `item` (on `lane` when ordered); False once an item has failed."""
        target = self._queues[lane % len(self._queues)]
        while self._error is None:
            try:
                target.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def close(self) -> None:
        """Wait for every queued item, stop the workers; raise the first failure."""
        for n in range(self.workers):
            self._queues[n if self.ordered else 0].put(_STOP)
        for thread in self._threads:
            thread.join()
        if self._error is not None:
            raise self._error

    def _run(self, source: queue.Queue[Any]) -> None:
        while True:
            item = source.get()
            if item is _STOP:
                return
            if self._error is not None:
                continue  # drop: the run stops at its first failure
            try:
                self._work(item)
            except BaseException as exc:  # noqa: BLE001 - kept, raised by close()
                with self._lock:
                    if self._error is None:
                        self._error = exc
