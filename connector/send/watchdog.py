"""A request's deadline over connect, send, status line and headers: a watchdog shuts the socket.

The per-read timeout bounds each receive, so a server dripping its status line and headers a
byte at a time, each within that timeout, would hold a request forever. `watched` registers the
request with one shared watchdog thread for its deadline (`response.reads.deadline_s`); the
connections of `DeadlineAdapter` hand it their socket while they send and wait for the header of
the answer, and when the deadline comes first the watchdog shuts that socket down, so the
blocked receive or send returns at once. The body is read under the same deadline by
`connector.send.body`, checked between receives. The watchdog thread ends once no request has
been in flight for `LINGER_S`.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import requests.adapters
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

__all__ = ["DeadlineAdapter", "Watch", "watched"]


class Watch:
    """One request's deadline: the socket it is waiting on, and whether the deadline passed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False
        self.done = False

    def attach(self, sock: socket.socket | None) -> None:
        """Wait on `sock` now (shut at once when the deadline has already passed)."""
        with self._lock:
            self._sock = sock
            if self.fired:
                _shut(sock)

    def detach(self) -> None:
        """The header is in (or the connection is given back): leave the socket alone."""
        with self._lock:
            self._sock = None

    def fire(self) -> None:
        """The deadline passed: shut the socket being waited on."""
        with self._lock:
            self.fired = True
            _shut(self._sock)


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed or detached: nothing to wake
            sock.shutdown(socket.SHUT_RDWR)


_CURRENT: contextvars.ContextVar[Watch | None] = contextvars.ContextVar(
    "connector_deadline_watch", default=None
)


#: How long the watchdog thread waits for the next request before it ends.
LINGER_S = 1.0


class _Watchdog:
    """One thread for every request in flight: fires each watch at its deadline, earliest first.

    A thread per request would cost its start on every request; this one is started when a
    request comes and none runs, and ends once no request has been in flight for `LINGER_S`.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self.thread: threading.Thread | None = None

    def arm(self, deadline: float, watch: Watch) -> None:
        """Fire `watch` at `deadline` (monotonic) unless it is disarmed first."""
        with self._cond:
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
        with self._cond:
            watch.done = True
            if self._drop_done():  # the earliest deadline changed: wait for the next one
                self._cond.notify()

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
                left = deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                heapq.heappop(self._heap)
                watch.fire()


WATCHDOG = _Watchdog()


@contextlib.contextmanager
def watched(deadline: float) -> Iterator[Watch]:
    """Watch the socket until `deadline` (monotonic) while sending and reading the header."""
    watch = Watch()
    token = _CURRENT.set(watch)
    WATCHDOG.arm(deadline, watch)
    try:
        yield watch
    finally:
        _CURRENT.reset(token)
        WATCHDOG.disarm(watch)
        watch.detach()


def _attach(sock: socket.socket | None) -> None:
    watch = _CURRENT.get()
    if watch is not None:
        watch.attach(sock)


def _detach() -> None:
    watch = _CURRENT.get()
    if watch is not None:
        watch.detach()


class _Watched:
    """Mixin for urllib3 connections: the socket is watched from sending to the header's end."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _attach(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _attach(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def getresponse(self) -> Any:
        try:
            return super().getresponse()  # type: ignore[misc]
        finally:
            _detach()


class _HTTPConnection(_Watched, HTTPConnection):
    """An HTTP connection under the request's deadline."""


class _HTTPSConnection(_Watched, HTTPSConnection):
    """An HTTPS connection under the request's deadline."""


class _HTTPPool(HTTPConnectionPool):
    """A pool of watched HTTP connections."""

    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    """A pool of watched HTTPS connections."""

    ConnectionCls = _HTTPSConnection


_POOLS: dict[str, type[HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """requests' adapter whose connections (direct or through an HTTP proxy) are watched."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        """The pool manager of requests, making watched pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """The proxy manager of requests; an HTTP(S) proxy's pools are watched too."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
