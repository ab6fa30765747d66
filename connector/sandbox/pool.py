"""A fixed pool of worker threads: jobs in, answers handed back to the I/O thread with a wake-up."""

from __future__ import annotations

import queue
import socket
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from .wire import Outgoing, Request, WireError

SANDBOX_BUG = b'{"error":"sandbox error","status":"error"}'

App = Callable[[Request | WireError], Outgoing]


class Pool:
    """`count` threads run `app` on submitted items; answers queue up, `wake_r` turns readable."""

    def __init__(self, app: App, count: int, name: str) -> None:
        self.app, self.count, self.name = app, max(1, count), name
        self._jobs: queue.SimpleQueue[tuple[Any, Request | WireError] | None] = queue.SimpleQueue()
        self.answers: deque[tuple[Any, Outgoing]] = deque()
        self.wake_r, self._wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the threads."""
        self._threads = [
            threading.Thread(target=self._work, name=f"{self.name}-worker-{i}", daemon=True)
            for i in range(self.count)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, owner: Any, item: Request | WireError) -> None:
        """Answer `item`; the answer comes back as (owner, Outgoing) in `answers`."""
        self._jobs.put((owner, item))

    def wake(self) -> None:
        """Make `wake_r` readable (the I/O thread's select returns)."""
        try:
            self._wake_w.send(b"\0")
        except OSError:  # full (a wake-up is already pending) or closed
            pass

    def drain_wakeups(self) -> None:
        """Read the pending wake-ups."""
        try:
            while self.wake_r.recv(4096):
                pass
        except OSError:
            pass

    def stop(self) -> None:
        """Let every thread finish its job and end (waiting a little for each)."""
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self.wake_r.close()
        self._wake_w.close()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            owner, item = job
            del job
            try:
                out = self.app(item)
            except Exception:  # noqa: BLE001 - the app answers its own errors; this is a last resort
                out = Outgoing(500, SANDBOX_BUG, close=True)
            del item  # the request's body is not held past its answer
            self.answers.append((owner, out))
            self.wake()
