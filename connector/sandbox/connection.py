"""One client connection: its socket, its TLS, the request being read, the answer being sent.

Only the I/O thread touches a connection. Bytes for the socket wait in `wire`; an answer waits
in `out` and is encrypted a piece at a time as the socket takes it, so a large answer over TLS
is never held twice.
"""

from __future__ import annotations

import socket
import ssl
import struct

from .tls import HANDSHAKE_RECORD, TLSLayer
from .wire import Reader

RECV_BYTES = 256 * 1024
ENCRYPT_BYTES = 256 * 1024
_EMPTY = memoryview(b"")


class Closed(Exception):
    """The connection is lost (a socket error or a failed TLS handshake): close it."""


class NotTLS(Exception):
    """Plain HTTP arrived on the https port; `data` is what arrived (TLS is off from now on)."""

    def __init__(self, data: bytes) -> None:
        super().__init__("plain HTTP on the https port")
        self.data = data


class Connection:
    """A client's socket and its state in the I/O loop."""

    __slots__ = (
        "sock",
        "reader",
        "context",
        "tls",
        "out",
        "wire",
        "state",
        "deadline",
        "events",
        "close_after",
        "reset",
    )

    def __init__(
        self,
        sock: socket.socket,
        reader: Reader,
        context: ssl.SSLContext | None,
        deadline: float,
    ) -> None:
        self.sock, self.reader, self.context, self.deadline = sock, reader, context, deadline
        self.tls: TLSLayer | None = None  # made when the first bytes arrive (idle ones cost less)
        self.out = _EMPTY  # the answer's bytes not yet handed to TLS (or to `wire`)
        self.wire = _EMPTY  # bytes for the socket: TLS records, or the plain answer
        self.state = "read"  # read | busy | write | drain | closed
        self.events = 0
        self.close_after = self.reset = False

    def receive(self) -> tuple[bytes, bool] | None:
        """Read the socket: (plaintext, end of stream), or None when nothing is there yet.

        Raises Closed when the socket fails or TLS does, NotTLS for plain HTTP on TLS.
        """
        try:
            raw = self.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            raise Closed from None
        if self.context is None or self.state == "drain":
            return raw, not raw
        if self.tls is None:
            if not raw:
                return raw, True
            if raw[0] != HANDSHAKE_RECORD:
                self.context = None
                raise NotTLS(raw)
            self.tls = TLSLayer(self.context)
        tls = self.tls
        try:
            plain = tls.receive(raw)
        except ssl.SSLError:
            self.queue(b"")  # the alert that says why
            self.send()
            raise Closed from None
        self.queue(b"")  # handshake records, session tickets
        return plain, not raw or tls.closed

    def queue(self, data: bytes) -> None:
        """Send `data` (and what TLS has pending) ahead of any answer not yet begun."""
        if self.tls is not None:
            if data:
                self.tls.send(data)
            data = self.tls.outgoing()
        if data:
            self.wire = memoryview(bytes(self.wire) + data)

    @property
    def sending(self) -> bool:
        """Bytes are waiting for the socket."""
        return bool(self.wire or self.out)

    def send(self) -> bool:
        """Send as much as the socket takes; True when anything went. Raises Closed."""
        progress = False
        while True:
            if not self.wire and self.out:
                if self.tls is None:
                    self.wire, self.out = self.out, _EMPTY
                else:
                    self.tls.send(self.out[:ENCRYPT_BYTES])
                    self.out = self.out[ENCRYPT_BYTES:]
                    self.wire = memoryview(self.tls.outgoing())
            if not self.wire:
                return progress
            try:
                sent = self.sock.send(self.wire)
            except (BlockingIOError, InterruptedError):
                return progress
            except OSError:
                raise Closed from None
            progress = progress or sent > 0
            self.wire = self.wire[sent:]
            if self.wire:
                return progress

    def finish_sending(self) -> None:
        """End TLS cleanly (best effort) and stop sending; the client's bytes are still read."""
        if self.tls is not None and self.tls.ready:
            try:
                self.sock.send(self.tls.close_notify())
            except OSError:
                pass
        self.sock.shutdown(socket.SHUT_WR)

    def abort(self) -> None:
        """Close with a TCP reset (what a crashed server or a broken network looks like)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()
