"""Requests parsed from bytes as they arrive: framing, bounds, and an error for every bad part."""

from __future__ import annotations

import pytest

from connector.sandbox.wire import MAX_HEAD, Reader, Request, WireError, response_bytes

POST = b"POST /import?strict=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def _all(data: bytes, *, step: int = 0, max_body: int = 1000) -> list[Request]:
    reader, found = Reader(max_body), []
    pieces = [data[i : i + step] for i in range(0, len(data), step)] if step else [data]
    for piece in pieces:
        reader.feed(piece)
        while (request := reader.next()) is not None:
            found.append(request)
    assert not reader.pending
    return found


@pytest.mark.parametrize("step", [0, 1, 7])
def test_requests_arrive_whole_however_the_bytes_are_split(step: int) -> None:
    data = (
        POST + b"Content-Length: 5\r\n\r\nhello"
        b"\r\nGET /engage HTTP/1.1\r\nConnection: close\r\n\r\n"
        + POST
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )
    first, second, third = _all(data, step=step)
    assert (first.method, first.target, first.path, first.body) == (
        "POST",
        "/import?strict=1",
        "/import",
        b"hello",
    )
    assert first.headers["content-type"] == "application/json" and first.keep_alive
    assert (second.method, second.path, second.body, second.keep_alive) == (
        "GET",
        "/engage",
        b"",
        False,
    )
    assert third.body == b"abcde"


def test_bare_line_feeds_and_http_1_0() -> None:
    (request,) = _all(b"GET / HTTP/1.0\nHost: x\n\n")
    assert request.path == "/" and not request.keep_alive


@pytest.mark.parametrize(
    ("head", "status", "words"),
    [
        (b"Content-Length: abc\r\n", 400, "Content-Length 'abc' is not a whole number"),
        (b"Content-Length: -5\r\n", 400, "Content-Length '-5' is not a whole number"),
        (b"Content-Length: 5, 5\r\n", 400, "is not a whole number"),
        (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400, "two different Content-Length"),
        (b"Content-Length: 1001\r\n", 413, "request exceeds max limit of 1000 bytes"),
        (b"Content-Length: 99999999999999999999999\r\n", 400, "not a whole number"),
        (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400, "both Transfer-Encoding"),
        (b"Transfer-Encoding: gzip\r\n", 501, "'gzip' is not supported"),
        (b"Bad Header: 1\r\n", 400, "malformed header line"),
        (b" folded\r\n", 400, "malformed header line"),
    ],
)
def test_bad_framing_is_an_http_error_naming_the_problem(
    head: bytes, status: int, words: str
) -> None:
    reader = Reader(1000)
    reader.feed(POST + head + b"\r\n")
    with pytest.raises(WireError) as caught:
        reader.next()
    assert caught.value.status == status
    assert words in caught.value.message
    assert caught.value.path == "/import"


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /x HTTP/2.0\r\n\r\n", 505),
        (b"GET /x FTP/1.1\r\n\r\n", 400),
        (b"GET  /x HTTP/1.1\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\n" + b"A: b\r\n" * 101 + b"\r\n", 431),
        (b"GET /x HTTP/1.1\r\nA: " + b"b" * MAX_HEAD, 431),
        (POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n3e9\r\n", 413),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * 2000, 400),
    ],
)
def test_malformed_requests(data: bytes, status: int) -> None:
    reader = Reader(1000)
    reader.feed(data)
    with pytest.raises(WireError) as caught:
        reader.next()
    assert caught.value.status == status


def test_incomplete_requests_wait_and_say_how_far_they_got() -> None:
    reader = Reader(1000)
    reader.feed(POST)
    assert reader.next() is None and reader.pending
    assert reader.progress() == "the request's headers did not arrive in full"
    reader.feed(b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n")
    assert reader.next() is None
    assert reader.wants_continue() and not reader.wants_continue()  # asked once
    reader.feed(b"abc")
    assert reader.next() is None
    assert reader.progress() == "Content-Length is 10 but 3 bytes arrived"
    reader.feed(b"defghij")
    request = reader.next()
    assert request is not None and request.body == b"abcdefghij"
    assert not reader.pending


def test_answers_carry_length_date_and_close() -> None:
    data = response_bytes(413, b"{}", "application/json", {"Retry-After": "1"}, close=True)
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 413 Request Entity Too Large"
    assert "Content-Length: 2" in lines and "Connection: close" in lines
    assert "Retry-After: 1" in lines and any(line.startswith("Date: ") for line in lines)
    assert body == b"{}"
