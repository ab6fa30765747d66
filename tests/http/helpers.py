"""Helpers for the loopback HTTP behaviour tests: a fake clock and a socket-level server."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from connector.budgets.memory import BudgetRegistry


class FakeClock:
    """A clock that only moves when someone sleeps; records every sleep."""

    def __init__(self, start: datetime | None = None) -> None:
        self.t = 1000.0
        self.start = start or datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.t - 1000.0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds

    def registry(self) -> BudgetRegistry:
        """A fresh budget registry running on this clock (not the process-wide one)."""
        return BudgetRegistry(clock=self.monotonic, sleep=self.sleep)


# --- a socket server for failures werkzeug cannot script --------------------------------------

Behaviour = Callable[[socket.socket], None]


def reset_after_headers(conn: socket.socket) -> None:
    """Promise 100 bytes, send 3, then reset the connection (RST): a reset mid-response."""
    conn.sendall(
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a'
    )
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def reset_before_answer(conn: socket.socket) -> None:
    """Read the request, then reset without answering."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def answer(status: int, body: bytes, content_type: str = "application/json") -> Behaviour:
    """A complete HTTP/1.1 answer, then close."""

    def behave(conn: socket.socket) -> None:
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        ).encode()
        conn.sendall(head + body)

    return behave


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    conn.settimeout(2.0)
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest


@contextmanager
def socket_server(script: list[Behaviour]) -> Iterator[tuple[str, list[bytes]]]:
    """Serve one connection per scripted behaviour on 127.0.0.1; yields (base URL, requests)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.02)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        for behave in script:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                    break
                except TimeoutError:
                    continue
                except OSError:
                    return
            else:
                return
            with conn:
                received.append(_read_request(conn))
                behave(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/", received
    finally:
        stop.set()
        thread.join(timeout=2.0)
        listener.close()
