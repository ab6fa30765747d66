"""A raw loopback listener that records every request it receives, headers and all."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Listener:
    """Accepts on 127.0.0.1, answers `200 {}` (or `response`) to each request, keeps its head."""

    def __init__(self, response: bytes | None = None) -> None:
        self.response = response or (
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Content-Length: 2\r\nConnection: close\r\n\r\n{}"
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port: int = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def authorizations(self) -> list[str]:
        """The Authorization header of each request received ("" when it had none)."""
        found = []
        for head in self.requests:
            lines = head.decode("latin-1").split("\r\n")
            values = [
                line.split(":", 1)[1].strip()
                for line in lines
                if line.lower().startswith("authorization:")
            ]
            found.append(values[0] if values else "")
        return found

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                head = b""
                try:
                    while b"\r\n\r\n" not in head and len(head) < 65536:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                    self.requests.append(head)
                    conn.sendall(self.response)
                except OSError:
                    continue

    def close(self) -> None:
        self.sock.close()


@contextmanager
def listening(response: bytes | None = None) -> Iterator[Listener]:
    """A Listener for the duration of the block."""
    listener = Listener(response)
    try:
        yield listener
    finally:
        listener.close()
