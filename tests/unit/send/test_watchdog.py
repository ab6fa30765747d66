"""The request's deadline covers the status line and headers: a dripped header fails at it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from connector import TransportError
from connector.send.transport import Transport
from connector.send.watchdog import LINGER_S, WATCHDOG, Watch

from .test_body import BODY, HEAD, RawServer, _request

ANSWER = HEAD % 200 + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for server in started:
        server.close()


def _drip(servers: list[RawServer], pieces: list[bytes], pause_s: float) -> str:
    servers.append(RawServer(pieces, pause_s))
    return servers[-1].url


def _watchdog_ends() -> bool:
    thread = WATCHDOG.thread
    if thread is not None:
        thread.join(LINGER_S + 5)
    return not any(t.name == "connector-deadline-watchdog" for t in threading.enumerate())


@pytest.mark.parametrize("stream", [False, True], ids=["send", "open_stream"])
def test_a_dripped_header_fails_at_the_deadline(servers: list[RawServer], stream: bool) -> None:
    url = _drip(servers, [bytes([b]) for b in ANSWER], 0.2)  # each byte well within the 5 s read
    transport = Transport()
    request = _request(url, deadline_s=1)
    started = time.monotonic()
    with pytest.raises(
        TransportError, match=r"deadline of 1 s per request \(response.reads.deadline_s\)"
    ) as caught:
        if stream:
            transport.open_stream(request, None)
        else:
            transport.send(request, None)
    elapsed = time.monotonic() - started
    assert caught.value.kind == "read_timeout" and caught.value.retriable
    assert 0.9 < elapsed < 4  # at the deadline, long before the header would end (~20 s)
    assert _watchdog_ends()


def test_a_slow_header_within_the_deadline_is_read(servers: list[RawServer]) -> None:
    head, body = ANSWER[: -len(BODY)], ANSWER[-len(BODY) :]
    pieces = [head[i : i + 8] for i in range(0, len(head), 8)] + [body]
    url = _drip(servers, pieces, 0.05)  # about half a second in all
    started = time.monotonic()
    raw = Transport().send(_request(url, deadline_s=10), None)
    assert raw.status == 200 and raw.content == BODY
    assert time.monotonic() - started > 0.3  # the header did come slowly
    assert _watchdog_ends()


def test_a_fired_watch_shuts_a_socket_attached_late() -> None:
    mine, peer = socket.socketpair()
    with mine, peer:
        watch = Watch()
        watch.fire()
        watch.attach(mine)
        mine.settimeout(5)
        assert watch.fired and mine.recv(1) == b""


def test_a_detached_socket_is_left_alone() -> None:
    mine, peer = socket.socketpair()
    with mine, peer:
        watch = Watch()
        watch.attach(mine)
        watch.detach()
        watch.fire()
        peer.sendall(b"x")
        mine.settimeout(5)
        assert mine.recv(1) == b"x"
