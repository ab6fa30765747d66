"""The memory all request bodies in flight may hold: a flood of large slow bodies stays under it."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import requests

from connector.sandbox import Sandbox

MB = 2**20
CHILD = textwrap.dedent(
    """
    import resource, sys
    from connector.sandbox import Sandbox

    def status(key):
        with open("/proc/self/status") as lines:
            for line in lines:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
        raise KeyError(key)

    ceiling, margin = int(sys.argv[1]), int(sys.argv[2])
    sandbox = Sandbox(max_body_memory=ceiling, workers=4, read_timeout_s=30).start()
    base = status("VmRSS")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (status("VmSize") + ceiling + margin, hard))
    print(sandbox.base_url, base, flush=True)
    sys.stdin.readline()
    print(status("VmHWM"), sandbox.body_memory_held, len(sandbox.errors), flush=True)
    sandbox.stop()
    """
)


def _head(port: int, length: int) -> bytes:
    return (
        f"POST /import?project_id=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _answer(sock: socket.socket) -> bytes:
    """What the sandbox answered on `sock`, read until it closes or 5 s pass."""
    sock.settimeout(5)
    answer = b""
    try:
        while piece := sock.recv(65536):
            answer += piece
            if b"\r\n\r\n" in answer and b'"}' in answer:
                break
    except OSError:
        pass
    return answer


def test_sixty_slow_large_bodies_stay_under_the_ceiling_under_an_address_space_cap() -> None:
    ceiling, body, count = 128 * MB, 56 * MB, 60  # 3.3 GB offered; two bodies fit
    env = {**os.environ, "MALLOC_ARENA_MAX": "2"}  # glibc reserves 64 MB of addresses per arena
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ceiling), str(384 * MB)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        base_url, base_rss = child.stdout.readline().split()
        port = int(base_url.rsplit(":", 1)[1])
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
        for sock in socks:
            sock.sendall(_head(port, body))
        refused = []
        deadline = time.monotonic() + 10
        while len(refused) < count - 2 and time.monotonic() < deadline:
            ready, _, _ = select.select([s for s in socks if s not in refused], [], [], 0.5)
            refused += ready
        sending = [s for s in socks if s not in refused]
        answers = [_answer(s) for s in refused]
        assert len(sending) == 2, f"{len(sending)} bodies admitted, not 2"
        for answer in answers:
            head, _, text = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
            assert b"\r\nRetry-After: 1\r\n" in head and head.endswith(b"\r\nConnection: close")
            assert "bodies in flight" in json.loads(text)["error"]
        piece = b" " * MB
        for sent in range(0, body, MB):  # slowly, side by side
            for sock in sending:
                sock.sendall(piece[: min(MB, body - sent)])
            if sent == 8 * MB:  # the sandbox still answers others at once
                quick = requests.get(f"{base_url}/nope", timeout=2)
                assert quick.status_code == 404
            time.sleep(0.005)
        for sock in sending:  # read in full, then refused: no credentials
            assert _answer(sock).startswith(b"HTTP/1.1 401 Unauthorized\r\n")
        for sock in socks:
            sock.close()
        child.stdin.write("done\n")
        child.stdin.flush()
        peak, held, errors = (int(n) for n in child.stdout.readline().split())
    finally:
        child.stdin.close()
        code = child.wait(timeout=30)
        child.stdout.close()
    assert code == 0
    assert held == 0 and errors == 0
    grew = peak - int(base_rss)
    assert grew < ceiling, f"resident memory grew by {grew / MB:.0f} MB"
    assert grew > body  # the two admitted bodies were really held


def test_chunked_bodies_are_counted_as_they_arrive() -> None:
    with Sandbox(max_body_memory=16 * MB) as sb:
        port = int(sb.base_url.rsplit(":", 1)[1])
        head = (
            b"POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        socks = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
        for sock in socks:
            sock.sendall(head)
        chunk = b"%x\r\n%s\r\n" % (MB, b" " * MB)
        refused: set[socket.socket] = set()
        highest = 0
        for _ in range(8):  # 4 x 8 MB offered, 16 MB allowed
            for sock in socks:
                if sock in refused:
                    continue
                try:
                    sock.sendall(chunk)
                except OSError:
                    refused.add(sock)
            time.sleep(0.05)
            highest = max(highest, sb.body_memory_held)
            refused |= set(select.select(list(set(socks) - refused), [], [], 0)[0])
        assert highest <= 16 * MB
        answers = [_answer(s) for s in socks]
        statuses = sorted(int(a.split(b" ", 2)[1]) for a in answers if a)
        assert statuses.count(503) >= 2, statuses
        for sock in socks:
            sock.close()
        for _ in range(50):
            if sb.body_memory_held == 0:
                break
            time.sleep(0.05)
        assert sb.body_memory_held == 0


def test_a_body_larger_than_the_ceiling_is_413_at_once() -> None:
    with Sandbox(max_body_memory=MB) as sb:
        port = int(sb.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                _head(port, 2 * MB).replace(b"\r\n\r\n", b"\r\nExpect: 100-continue\r\n\r\n")
            )
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 413 ")  # no 100 Continue first
        error = json.loads(answer.partition(b"\r\n\r\n")[2])["error"]
        assert error == (
            "the request's body exceeds the 1048576 bytes this sandbox holds "
            "for all bodies in flight"
        )
        assert sb.body_memory_held == 0


def test_the_ceiling_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_body_memory must be positive, not 0"):
        Sandbox(max_body_memory=0)
