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
import struct
import threading
import time
from collections import OrderedDict
from typing import Any

from .pool import App, Pool
from .wire import Reader, Request, WireError

SWEEP_S = 0.1  # how often deadlines are checked
LINGER_S = 2.0  # after an answer that closes, unread request bytes are drained this long
ACCEPT_BATCH = 256
RECV_BYTES = 256 * 1024
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LISTEN, _WAKE = object(), object()
_OUT_OF_FDS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


class _Conn:
    __slots__ = ("sock", "reader", "out", "state", "deadline", "events", "close_after", "reset")

    def __init__(self, sock: socket.socket, reader: Reader, deadline: float) -> None:
        self.sock, self.reader, self.deadline = sock, reader, deadline
        self.out = memoryview(b"")
        self.state = "read"  # read | busy | write | drain | closed
        self.events = 0
        self.close_after = self.reset = False


class EventServer:
    """Listens on (host, port) and serves `app` until `stop`."""

    def __init__(
        self,
        host: str,
        port: int,
        app: App,
        *,
        max_body: int,
        workers: int = 16,
        idle_timeout_s: float = 30.0,
        read_timeout_s: float = 10.0,
        max_connections: int = 10_000,
        name: str = "mixpanel-sandbox",
    ) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=1024)
        self.listener.setblocking(False)
        self.app, self.max_body, self.name = app, max_body, name
        self.idle_timeout_s, self.read_timeout_s = idle_timeout_s, read_timeout_s
        self.max_connections = max_connections
        self._pool = Pool(app, workers, name)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.listener, selectors.EVENT_READ, _LISTEN)
        self._selector.register(self._pool.wake_r, selectors.EVENT_READ, _WAKE)
        self._conns: set[_Conn] = set()
        self._idle: OrderedDict[_Conn, None] = OrderedDict()  # oldest first
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
                elif what.state in ("read", "drain") and events & selectors.EVENT_READ:
                    self._on_read(what)
                elif what.state == "write" and events & selectors.EVENT_WRITE:
                    self._on_write(what)
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
            conn = _Conn(sock, Reader(self.max_body), time.monotonic() + self.idle_timeout_s)
            self._conns.add(conn)
            self._idle[conn] = None
            self._watch(conn, selectors.EVENT_READ)

    def _evict(self) -> bool:
        """Close the connection idle the longest; False when none is idle."""
        if not self._idle:
            return False
        conn, _ = self._idle.popitem(last=False)
        self._close(conn)
        return True

    def _on_read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        if conn.state == "drain":
            if not data:
                self._close(conn)
            return
        if not data:
            if not conn.reader.pending:
                self._close(conn)
                return
            message = f"the connection closed mid-request: {conn.reader.progress()}"
            conn.close_after = True
            self._dispatch(conn, self._error(conn, 400, message))
            return
        self._idle.pop(conn, None)
        if not conn.reader.pending or conn.reader.head is not None:
            conn.deadline = time.monotonic() + self.read_timeout_s  # headers: from their start
        conn.reader.feed(data)
        self._next_request(conn)

    def _error(self, conn: _Conn, status: int, message: str) -> WireError:
        head = conn.reader.head
        return WireError(status, message, head.target if head else "", head.method if head else "")

    def _next_request(self, conn: _Conn) -> None:
        try:
            request = conn.reader.next()
        except WireError as exc:
            self._dispatch(conn, exc)
            return
        if request is not None:
            self._dispatch(conn, request)
            return
        if conn.reader.wants_continue():
            try:
                conn.sock.send(CONTINUE)
            except OSError:
                pass
        if not conn.reader.pending:
            self._idle.pop(conn, None)
            self._idle[conn] = None
            conn.deadline = time.monotonic() + self.idle_timeout_s

    def _dispatch(self, conn: _Conn, item: Request | WireError) -> None:
        self._watch(conn, 0)
        self._idle.pop(conn, None)
        conn.state = "busy"
        self._pool.submit(conn, item)

    def _finish_answers(self) -> None:
        while self._pool.answers:
            conn, out = self._pool.answers.popleft()
            if conn.state != "busy":
                continue
            conn.out, conn.state = memoryview(out.data), "write"
            conn.close_after = conn.close_after or out.close
            conn.reset = out.reset
            conn.deadline = time.monotonic() + self.read_timeout_s
            self._on_write(conn)

    def _on_write(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out) if conn.out else 0
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(conn)
            return
        conn.out = conn.out[sent:]
        if conn.out:
            if sent:
                conn.deadline = time.monotonic() + self.read_timeout_s
            self._watch(conn, selectors.EVENT_WRITE)
        elif conn.reset:
            self._reset(conn)
        elif conn.close_after:
            self._linger(conn)
        else:
            conn.state = "read"
            self._watch(conn, selectors.EVENT_READ)
            self._next_request(conn)  # a pipelined request may be waiting already

    def _linger(self, conn: _Conn) -> None:
        """Close once the client stops sending (unread bytes would make the close a reset)."""
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(conn)
            return
        conn.state, conn.deadline = "drain", time.monotonic() + LINGER_S
        self._watch(conn, selectors.EVENT_READ)

    def _reset(self, conn: _Conn) -> None:
        try:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self._close(conn)

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

    def _watch(self, conn: _Conn, events: int) -> None:
        if events == conn.events:
            return
        if not events:
            self._selector.unregister(conn.sock)
        elif conn.events:
            self._selector.modify(conn.sock, events, conn)
        else:
            self._selector.register(conn.sock, events, conn)
        conn.events = events

    def _close(self, conn: _Conn) -> None:
        if conn.state == "closed":
            return
        self._watch(conn, 0)
        conn.sock.close()
        conn.state = "closed"
        self._conns.discard(conn)
        self._idle.pop(conn, None)
