"""The sandbox survives abusive clients: idle crowds, slow senders, lying Content-Length headers."""

from __future__ import annotations

import json
import resource
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from connector.sandbox import Sandbox

TRACK = b"POST /track HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


def _address(sb: Sandbox) -> tuple[str, int]:
    host, port = sb.base_url.removeprefix("http://").split(":")
    return host, int(port)


def _exchange(sb: Sandbox, data: bytes, *, timeout: float = 5.0, shut: bool = False) -> bytes:
    """Send raw bytes, then read until the sandbox closes (or `timeout`)."""
    with socket.create_connection(_address(sb), timeout=timeout) as sock:
        sock.sendall(data)
        if shut:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                piece = sock.recv(65536)
            except TimeoutError:
                break
            if not piece:
                break
            received += piece
        return received


def _status_and_json(answer: bytes) -> tuple[int, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), json.loads(body)


def _quick_request(sb: Sandbox) -> requests.Response:
    """A normal request that must be answered within a second."""
    return requests.get(f"{sb.base_url}/api/query/funnels/list", timeout=1.0)


def _sandbox_threads() -> int:
    return sum(t.name.startswith("mixpanel-sandbox") for t in threading.enumerate())


@pytest.fixture
def fds() -> Iterator[int]:
    """File descriptors this test may use (the soft limit, raised as far as allowed)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 16384) if hard != resource.RLIM_INFINITY else 16384
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield max(soft, wanted)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_thousands_of_idle_connections_do_not_stop_a_normal_request(fds: int) -> None:
    wanted = min(3000, (fds - 300) // 2)  # both ends of every connection are in this process
    before = _sandbox_threads()
    with Sandbox(workers=4) as sb:
        threads = _sandbox_threads()
        held: list[socket.socket] = []
        try:
            deadline = time.monotonic() + 30
            while len(held) < wanted and time.monotonic() < deadline:
                held.append(socket.create_connection(_address(sb), timeout=2))
            assert len(held) == wanted
            for _ in range(50):  # the sandbox has accepted them all
                if sb.open_connections >= wanted:
                    break
                time.sleep(0.1)
            assert sb.open_connections >= wanted
            for _ in range(3):
                assert _quick_request(sb).status_code == 401
            assert _sandbox_threads() == threads == before + 5  # one I/O thread, four workers
        finally:
            for sock in held:
                sock.close()
        for _ in range(50):  # they close: the sandbox lets them go at once
            if sb.open_connections <= 1:
                break
            time.sleep(0.1)
        assert sb.open_connections <= 1
        assert _quick_request(sb).status_code == 401
    assert _sandbox_threads() == before  # all of them stopped with the sandbox


def test_at_the_connection_cap_the_longest_idle_makes_room() -> None:
    with Sandbox(max_connections=20) as sb:
        held = [socket.create_connection(_address(sb), timeout=2) for _ in range(40)]
        try:
            assert _quick_request(sb).status_code == 401
            assert sb.open_connections <= 20
            assert held[0].recv(1) == b""  # the oldest were closed
        finally:
            for sock in held:
                sock.close()


def test_an_idle_connection_is_closed_after_the_idle_timeout() -> None:
    with Sandbox(idle_timeout_s=0.3) as sb:
        with socket.create_connection(_address(sb), timeout=5) as sock:
            started = time.monotonic()
            assert sock.recv(1) == b""
            assert 0.2 < time.monotonic() - started < 3


def test_slow_senders_hold_no_worker_and_get_408() -> None:
    with Sandbox(workers=2, read_timeout_s=0.5) as sb:
        stalled = [socket.create_connection(_address(sb), timeout=5) for _ in range(8)]
        try:
            for sock in stalled:
                sock.sendall(TRACK)  # headers never finished
            assert _quick_request(sb).status_code == 401
            for sock in stalled:
                answer = b""
                while piece := sock.recv(65536):
                    answer += piece
                status, body = _status_and_json(answer)
                assert status == 408
                assert body == {
                    "error": "the request did not arrive in full within 0.5 s: "
                    "the request's headers did not arrive in full",
                    "status": "error",
                }
        finally:
            for sock in stalled:
                sock.close()


def test_headers_sent_a_byte_at_a_time_still_time_out() -> None:
    with (
        Sandbox(read_timeout_s=0.5) as sb,
        socket.create_connection(_address(sb), timeout=5) as sock,
    ):
        started = time.monotonic()
        for byte in TRACK:  # one byte every 50 ms: 3.5 s for the whole head, if allowed
            if select.select([sock], [], [], 0.05)[0]:
                break  # the sandbox answered
            sock.sendall(bytes([byte]))
        answered = time.monotonic() - started
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
        assert answered < 2
        assert _status_and_json(answer)[0] == 408


def test_a_content_length_larger_than_the_body_is_answered_and_closed() -> None:
    with Sandbox(read_timeout_s=0.5) as sb:
        # The 408 itself shows the read timeout ended the wait (a sandbox still waiting for the
        # 95 missing bytes would answer nothing); no wall-clock bound, which a busy machine breaks.
        answer = _exchange(sb, TRACK + b"Content-Length: 100\r\n\r\n[1,2]", timeout=30)
        assert _status_and_json(answer) == (
            408,
            {
                "error": "the request did not arrive in full within 0.5 s: "
                "Content-Length is 100 but 5 bytes arrived",
                "status": "error",
            },
        )
        half_closed = _exchange(sb, TRACK + b"Content-Length: 100\r\n\r\n[1,2]", shut=True)
        status, body = _status_and_json(half_closed)
        assert status == 400 and "closed mid-request" in str(body)
        assert [r["status"] for r in sb.store.requests()] == [408, 400]


@pytest.mark.parametrize(
    ("header", "status", "words"),
    [
        (b"Content-Length: abc", 400, "malformed request: bad Content-Length"),
        (b"Content-Length: -1", 400, "malformed request: bad Content-Length"),
        (b"Content-Length: 1.5", 400, "malformed request: bad Content-Length"),
        (b"Content-Length: 99999999999", 413, "request exceeds max limit of 67108864 bytes"),
        (b"Transfer-Encoding: br", 501, "Only Transfer-Encoding: chunked is supported"),
    ],
)
def test_every_malformed_content_length_gets_an_http_error(
    sandbox: Sandbox, header: bytes, status: int, words: str
) -> None:
    answer = _exchange(sandbox, TRACK + header + b"\r\n\r\n[]")
    assert b"Connection: close" in answer
    code, body = _status_and_json(answer)
    assert code == status and isinstance(body, dict) and body["status"] == "error"
    assert words in body["error"]
    on_import = _exchange(sandbox, TRACK.replace(b"/track", b"/import") + header + b"\r\n\r\n")
    code, body = _status_and_json(on_import)
    assert code == status and isinstance(body, dict) and body["code"] == status  # /import's shape
    assert _quick_request(sandbox).status_code == 401


def test_an_oversized_body_still_reads_its_413(sandbox: Sandbox) -> None:
    body = b"[" + b" " * (70 << 20) + b"]"
    answer = requests.post(f"{sandbox.base_url}/track", data=body, timeout=30)
    assert answer.status_code == 413


def test_chunked_bodies_pipelining_and_100_continue(sandbox: Sandbox) -> None:
    token = sandbox.project_token
    event = json.dumps([{"event": "E", "properties": {"token": token, "distinct_id": "u"}}])
    pieces = iter([event[:10].encode(), event[10:].encode()])
    chunked = requests.post(f"{sandbox.base_url}/track", data=pieces, timeout=5)
    assert chunked.status_code == 200 and chunked.text == "1"
    two = (
        b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    answers = _exchange(sandbox, two)
    assert answers.count(b"HTTP/1.1 404 Not Found") == 2
    with socket.create_connection(_address(sandbox), timeout=5) as sock:
        sock.sendall(TRACK + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"[]")
        answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answer.endswith(b"\r\n\r\n0")
    assert sandbox.store.raw_event_count() == 1


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 48\r\nTransfer-Encoding: chunked\r\n",
        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
        b"Transfer-Encoding: chunked\x0b\r\nContent-Length: 48\r\n",
    ],
)
def test_a_smuggled_request_is_never_answered(sandbox: Sandbox, framing: bytes) -> None:
    smuggled = b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = _exchange(sandbox, TRACK + framing + b"\r\n" + smuggled)
    assert answer.count(b"HTTP/1.1 ") == 1  # one answer, then the connection closes
    assert _status_and_json(answer)[0] in (400, 501)
    assert b"Connection: close" in answer
    assert [r["path"] for r in sandbox.store.requests()] == ["/track"]
