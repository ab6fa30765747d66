"""A raw-socket HTTP server on 127.0.0.1 for scripted answers: one request per connection."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class RawServer:
    """Accepts connections on 127.0.0.1 and hands each to `answer(conn, head)`.

    `head` is the request's status line and headers (up to the blank line); the connection is
    closed after the answer. With `threaded`, each connection is answered on a thread of its
    own (a slow answer does not hold up the next); else one at a time, in arrival order. A
    client that gives up mid-answer (OSError) ends that answer quietly.
    """

    def __init__(self, *, threaded: bool = True) -> None:
        self.threaded = threaded
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """Where the server listens."""
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}"

    def answer(self, conn: socket.socket, head: bytes) -> None:
        """Write the answer to the request whose head is `head` (subclasses say how)."""
        raise NotImplementedError

    def close(self) -> None:
        """Stop accepting connections."""
        self.stop.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def __enter__(self) -> RawServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.threaded:
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
            else:
                self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                self.answer(conn, head.split(b"\r\n\r\n", 1)[0])
            except OSError:  # the client gave up (a deadline, a refused line)
                return
