"""HTTP/1.1 by h11: requests read from bytes as they arrive, within bounds, and answers written.

h11 parses and frames; this module adds what a server facing any client needs on top: a
refusal of requests whose framing could be read two ways (Content-Length beside
Transfer-Encoding), limits on header count and body size, and the sandbox's answer shapes.
"""

from __future__ import annotations

import functools
import io
import re
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import urlsplit

import h11

from .bodies import BodyMemory

MAX_HEAD = 64 * 1024  # request line and headers together (also a chunk line, or trailers)
MAX_HEADERS = 100
PEEK_BYTES = 2048
SERVER = b"mixpanel-sandbox"
_VERSIONS = (b"1.0", b"1.1")
_NO_BODY = (204, 304)
_QUOTED = re.compile(r"""bytearray\((b(['"]).*?\2)\)""")


@functools.lru_cache(maxsize=64)
def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b"Unknown"


def _date() -> bytes:
    """The Date header's value."""
    return _date_at(int(time.time()))


@functools.lru_cache(maxsize=2)
def _date_at(second: int) -> bytes:
    return formatdate(second, usegmt=True).encode()


def _described(exc: h11.RemoteProtocolError) -> str:
    """h11's reason, with the bytes it quotes cut short: "malformed request: illegal ..."."""
    text = _QUOTED.sub(lambda m: _shown(m.group(1)), str(exc))
    return f"malformed request: {text}"


def _shown(quoted: str) -> str:
    return quoted if len(quoted) <= 60 else quoted[:57] + "...'"


@dataclass
class Request:
    """One complete request: header names lower-cased, the body de-chunked (not decompressed)."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""

    @property
    def path(self) -> str:
        """The target's path, without a trailing slash ("/" for the root)."""
        return urlsplit(self.target).path.rstrip("/") or "/"


class WireError(Exception):
    """A request that cannot be read; `status` is the HTTP answer, `target` what was asked.

    `headers` go into the answer (`Retry-After` for a 503).
    """

    def __init__(
        self,
        status: int,
        message: str,
        target: str = "",
        method: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.target, self.method = status, message, target, method
        self.headers = headers or {}

    @property
    def path(self) -> str:
        """The target's path when the request line was read, else ""."""
        return urlsplit(self.target).path.rstrip("/") or "/" if self.target else ""


@dataclass
class Outgoing:
    """What a worker answers.

    `reset` drops the connection: "before" any byte of the answer, or "after" its head and half
    its body (what a crash or a broken network looks like).
    """

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    close: bool = False
    reset: str | None = None


@dataclass
class Reader:
    """One connection's HTTP: bytes in (`feed`), complete requests out (`next`), answers to bytes.

    `next` raises WireError at the first part that cannot be read or is out of bounds. With
    `memory`, a body is held only while `memory` allows: its Content-Length is taken when its
    head arrives (413 beyond the whole limit, 503 with Retry-After beyond what is left), a
    chunked body's bytes as they arrive; `release` gives them back once answered.
    """

    max_body: int
    memory: BodyMemory | None = None
    head: Request | None = None  # the request whose body is arriving
    _h11: h11.Connection = field(init=False, repr=False)
    _body: io.BytesIO = field(default_factory=io.BytesIO, repr=False)  # grows without copies
    _received: int = 0
    _held: int = 0  # bytes taken from `memory`
    _length: int | None = None  # Content-Length, or None when chunked
    _continued: bool = False
    _method: str = ""  # of the request being read or answered
    _peek: bytes = b""  # the first bytes of a head not read yet: its target, for errors' shape

    def __post_init__(self) -> None:
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD)

    def feed(self, data: bytes) -> None:
        """Add bytes received from the client."""
        if self.head is None and len(self._peek) < PEEK_BYTES:
            self._peek += data[: PEEK_BYTES - len(self._peek)]
        self._h11.receive_data(data)

    @property
    def pending(self) -> bool:
        """Part of a request has arrived."""
        return self.head is not None or bool(self._h11.trailing_data[0])

    def continue_bytes(self) -> bytes:
        """`100 Continue` once, when the head asked for it and the body has not started."""
        if self.head is None or self._continued or not self._h11.they_are_waiting_for_100_continue:
            return b""
        self._continued = True
        hello = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
        return self._h11.send(hello)

    def progress(self) -> str:
        """What has arrived of the request being read, for a timeout's message."""
        if self.head is None:
            return "the request's headers did not arrive in full"
        if self._length is not None:
            return f"Content-Length is {self._length} but {self._received} bytes arrived"
        return f"the chunked body was not finished ({self._received} bytes arrived)"

    def next(self) -> Request | None:
        """The next complete request, or None until more bytes arrive."""
        while True:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise self._error(exc.error_status_hint, _described(exc)) from None
            if isinstance(event, h11.Request):
                self._start(event)
            elif isinstance(event, h11.Data):
                self._take(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return self._finish()
            else:  # NEED_DATA, PAUSED (an answer is due first), ConnectionClosed
                return None

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> WireError:
        head = self.head
        if head is not None:
            return WireError(status, message, head.target, head.method, headers)
        words = self._peek.split(b"\n", 1)[0].split(b" ")  # the target picks the error's shape
        target = words[1].decode("latin-1") if len(words) > 2 and words[1][:1] == b"/" else ""
        return WireError(status, message, target, "", headers)

    def _start(self, event: h11.Request) -> None:
        headers: dict[str, str] = {}
        for name, value in event.headers:
            key, text = name.decode("ascii"), value.decode("latin-1")
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        version = event.http_version.decode("ascii")
        self._method, self._peek = event.method.decode("ascii"), b""
        target = event.target.decode("latin-1")
        self.head = Request(self._method, target, f"HTTP/{version}", headers)
        self._body, self._received, self._continued = io.BytesIO(), 0, False
        if event.http_version not in _VERSIONS:
            raise self._error(505, f"HTTP/{version} is not supported; use HTTP/1.1")
        if len(event.headers) > MAX_HEADERS:
            raise self._error(431, f"more than {MAX_HEADERS} header fields")
        if "transfer-encoding" in headers:
            if "content-length" in headers:
                raise self._error(
                    400, "a request may not have both Transfer-Encoding and Content-Length"
                )
            self._length = None
            return
        self._length = int(headers.get("content-length", "0"))
        if self._length > self.max_body:
            raise self._error(413, f"request exceeds max limit of {self.max_body} bytes")
        self._hold(self._length)

    def _take(self, data: bytes) -> None:
        self._received += len(data)
        if self._received > self.max_body:
            raise self._error(413, f"request exceeds max limit of {self.max_body} bytes")
        if self._length is None:
            self._hold(len(data))
        self._body.write(data)

    def _hold(self, size: int) -> None:
        memory = self.memory
        if memory is None or not size or memory.take(size):
            self._held += size
            return
        if self._held + size > memory.limit:
            message = f"the request's body exceeds the {memory.limit} bytes this sandbox holds"
            raise self._error(413, message + " for all bodies in flight")
        message = (
            f"this sandbox holds {memory.held} bytes of request bodies in flight, "
            f"its limit is {memory.limit}; retry shortly"
        )
        raise self._error(503, message, {"Retry-After": "1"})

    def release(self) -> None:
        """Give back the memory held for the request answered (or abandoned)."""
        if self.memory is not None and self._held:
            self.memory.give(self._held)
        self._held = 0

    def _finish(self) -> Request:
        request = self.head
        assert request is not None
        request.body = self._body.getvalue()  # the buffer itself, not a copy
        self.head, self._body = None, io.BytesIO()
        return request

    def answer(self, out: Outgoing) -> tuple[bytes, bool]:
        """The bytes of `out`, and True when the connection must close after them.

        For a reset "after", only the head and half the body.
        """
        conn = self._h11
        close = out.close or conn.their_state is not h11.DONE or out.reset is not None
        headers = [
            (b"Server", SERVER),
            (b"Date", _date()),
            (b"Content-Type", out.content_type.encode("latin-1")),
        ]
        if out.status not in _NO_BODY:
            headers.append((b"Content-Length", b"%d" % len(out.body)))
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out.headers.items()]
        if close:
            headers.append((b"Connection", b"close"))
        reason = _reason(out.status)
        data = conn.send(h11.Response(status_code=out.status, headers=headers, reason=reason))
        body = out.body if out.status not in _NO_BODY and self._method != "HEAD" else b""
        if out.reset == "after":
            return data + (conn.send(h11.Data(data=body[: len(body) // 2])) or b""), True
        if body:
            data += conn.send(h11.Data(data=body)) or b""
        data += conn.send(h11.EndOfMessage()) or b""
        return data, close or conn.our_state is h11.MUST_CLOSE

    def next_cycle(self) -> None:
        """After an answer on a connection kept open: read the next request."""
        self._h11.start_next_cycle()
