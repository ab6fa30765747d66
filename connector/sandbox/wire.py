"""HTTP/1.1 requests parsed from bytes as they arrive, with a bound on every part, and answers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import urlsplit

MAX_HEAD = 64 * 1024  # request line and headers together
MAX_HEADERS = 100
MAX_CHUNK_LINE = 1024
_END_OF_HEAD = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VERSION = re.compile(r"HTTP/([0-9])\.([0-9])")
_DIGITS = re.compile(r"[0-9]{1,19}")
_HEX = re.compile(rb"[0-9A-Fa-f]{1,15}")


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

    @property
    def keep_alive(self) -> bool:
        """HTTP/1.1 without `Connection: close`."""
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        return self.version == "HTTP/1.1" and "close" not in tokens


class WireError(Exception):
    """A request that cannot be read; `status` is the HTTP answer, `target` what was asked."""

    def __init__(self, status: int, message: str, target: str = "", method: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.target, self.method = status, message, target, method

    @property
    def path(self) -> str:
        """The target's path when the request line was read, else ""."""
        return urlsplit(self.target).path.rstrip("/") or "/" if self.target else ""


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


@dataclass
class Reader:
    """Bytes in (`feed`), complete requests out (`next`); raises WireError at the first bad part."""

    max_body: int
    buffer: bytearray = field(default_factory=bytearray)
    head: Request | None = None
    length: int = 0  # Content-Length of the request being read, or -1 when chunked
    chunks: bytearray = field(default_factory=bytearray)
    chunk_left: int = -1  # bytes left in the current chunk (+CRLF); -1 between chunks
    in_trailers: bool = False
    trailer_bytes: int = 0
    continued: bool = False

    def feed(self, data: bytes) -> None:
        """Add bytes received from the client."""
        self.buffer += data

    @property
    def pending(self) -> bool:
        """Part of a request has arrived."""
        return bool(self.head is not None or self.buffer.strip(b"\r\n"))

    def wants_continue(self) -> bool:
        """The head asked for `100 Continue` and the body has not started (answer it once)."""
        head = self.head
        if head is None or self.continued or head.headers.get("expect", "") != "100-continue":
            return False
        self.continued = True
        return not self.buffer and not self.chunks

    def progress(self) -> str:
        """What has arrived of the request being read, for a timeout's message."""
        if self.head is None:
            return "the request's headers did not arrive in full"
        if self.length >= 0:
            return f"Content-Length is {self.length} but {len(self.buffer)} bytes arrived"
        return f"the chunked body was not finished ({len(self.chunks)} bytes arrived)"

    def next(self) -> Request | None:
        """The next complete request, or None until more bytes arrive."""
        if self.head is None:
            self.head = self._read_head()
            if self.head is None:
                return None
        head = self.head
        if self.length >= 0:
            if len(self.buffer) < self.length:
                return None
            head.body = bytes(self.buffer[: self.length])
            del self.buffer[: self.length]
        elif not self._read_chunks(head):
            return None
        self.head, self.length, self.chunks, self.continued = None, 0, bytearray(), False
        return head

    def _read_head(self) -> Request | None:
        while self.buffer[:2] == b"\r\n" or self.buffer[:1] == b"\n":  # blank lines between
            del self.buffer[: 2 if self.buffer[:1] == b"\r" else 1]
        found = _END_OF_HEAD.search(self.buffer, 0, MAX_HEAD + 4)
        if found is None:
            if len(self.buffer) > MAX_HEAD:
                raise WireError(431, f"the request's headers exceed {MAX_HEAD} bytes")
            return None
        text = self.buffer[: found.start()].decode("latin-1")
        del self.buffer[: found.end()]
        lines = text.replace("\r\n", "\n").split("\n")
        request = self._request_line(lines[0])
        request.headers = self._headers(lines[1:], request)
        self._framing(request)
        return request

    def _request_line(self, line: str) -> Request:
        parts = line.split(" ")
        if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1].isprintable():
            raise WireError(400, f"malformed request line {_shown(line)}")
        method, target, version = parts
        match = _VERSION.fullmatch(version)
        if match is None or not target:
            raise WireError(400, f"malformed request line {_shown(line)}", target, method)
        if match.group(1) != "1":
            raise WireError(505, f"{version} is not supported; use HTTP/1.1", target, method)
        return Request(method, target, version, {})

    def _headers(self, lines: list[str], request: Request) -> dict[str, str]:
        def fail(status: int, message: str) -> WireError:
            return WireError(status, message, request.target, request.method)

        if len(lines) > MAX_HEADERS:
            raise fail(431, f"more than {MAX_HEADERS} header fields")
        headers: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or not _TOKEN.fullmatch(name):
                raise fail(400, f"malformed header line {_shown(line)}")
            key, value = name.lower(), value.strip(" \t")
            if key == "content-length" and headers.get(key, value) != value:
                raise fail(400, "the request has two different Content-Length headers")
            headers[key] = value
        return headers

    def _framing(self, request: Request) -> None:
        def fail(status: int, message: str) -> WireError:
            return WireError(status, message, request.target, request.method)

        given = request.headers.get("content-length")
        coding = request.headers.get("transfer-encoding")
        if coding is not None:
            if given is not None:
                raise fail(400, "a request may not have both Transfer-Encoding and Content-Length")
            if coding.strip().lower() != "chunked":
                raise fail(501, f"Transfer-Encoding {_shown(coding)} is not supported; use chunked")
            self.length, self.chunk_left, self.in_trailers, self.trailer_bytes = -1, -1, False, 0
            return
        if given is None:
            self.length = 0
            return
        if not _DIGITS.fullmatch(given):
            raise fail(400, f"Content-Length {_shown(given)} is not a whole number of bytes")
        self.length = int(given)
        if self.length > self.max_body:
            raise fail(413, f"request exceeds max limit of {self.max_body} bytes")

    def _read_chunks(self, request: Request) -> bool:
        """Decode what has arrived of a chunked body; True once it (and its trailers) ended."""
        while True:
            if self.chunk_left >= 0:
                if len(self.buffer) < self.chunk_left + 2:
                    return False
                if self.buffer[self.chunk_left : self.chunk_left + 2] != b"\r\n":
                    raise WireError(400, "a chunk does not end with CRLF", request.target)
                self.chunks += self.buffer[: self.chunk_left]
                del self.buffer[: self.chunk_left + 2]
                self.chunk_left = -1
            end = self.buffer.find(b"\n", 0, MAX_CHUNK_LINE)
            if end < 0:
                if len(self.buffer) >= MAX_CHUNK_LINE:
                    raise WireError(400, "a chunk size line is too long", request.target)
                return False
            line = bytes(self.buffer[:end]).rstrip(b"\r")
            del self.buffer[: end + 1]
            if self.in_trailers:
                if not line:
                    request.body = bytes(self.chunks)
                    return True
                self.trailer_bytes += len(line)
                if self.trailer_bytes > MAX_HEAD:
                    raise WireError(431, f"the trailer fields exceed {MAX_HEAD} bytes")
                continue
            size = line.split(b";", 1)[0].strip()
            if not _HEX.fullmatch(size):
                raise WireError(400, f"malformed chunk size {_shown(size.decode('latin-1'))}")
            self.chunk_left = int(size, 16)
            if len(self.chunks) + self.chunk_left > self.max_body:
                raise WireError(413, f"request exceeds max limit of {self.max_body} bytes")
            if self.chunk_left == 0:
                self.chunk_left, self.in_trailers = -1, True


def response_bytes(
    status: int, body: bytes, content_type: str, headers: dict[str, str], *, close: bool
) -> bytes:
    """The status line, headers (Date, Content-Length, Connection when closing) and body."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [
        f"HTTP/1.1 {status} {reason}",
        "Server: mixpanel-sandbox",
        f"Date: {formatdate(usegmt=True)}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
