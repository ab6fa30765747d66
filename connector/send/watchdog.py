"""A per-request deadline over connect, send, status line and headers: a timer shuts the socket.

The per-read timeout bounds each receive, so a server dripping its status line and headers a
byte at a time, each within that timeout, would hold a request forever. `watched` arms one timer
for the request's deadline (`response.reads.deadline_s`); the connections of `DeadlineAdapter`
hand it their socket while they send and wait for the header of the answer, and when the timer
fires first it shuts that socket down, so the blocked receive or send returns at once. The body
is read under the same deadline by `connector.send.body`, checked between receives. The timer is
cancelled and joined when the header is in, so no thread outlives the request.
"""

from __future__ import annotations

import contextlib
import contextvars
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
    """One request's deadline: the socket it is waiting on, and whether the timer fired."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False

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


@contextlib.contextmanager
def watched(deadline: float) -> Iterator[Watch]:
    """Arm a timer for `deadline` (monotonic) around sending and reading the header."""
    watch = Watch()
    timer = threading.Timer(max(0.0, deadline - time.monotonic()), watch.fire)
    timer.daemon = True
    token = _CURRENT.set(watch)
    timer.start()
    try:
        yield watch
    finally:
        _CURRENT.reset(token)
        timer.cancel()
        watch.detach()
        timer.join()


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
        """requests' pool manager, making watched pools."""
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        """requests' proxy manager; an HTTP(S) proxy's pools are watched too."""
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.ProxyManager:
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
