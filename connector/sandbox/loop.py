"""The sandbox's connections: one thread does all socket I/O, a fixed pool of workers answers.

Idle and slow clients cost a socket and a small buffer, never a thread: a request goes to a
worker only once it has arrived in full. Headers must arrive within `read_timeout_s` of their
first byte, and a body may pause no longer than that, else the answer is 408. A connection idle
for `idle_timeout_s` is closed; at `max_connections` (or out of file descriptors) the connection
idle the longest makes room for the new one.
"""

from __future__ import annotations

import errno
import selectors
import socket
import ssl
import threading
import time
from collections import OrderedDict
from typing import Any

from .bodies import BodyMemory
from .connection import Closed, Connection, NotTLS
from .pool import App, Pool
from .wire import Reader, Request, WireError

SWEEP_S = 0.1  # how often deadlines are checked
LINGER_S = 2.0  # after an answer that closes, unread request bytes are drained this long
ACCEPT_BATCH = 256
NOT_TLS = "this sandbox serves https: use an https:// URL"
_LISTEN, _WAKE = object(), object()
_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
_READ, _WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE


class EventServer:
    """Listens on (host, port) and serves `app` until `stop`; https when given a TLS context."""

    def __init__(
        self,
        host: str,
        port: int,
        app: App,
        *,
        max_body: int,
        max_body_memory: int,
        workers: int = 16,
        idle_timeout_s: float = 30.0,
        read_timeout_s: float = 10.0,
        max_connections: int = 10_000,
        tls: ssl.SSLContext | None = None,
        name: str = "mixpanel-sandbox",
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=1024)
        self.listener.setblocking(False)
        self.app, self.max_body, self.name, self.tls = app, max_body, name, tls
        self.idle_timeout_s, self.read_timeout_s = idle_timeout_s, read_timeout_s
        self.max_connections = max_connections
        self.memory = BodyMemory(max_body_memory)
        self._pool = Pool(app, workers, name)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.listener, _READ, _LISTEN)
        self._selector.register(self._pool.wake_r, _READ, _WAKE)
        self._conns: set[Connection] = set()
        self._idle: OrderedDict[Connection, None] = OrderedDict()  # oldest first
        self._paused_until = 0.0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def server_address(self) -> tuple[str, int]:
        """The address actually bound (the port when 0 was asked)."""
        host, port = self.listener.getsockname()[:2]
        return str(host), int(port)

    @property
    def open_connections(self) -> int:
        """Connections currently open (read by tests and the live view)."""
        return len(self._conns)

    def start(self) -> None:
        """Start the workers and the I/O thread."""
        self._pool.start()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Close every connection and the listener; wait (a little) for the threads."""
        self._stopping.set()
        self._pool.wake()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._pool.stop()
        self._selector.close()
        self.listener.close()

    # --- the I/O thread ---------------------------------------------------------------------

    def _run(self) -> None:
        next_sweep = time.monotonic() + SWEEP_S
        while not self._stopping.is_set():
            for key, events in self._selector.select(SWEEP_S):
                what: Any = key.data
                if what is _LISTEN:
                    self._accept()
                elif what is _WAKE:
                    self._pool.drain_wakeups()
                else:
                    if events & _WRITE and what.state in ("read", "write"):
                        self._flush(what)
                    if events & _READ and what.state in ("read", "drain"):
                        self._on_read(what)
            self._finish_answers()
            now = time.monotonic()
            if now >= next_sweep:
                self._sweep(now)
                next_sweep = now + SWEEP_S
        for conn in list(self._conns):
            self._close(conn)

    def _accept(self) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                sock, _ = self.listener.accept()
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_FDS and not self._evict():
                    self._selector.unregister(self.listener)  # resumed by the sweep
                    self._paused_until = time.monotonic() + SWEEP_S
                    return
                continue
            if len(self._conns) >= self.max_connections and not self._evict():
                sock.close()
                continue
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            deadline = time.monotonic() + self.idle_timeout_s
            conn = Connection(sock, Reader(self.max_body, self.memory), self.tls, deadline)
            self._conns.add(conn)
            self._idle[conn] = None
            self._watch(conn, _READ)

    def _evict(self) -> bool:
        """Close the connection idle the longest; False when none is idle."""
        if not self._idle:
            return False
        conn, _ = self._idle.popitem(last=False)
        self._close(conn)
        return True

    def _on_read(self, conn: Connection) -> None:
        try:
            got = conn.receive()
        except NotTLS as exc:  # answered in plain HTTP, then closed
            conn.reader.feed(exc.data)
            conn.close_after = True
            self._dispatch(conn, self._error(conn, 400, NOT_TLS))
            return
        except Closed:
            self._close(conn)
            return
        if got is None:
            return
        data, eof = got
        if conn.state == "drain":
            if eof:
                self._close(conn)
            return
        if conn.wire:  # TLS handshake records
            self._flush(conn)
            if conn.state == "closed":
                return
        if data:
            self._idle.pop(conn, None)
            if not conn.reader.pending or conn.reader.head is not None:
                conn.deadline = time.monotonic() + self.read_timeout_s  # headers: from their start
            conn.reader.feed(data)
            self._next_request(conn)
        if not eof or conn.state != "read":
            return
        if not conn.reader.pending:
            self._close(conn)
            return
        message = f"the connection closed mid-request: {conn.reader.progress()}"
        conn.close_after = True
        self._dispatch(conn, self._error(conn, 400, message))

    def _error(self, conn: Connection, status: int, message: str) -> WireError:
        head = conn.reader.head
        return WireError(status, message, head.target if head else "", head.method if head else "")

    def _next_request(self, conn: Connection) -> None:
        try:
            request = conn.reader.next()
        except WireError as exc:
            self._dispatch(conn, exc)
            return
        if request is not None:
            self._dispatch(conn, request)
            return
        if hello := conn.reader.continue_bytes():
            conn.queue(hello)
            self._flush(conn)
        if not conn.reader.pending:
            self._idle.pop(conn, None)
            self._idle[conn] = None
            conn.deadline = time.monotonic() + self.idle_timeout_s

    def _dispatch(self, conn: Connection, item: Request | WireError) -> None:
        self._watch(conn, 0)
        self._idle.pop(conn, None)
        conn.state = "busy"
        self._pool.submit(conn, item)

    def _finish_answers(self) -> None:
        while self._pool.answers:
            conn, out = self._pool.answers.popleft()
            if conn.state != "busy":
                continue
            if out.reset == "before":
                self._close(conn, reset=True)
                continue
            data, close = conn.reader.answer(out)
            conn.reader.release()
            conn.out, conn.state = memoryview(data), "write"
            conn.close_after = conn.close_after or close
            conn.reset = out.reset == "after"
            conn.deadline = time.monotonic() + self.read_timeout_s
            self._flush(conn)

    def _flush(self, conn: Connection) -> None:
        """Send what waits; once an answer is all sent, read on, close or reset."""
        try:
            progress = conn.send()
        except Closed:
            self._close(conn)
            return
        if conn.sending:
            if progress and conn.state == "write":
                conn.deadline = time.monotonic() + self.read_timeout_s
            self._watch(conn, _WRITE | (_READ if conn.state == "read" else 0))
        elif conn.state == "read":
            self._watch(conn, _READ)
        elif conn.state != "write":
            return
        elif conn.reset:
            self._close(conn, reset=True)
        elif conn.close_after:
            self._linger(conn)
        else:
            conn.state = "read"
            conn.reader.next_cycle()
            self._watch(conn, _READ)
            self._next_request(conn)  # a pipelined request may be waiting already

    def _linger(self, conn: Connection) -> None:
        """Close once the client stops sending (unread bytes would make the close a reset)."""
        try:
            conn.finish_sending()
        except OSError:
            self._close(conn)
            return
        conn.state, conn.deadline = "drain", time.monotonic() + LINGER_S
        self._watch(conn, _READ)

    def _sweep(self, now: float) -> None:
        if self._paused_until and now >= self._paused_until:
            self._paused_until = 0.0
            self._selector.register(self.listener, selectors.EVENT_READ, _LISTEN)
        for conn in [c for c in self._conns if c.state != "busy" and c.deadline <= now]:
            if conn.state == "read" and conn.reader.pending:
                took, progress = f"{self.read_timeout_s:g} s", conn.reader.progress()
                message = f"the request did not arrive in full within {took}: {progress}"
                conn.close_after = True
                self._dispatch(conn, self._error(conn, 408, message))
            else:
                self._close(conn)

    def _watch(self, conn: Connection, events: int) -> None:
        if events == conn.events:
            return
        if not events:
            self._selector.unregister(conn.sock)
        elif conn.events:
            self._selector.modify(conn.sock, events, conn)
        else:
            self._selector.register(conn.sock, events, conn)
        conn.events = events

    def _close(self, conn: Connection, *, reset: bool = False) -> None:
        if conn.state == "closed":
            return
        self._watch(conn, 0)
        conn.reader.release()
        if reset:
            conn.abort()
        else:
            conn.sock.close()
        conn.state = "closed"
        self._conns.discard(conn)
        self._idle.pop(conn, None)
