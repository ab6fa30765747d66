"""Answers read within their ceilings and deadline, and complete only when framing proves it."""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from collections.abc import Iterator

import pytest

from connector import ClientError, HTTPRequest, ResponseTooLarge, ServerError, TransportError
from connector.parse.response import parse_response
from connector.send.transport import Transport

HEAD = b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"


class RawServer:
    """Answers every connection on 127.0.0.1 with `payload` (bytes, or pieces with pauses)."""

    def __init__(self, payload: bytes | list[bytes], pause_s: float = 0.0) -> None:
        self.payload, self.pause_s = payload, pause_s
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/api/x"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                try:
                    for piece in (
                        [self.payload] if isinstance(self.payload, bytes) else self.payload
                    ):
                        conn.sendall(piece)
                        time.sleep(self.pause_s)
                except OSError:
                    pass

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[list[RawServer]]:
    servers: list[RawServer] = []
    yield servers
    for server in servers:
        server.close()


def _request(url: str, **reads: object) -> HTTPRequest:
    return HTTPRequest(
        action="listSavedFunnels", method="GET", url=url, response={"reads": reads}, timeout_s=5
    )


def _answer(serve: list[RawServer], payload: bytes | list[bytes], pause_s: float = 0.0) -> str:
    serve.append(RawServer(payload, pause_s))
    return serve[-1].url


BODY = b'{"a": [1, 2, 3]}\n'
GZ = gzip.compress(BODY)


@pytest.mark.parametrize(
    "payload",
    [
        HEAD % 200 + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY,
        HEAD % 200
        + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(BODY)
        + BODY
        + b"\r\n0\r\n\r\n",
        HEAD % 200 + b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n" + GZ,
        HEAD % 200
        + b"Content-Encoding: gzip\r\nConnection: close\r\n\r\n"
        + GZ
        + gzip.compress(b""),
    ],
    ids=["length", "chunked", "gzip-closed", "gzip-two-members"],
)
def test_a_proven_answer_is_whole(serve: list[RawServer], payload: bytes) -> None:
    raw = Transport().send(_request(_answer(serve, payload), proven_end=True), None)
    assert raw.content == BODY


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (HEAD % 200 + b"Connection: close\r\n\r\n" + BODY, "no Content-Length, terminating chunk"),
        (HEAD % 200 + b"Content-Encoding: gzip\r\n\r\n" + GZ[:-8], "no CRC and length trailer"),
        (HEAD % 200 + b"Content-Encoding: gzip\r\n\r\n" + GZ[:-3], "no CRC and length trailer"),
        (HEAD % 200 + b"Content-Length: 99\r\n\r\n" + BODY, "lost the connection"),
        (
            HEAD % 200 + b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(BODY) + BODY + b"\r\n",
            "lost the connection",
        ),
    ],
    ids=[
        "closed-at-a-line",
        "gzip-without-trailer",
        "gzip-cut-in-trailer",
        "length-short",
        "chunk-unended",
    ],
)
def test_an_answer_whose_end_nothing_proves_is_a_cut(
    serve: list[RawServer], payload: bytes, why: str
) -> None:
    with pytest.raises(TransportError, match=why) as caught:
        Transport().send(_request(_answer(serve, payload), proven_end=True), None)
    assert caught.value.kind == "reset" and caught.value.retriable


def test_a_gzip_answer_with_a_wrong_crc_is_a_cut(serve: list[RawServer]) -> None:
    bad = GZ[:-8] + (zlib.crc32(BODY) ^ 1).to_bytes(4, "little") + GZ[-4:]
    url = _answer(
        serve, HEAD % 200 + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bad) + bad
    )
    with pytest.raises(TransportError, match="gzip data is damaged"):
        Transport().send(_request(url), None)


@pytest.mark.parametrize("limit", [1000, 1 << 20])
def test_a_gzip_bomb_stops_at_the_ceiling(serve: list[RawServer], limit: int) -> None:
    bomb = gzip.compress(b" " * (64 << 20))  # 64 MB from ~64 KB
    url = _answer(
        serve,
        HEAD % 200 + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb) + bomb,
    )
    with pytest.raises(ResponseTooLarge, match="response.reads.max_answer_bytes") as caught:
        Transport().send(_request(url, max_answer_bytes=limit), None)
    assert not caught.value.retriable


def test_an_error_body_is_cut_at_its_ceiling(serve: list[RawServer]) -> None:
    body = b'{"error": "' + b"e" * 5_000_000 + b'"}'
    url = _answer(serve, HEAD % 500 + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    request = _request(url, max_error_bytes=4096)
    raw = Transport().send(request, None)
    assert raw.status == 500 and len(raw.content) == 4096
    with pytest.raises(ServerError):
        parse_response(request, raw)


@pytest.mark.parametrize("pause_s", [0.05, 0.4])
def test_a_drip_fails_at_the_deadline_not_at_the_read_timeout(
    serve: list[RawServer], pause_s: float
) -> None:
    head = HEAD % 200 + b"Content-Length: 100000\r\n\r\n"
    url = _answer(serve, [head] + [b" "] * 100000, pause_s)
    started = time.monotonic()
    with pytest.raises(
        TransportError, match=r"deadline of 1 s per request \(response.reads.deadline_s\)"
    ) as caught:
        Transport().send(_request(url, deadline_s=1), None)
    assert caught.value.kind == "read_timeout"
    assert time.monotonic() - started < 1 + 5  # the deadline and at most one read's timeout


@pytest.mark.parametrize("depth", [101, 600, 100_000])
def test_a_deep_answer_is_a_client_error(serve: list[RawServer], depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    url = _answer(serve, HEAD % 200 + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    request = _request(url)
    with pytest.raises(
        ClientError, match=r"deeper than 100 levels at \[0\]\[0\].*response.reads.max_depth"
    ):
        parse_response(request, Transport().send(request, None))


@pytest.mark.parametrize("depth", [600, 100_000])
def test_a_deep_error_body_is_kept_as_text(serve: list[RawServer], depth: int) -> None:
    body = b'{"error":' + b"[" * depth + b"]" * depth + b"}"
    url = _answer(serve, HEAD % 502 + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    request = _request(url)
    with pytest.raises(ServerError, match="HTTP 502"):
        parse_response(request, Transport().send(request, None))
