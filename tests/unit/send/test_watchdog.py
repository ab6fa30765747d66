"""The request's deadline covers sending and the header: a dripped status line fails at it."""

from __future__ import annotations

import gc
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import trustme
import vcr
from pytest_httpserver import HTTPServer

from connector import HTTPRequest, TransportError
from connector.send import watchdog
from connector.send.transport import Transport
from connector.send.watchdog import LINGER_S, WATCHDOG, Watch, WatchedAdapter

from .test_body import BODY, HEAD, RawServer, _request

ANSWER = HEAD % 200 + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY
NAME = "connector-deadline-watchdog"


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for server in started:
        server.close()


def _serve(servers: list[RawServer], pieces: list[bytes], pause_s: float) -> str:
    servers.append(RawServer(pieces, pause_s))
    return servers[-1].url


def _watchdogs() -> int:
    return sum(t.name == NAME for t in threading.enumerate())


def _watchdog_ends() -> bool:
    thread = WATCHDOG.thread
    if thread is not None:
        thread.join(LINGER_S + 5)
    return _watchdogs() == 0


@pytest.mark.parametrize("stream", [False, True], ids=["send", "open_stream"])
def test_a_dripped_header_fails_at_the_deadline(servers: list[RawServer], stream: bool) -> None:
    # the status line and headers a byte every 0.5 s, each well within the 5 s read timeout; the
    # drip stops (and the connection closes) after 8 s, so without the watchdog this fails then
    # with "closed the connection" instead of hanging the test
    url = _serve(servers, [bytes([b]) for b in ANSWER[:16]], 0.5)
    transport = Transport()
    request = _request(url, deadline_s=1.5)
    started = time.monotonic()
    with pytest.raises(
        TransportError, match=r"deadline of 1.5 s per request \(response.reads.deadline_s\)"
    ) as caught:
        if stream:
            transport.open_stream(request, None)
        else:
            transport.send(request, None)
    elapsed = time.monotonic() - started
    assert caught.value.kind == "read_timeout" and caught.value.retriable and caught.value.sent
    assert 1.4 < elapsed < 6, elapsed  # at the deadline, not at the drip's end (8 s)
    assert _watchdog_ends()


def test_a_body_that_cannot_be_sent_fails_at_the_deadline() -> None:
    # a server that accepts and never reads: the send blocks once the socket buffers are full
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/api/x"
    request = HTTPRequest(
        action="importEvents",
        method="POST",
        url=url,
        body_format="json",
        content=b"x" * (64 << 20),
        response={"reads": {"deadline_s": 1}},
        timeout_s=30,  # without the watchdog the send fails at this read timeout
    )
    started = time.monotonic()
    try:
        with pytest.raises(TransportError, match=r"deadline of 1 s per request"):
            Transport().send(request, None)
    finally:
        listener.close()
        thread.join(5)
        for conn in accepted:
            conn.close()
    assert time.monotonic() - started < 10  # the read timeout is 30 s


class _TLSDrip:
    """A TLS server on 127.0.0.1 that drips its answer's header a byte every 0.5 s, or (with
    `handshake=False`) accepts the connection and never answers the TLS handshake."""

    def __init__(self, ca: trustme.CA, *, handshake: bool = True) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(self.context)
        self.handshake = handshake
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self.url = f"https://127.0.0.1:{self.listener.getsockname()[1]}/api/x"

    def _serve(self) -> None:
        try:
            raw, _ = self.listener.accept()
            self.accepted.append(raw)
            if not self.handshake:
                return
            with self.context.wrap_socket(raw, server_side=True) as conn:
                conn.recv(65536)
                for byte in ANSWER[:16]:
                    conn.sendall(bytes([byte]))
                    time.sleep(0.5)
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(10)
        for conn in self.accepted:
            conn.close()


@pytest.mark.parametrize("handshake", [True, False], ids=["header", "handshake"])
def test_over_tls_a_drip_or_a_stalled_handshake_fails_at_the_deadline(
    tmp_path: Path, handshake: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "ca.pem"))
    server = _TLSDrip(ca, handshake=handshake)
    transport = Transport()
    request = replace(_request(server.url, deadline_s=1.5), timeout_s=30)
    started = time.monotonic()
    try:
        with pytest.raises(TransportError, match=r"deadline of 1.5 s per request") as caught:
            transport.send(request, None)
    finally:
        server.close()
    assert 1.4 < time.monotonic() - started < 6  # not at the drip's end or the 30 s timeout
    assert caught.value.kind == "read_timeout" and caught.value.retriable


def test_a_slow_header_within_the_deadline_is_read(servers: list[RawServer]) -> None:
    head, body = ANSWER[: -len(BODY)], ANSWER[-len(BODY) :]
    pieces = [head[i : i + 8] for i in range(0, len(head), 8)] + [body]
    url = _serve(servers, pieces, 0.05)  # about half a second in all
    started = time.monotonic()
    raw = Transport().send(_request(url, deadline_s=10), None)
    assert raw.status == 200 and raw.content == BODY
    assert time.monotonic() - started > 0.3  # the header did come slowly
    assert _watchdog_ends()


def test_one_watchdog_thread_for_many_requests(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/x").respond_with_data(BODY, content_type="application/json")
    url = httpserver.url_for("/api/x")
    transport = Transport()
    seen: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(10):
                assert transport.send(_request(url, deadline_s=30), None).content == BODY
                seen.append(_watchdogs())
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    before = threading.active_count()
    workers = [threading.Thread(target=run) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert not failures and len(seen) == 40
    assert max(seen) == 1  # one shared thread, never one per request
    assert threading.active_count() <= before + 1
    assert _watchdog_ends()
    assert not WATCHDOG._heap  # nothing left behind


def test_cassettes_still_answer_through_the_watched_adapter(tmp_path: Path) -> None:
    # vcrpy patches urllib3's connection classes; the adapter keeps urllib3's own pools, so a
    # cassette answers (port 9 on 127.0.0.1: nothing listens, the network is never reached)
    cassette = tmp_path / "c.yaml"
    cassette.write_text(
        "interactions:\n"
        "- request: {body: null, headers: {}, method: GET, uri: 'http://127.0.0.1:9/api/x'}\n"
        "  response:\n"
        "    status: {code: 200, message: OK}\n"
        "    headers: {Content-Type: [application/json]}\n"
        "    body: {string: '{\"a\": 1}'}\n"
        "version: 1\n"
    )
    transport = Transport()
    with vcr.use_cassette(str(cassette), record_mode="none"):
        raw = transport.send(_request("http://127.0.0.1:9/api/x", deadline_s=5), None)
    assert raw.status == 200 and raw.content == b'{"a": 1}'


class _Connecting:
    """A connection whose socket is not there yet (still connecting)."""

    sock: socket.socket | None = None


def test_a_fired_watch_shuts_a_socket_that_comes_later() -> None:
    mine, peer = socket.socketpair()
    with mine, peer:
        conn = _Connecting()
        watch = Watch()
        watch.attach(conn)
        assert watch.fire() and watch.fired  # nothing to shut yet: look again
        conn.sock = mine
        assert not watch.fire()  # shut now
        mine.settimeout(5)
        assert mine.recv(1) == b""


def test_a_finished_watch_leaves_its_socket_alone() -> None:
    mine, peer = socket.socketpair()
    with mine, peer:
        conn = _Connecting()
        conn.sock = mine
        watch = Watch()
        watch.attach(conn)
        watch.finish()
        assert not watch.fire() and not watch.fired
        peer.sendall(b"x")
        mine.settimeout(5)
        assert mine.recv(1) == b"x"


def test_a_watched_pool_is_freed_without_the_cyclic_collector() -> None:
    adapter = WatchedAdapter()
    pool = watchdog._watch_pool(adapter.poolmanager.connection_from_url("http://127.0.0.1:9/"))
    assert "_get_conn" in vars(pool)
    freed = weakref.ref(pool)
    gc.disable()
    try:
        adapter.close()
        del pool, adapter
        assert freed() is None
    finally:
        gc.enable()
