"""A request's deadline over connecting, sending and reading the header: its socket is shut.

The per-read timeout bounds each receive, so a server dripping its status line and headers a
byte at a time, each within that timeout, would hold a request for as long as it likes.
`watched` registers the request with one shared watchdog thread for its deadline; while it is
registered, the connection urllib3 takes from its pool for the request is noted (`WatchedAdapter`
wraps each pool's `_get_conn` on the pool itself, so the pool and connection classes stay
urllib3's own, and so do any test doubles patched into them). When the deadline comes first,
the watchdog shuts that connection's socket down, so the blocked receive or send returns at once
and the request fails. The body is read under the same deadline by `connector.send.body`, checked
between receives. The watchdog thread ends once no request has been watched for `LINGER_S`.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import requests.adapters
from urllib3.connectionpool import HTTPConnectionPool

__all__ = ["LINGER_S", "WATCHDOG", "Watch", "WatchedAdapter", "watched"]

#: How long the watchdog thread waits for the next request before it ends.
LINGER_S = 1.0
#: How soon a fired watch looks again for a socket to shut when it had none (still connecting).
RECHECK_S = 0.05


class Watch:
    """One request's deadline: the connection it is using, and whether the deadline passed."""

    __slots__ = ("_conn", "_lock", "done", "fired", "shut")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: Any = None
        self.fired = False
        self.shut = False
        self.done = False

    def attach(self, conn: Any) -> None:
        """The request now uses `conn` (a urllib3 connection; its socket may come later)."""
        with self._lock:
            if not self.done:
                self._conn = conn
                self.shut = False

    def fire(self) -> bool:
        """The deadline passed: shut the connection's socket; True to look again later.

        A connection still connecting has no socket yet: the caller fires again shortly.
        """
        with self._lock:
            if self.done:
                return False
            self.fired = True
            if not self.shut:
                self.shut = _shut(getattr(self._conn, "sock", None))
            return not self.shut

    def finish(self) -> None:
        """The watched part is over: leave the connection alone from now on."""
        with self._lock:
            self.done = True
            self._conn = None


def _shut(sock: object) -> bool:
    """Shut `sock` down both ways (waking a thread blocked on it); False when there is none.

    A socket being wrapped in TLS has handed its descriptor to the TLS socket (fileno -1) until
    the handshake ends: there is nothing to shut yet.
    """
    if not isinstance(sock, socket.socket) or sock.fileno() < 0:
        return False
    with contextlib.suppress(OSError):  # already closed: nothing to wake
        # the plain socket's shutdown: a TLS socket's own would drop its TLS state under a reader
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    return True


class _Watchdog:
    """One thread for every request watched: fires each watch at its deadline, earliest first.

    A thread per request would cost a start on every request; this one starts when a request
    comes and none runs, and ends once no request has been watched for `LINGER_S`.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # the thread does not survive a fork

    def _reset(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._live = 0
        self.thread: threading.Thread | None = None

    def arm(self, deadline: float, watch: Watch) -> None:
        """Fire `watch` at `deadline` (monotonic) unless it is finished first."""
        with self._cond:
            self._live += 1
            heapq.heappush(self._heap, (deadline, next(self._order), watch))
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="connector-deadline-watchdog", daemon=True
                )
                self.thread.start()
            elif self._heap[0][2] is watch:
                self._cond.notify()

    def disarm(self, watch: Watch) -> None:
        """The watched part is over: never fire `watch`."""
        watch.finish()
        with self._cond:
            self._live -= 1
            if len(self._heap) > 2 * self._live + 64:  # finished watches wait in the heap
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
            if self._drop_done():
                self._cond.notify()  # the earliest deadline changed (or none is left)

    def _drop_done(self) -> bool:
        dropped = False
        while self._heap and self._heap[0][2].done:
            heapq.heappop(self._heap)
            dropped = True
        return dropped

    def _run(self) -> None:
        with self._cond:
            while True:
                self._drop_done()
                if not self._heap:
                    if not self._cond.wait(LINGER_S) and not self._heap:
                        self.thread = None
                        return
                    continue
                deadline, _, watch = self._heap[0]
                now = time.monotonic()
                if deadline > now:
                    self._cond.wait(deadline - now)
                    continue
                heapq.heappop(self._heap)
                if watch.fire():
                    heapq.heappush(self._heap, (now + RECHECK_S, next(self._order), watch))


WATCHDOG = _Watchdog()

_CURRENT: contextvars.ContextVar[Watch | None] = contextvars.ContextVar(
    "connector_deadline_watch", default=None
)


@contextlib.contextmanager
def watched(deadline: float) -> Iterator[Watch]:
    """Watch the request's connections until `deadline` (monotonic) while the block runs."""
    watch = Watch()
    token = _CURRENT.set(watch)
    WATCHDOG.arm(deadline, watch)
    try:
        yield watch
    finally:
        _CURRENT.reset(token)
        WATCHDOG.disarm(watch)


def _watch_pool(pool: Any) -> Any:
    """Note each connection `pool` hands out while a request is watched (once per pool)."""
    if not isinstance(pool, HTTPConnectionPool) or "_get_conn" in vars(pool):
        return pool
    ref = weakref.ref(pool)  # the pool holds this function: no reference cycle through it

    def get_conn(timeout: float | None = None, **kwargs: Any) -> Any:
        owner = ref()
        assert owner is not None  # the pool calls its own method
        # looked up on the class at each call, so a patched class method is honoured
        conn = type(owner)._get_conn(owner, timeout, **kwargs)
        watch = _CURRENT.get()
        if watch is not None:
            watch.attach(conn)
        return conn

    pool._get_conn = get_conn  # type: ignore[method-assign]
    return pool


class WatchedAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter, its pools (urllib3's own) noting the connection of a watched request."""

    def get_connection_with_tls_context(self, *args: Any, **kwargs: Any) -> Any:
        """The pool requests sends through (requests >= 2.32), its connections noted."""
        return _watch_pool(super().get_connection_with_tls_context(*args, **kwargs))

    def get_connection(self, *args: Any, **kwargs: Any) -> Any:
        """The pool requests sends through (requests < 2.32), its connections noted."""
        return _watch_pool(super().get_connection(*args, **kwargs))
