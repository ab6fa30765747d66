"""Requests read by h11 as bytes arrive: framing, bounds, smuggling refused, answers written."""

from __future__ import annotations

import pytest

from connector.sandbox.wire import MAX_HEAD, Outgoing, Reader, Request, WireError

POST = b"POST /import?strict=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"


def _all(data: bytes, *, step: int = 0, max_body: int = 1000) -> list[Request]:
    """Every request in `data` fed `step` bytes at a time, each answered as the loop does."""
    reader, found = Reader(max_body), []
    pieces = [data[i : i + step] for i in range(0, len(data), step)] if step else [data]
    for piece in pieces:
        reader.feed(piece)
        while (request := reader.next()) is not None:
            found.append(request)
            _, close = reader.answer(Outgoing(200, b"1"))
            if close:
                return found
            reader.next_cycle()
    assert not reader.pending
    return found


def _refusal(data: bytes, max_body: int = 1000) -> WireError:
    reader = Reader(max_body)
    reader.feed(data)
    with pytest.raises(WireError) as caught:
        while reader.next() is None:
            pass
    return caught.value


@pytest.mark.parametrize("step", [0, 1, 7])
def test_requests_arrive_whole_however_the_bytes_are_split(step: int) -> None:
    data = (
        POST + b"Content-Length: 5\r\n\r\nhello"
        b"GET /engage HTTP/1.1\r\nHost: x\r\n\r\n"
        + POST
        + b"Transfer-Encoding: chunked\r\n\r\n"
        + b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n"
        + b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    first, second, third, fourth = _all(data, step=step)
    assert (first.method, first.target, first.path, first.body) == (
        "POST",
        "/import?strict=1",
        "/import",
        b"hello",
    )
    assert first.headers["content-type"] == "application/json"
    assert (second.method, second.path, second.body) == ("GET", "/engage", b"")
    assert third.body == b"abcde"
    assert fourth.path == "/last"


def test_bare_line_feeds_and_http_1_0() -> None:
    (request,) = _all(b"GET / HTTP/1.0\nHost: x\n\n")
    assert request.path == "/" and request.version == "HTTP/1.0"


def test_repeated_headers_are_joined_and_names_lower_cased() -> None:
    (request,) = _all(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n")
    assert request.headers == {"host": "x", "x-a": "1, 2"}


@pytest.mark.parametrize(
    ("head", "status", "words"),
    [
        (b"Content-Length: abc\r\n", 400, "bad Content-Length"),
        (b"Content-Length: -5\r\n", 400, "bad Content-Length"),
        (b"Content-Length: +5\r\n", 400, "bad Content-Length"),
        (b"Content-Length: 5\r\nContent-Length: 6\r\n", 400, "conflicting Content-Length"),
        (b"Content-Length: 5, 6\r\n", 400, "conflicting Content-Length"),
        (b"Content-Length: 1001\r\n", 413, "request exceeds max limit of 1000 bytes"),
        (b"Content-Length: 99999999999999999999999\r\n", 400, "bad Content-Length"),
        (b"Transfer-Encoding: gzip\r\n", 501, "Only Transfer-Encoding: chunked"),
        (b"Bad Header: 1\r\n", 400, "illegal header line"),
        (b"Host: y\r\n", 400, "multiple Host"),
    ],
)
def test_bad_framing_is_an_http_error_naming_the_problem(
    head: bytes, status: int, words: str
) -> None:
    refusal = _refusal(POST + head + b"\r\n")
    assert refusal.status == status
    assert words in refusal.message
    assert refusal.path == "/import"  # the error's shape follows the path even here


@pytest.mark.parametrize(
    ("head", "status"),
    [
        # Either header could frame the body: a proxy in front may pick the other one.
        (b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
        (b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400),
        (b"Content-Length: 0\r\nTransfer-Encoding: chunked\r\n", 400),
        # A repeated Transfer-Encoding: some servers read the first, some the last.
        (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 501),
        (b"Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n", 501),
        (b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", 501),
        # Codings that are not exactly `chunked`, and whitespace some parsers trim.
        (b"Transfer-Encoding: chunked\x0b\r\n", 400),
        (b"Transfer-Encoding: \x0bchunked\r\n", 400),
        (b"Transfer-Encoding: chunked\x0c\r\n", 400),
        (b"Transfer-Encoding: chunked\x00\r\n", 400),
        (b"Transfer-Encoding: chunked, chunked\r\n", 501),
        (b"Transfer-Encoding: chunked, identity\r\n", 501),
        (b"Transfer-Encoding: xchunked\r\n", 501),
        (b"Transfer-Encoding: chunked;x=1\r\n", 501),
        (b"Transfer-Encoding : chunked\r\n", 400),
        (b"Transfer_Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 0),  # not the header
    ],
)
def test_smuggling_variants_are_refused(head: bytes, status: int) -> None:
    if status == 0:  # an ordinary header with an odd name: Content-Length frames the body
        (request,) = _all(POST + head)
        assert request.body == b"abc"
        return
    smuggled = b"0\r\n\r\nGET /api/2.0/export HTTP/1.1\r\nHost: x\r\n\r\n"
    refusal = _refusal(POST + head + b"\r\n" + smuggled)
    assert refusal.status == status


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET /x HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"GET /x FTP/1.1\r\n\r\n", 400),
        (b"GET  /x HTTP/1.1\r\n\r\n", 400),
        (b"GET /x HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /x HTTP/1.1\r\nHost: x\r\n" + b"A: b\r\n" * 101 + b"\r\n", 431),
        (b"GET /x HTTP/1.1\r\nA: " + b"b" * MAX_HEAD, 431),
        (POST + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n-3\r\n", 400),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n0x3\r\n", 400),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", 400),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n3e9\r\n" + b"a" * 1001, 413),
        (POST + b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * (MAX_HEAD + 10), 431),
    ],
)
def test_malformed_requests(data: bytes, status: int) -> None:
    assert _refusal(data).status == status


def test_incomplete_requests_wait_and_say_how_far_they_got() -> None:
    reader = Reader(1000)
    reader.feed(POST)
    assert reader.next() is None and reader.pending
    assert reader.progress() == "the request's headers did not arrive in full"
    reader.feed(b"Content-Length: 10\r\nExpect: 100-continue\r\n\r\n")
    assert reader.next() is None
    assert reader.continue_bytes() == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert reader.continue_bytes() == b""  # once
    reader.feed(b"abc")
    assert reader.next() is None
    assert reader.progress() == "Content-Length is 10 but 3 bytes arrived"
    reader.feed(b"defghij")
    request = reader.next()
    assert request is not None and request.body == b"abcdefghij"
    assert not reader.pending


def test_answers_carry_length_date_and_close() -> None:
    reader = Reader(1000)
    reader.feed(POST + b"Content-Length: 2\r\n\r\n[]")
    assert reader.next() is not None
    data, close = reader.answer(Outgoing(413, b"{}", headers={"Retry-After": "1"}, close=True))
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 413 Request Entity Too Large"
    assert "Content-Length: 2" in lines and "Connection: close" in lines and close
    assert "Retry-After: 1" in lines and any(line.startswith("Date: ") for line in lines)
    assert body == b"{}"


def test_an_answer_before_the_body_closes_and_http_1_0_closes() -> None:
    reader = Reader(1000)
    reader.feed(POST + b"Content-Length: 100\r\n\r\nab")
    assert reader.next() is None and reader.head is not None
    assert reader.answer(Outgoing(401, b"{}"))[1]  # the body was not read: close
    (old,) = [r for r in _all(b"GET / HTTP/1.0\r\n\r\n")]
    reader = Reader(1000)
    reader.feed(b"GET / HTTP/1.0\r\n\r\n")
    assert reader.next() is not None and old.version == "HTTP/1.0"
    data, close = reader.answer(Outgoing(200, b"1"))
    assert close and b"Connection: close" in data


def test_a_reset_after_sends_the_head_and_half_the_body() -> None:
    reader = Reader(1000)
    reader.feed(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reader.next() is not None
    data, close = reader.answer(Outgoing(200, b"0123456789", reset="after"))
    assert close and data.endswith(b"\r\n\r\n01234") and b"Content-Length: 10" in data
