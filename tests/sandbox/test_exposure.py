"""What the sandbox shows, and to whom: Host checks on its own pages, loopback-only binds."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import pytest
import requests

from connector.sandbox import Sandbox
from connector.sandbox.addresses import is_loopback, names_this_machine


def _get(sb: Sandbox, path: str, host: str | None, version: str = "HTTP/1.1") -> bytes:
    """A GET with exactly this Host header (or none), its answer whole."""
    port = int(sb.base_url.rsplit(":", 1)[1])
    lines = [f"GET {path} {version}", *([f"Host: {host}"] if host is not None else [])]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(("\r\n".join([*lines, "Connection: close", "", ""])).encode("latin-1"))
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
    return answer


@pytest.mark.parametrize(
    ("host", "bound", "allowed"),
    [
        ("127.0.0.1:8080", "127.0.0.1", True),
        ("127.0.0.1", "127.0.0.1", True),
        ("localhost:8080", "127.0.0.1", True),
        ("LOCALHOST", "127.0.0.1", True),
        ("[::1]:8080", "127.0.0.1", True),
        ("sandbox.internal:8080", "sandbox.internal", True),  # the name it was bound to
        ("evil.example:8080", "127.0.0.1", False),  # DNS rebinding: the attacker's own name
        ("evil.example", "0.0.0.0", False),
        ("localhost.evil.example", "127.0.0.1", False),
        ("127.0.0.1.evil.example", "127.0.0.1", False),
        ("evil@127.0.0.1", "127.0.0.1", False),
        ("127.0.0.1/x", "127.0.0.1", False),
        ("127.0.0.1:8080:80", "127.0.0.1", False),
        ("", "127.0.0.1", False),
        (None, "127.0.0.1", False),
        ("192.168.1.20:8080", "127.0.0.1", False),
        ("192.168.1.20:8080", "0.0.0.0", True),  # an address cannot be rebound
        ("[fe80::1]:8080", "::", True),
    ],
)
def test_which_host_headers_name_this_machine(host: str | None, bound: str, allowed: bool) -> None:
    assert names_this_machine(host, bound) is allowed


@pytest.mark.parametrize("path", ["/", "/favicon.ico"])
def test_the_live_view_refuses_a_foreign_host(sandbox: Sandbox, path: str) -> None:
    port = sandbox.base_url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert _get(sandbox, path, host).startswith(b"HTTP/1.1 200 OK\r\n")
    for host in (f"rebind.attacker.example:{port}", "mixpanel.com"):
        answer = _get(sandbox, path, host)
        assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
        body = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert body["error"].startswith("the live view answers only to Host 127.0.0.1,")
        assert sandbox.project_id.encode() not in answer
    answer = _get(sandbox, path, None, "HTTP/1.0")  # no Host at all
    assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")


def test_the_apis_answer_any_host(sandbox: Sandbox) -> None:
    """Clients redirected from Mixpanel's own names send them as Host."""
    answer = requests.get(
        f"{sandbox.base_url}/api/query/funnels/list",
        headers={"Host": "mixpanel.com"},
        auth=(sandbox.username, sandbox.password),
        params={"project_id": sandbox.project_id},
        timeout=5,
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "example.com"])
def test_an_address_others_can_reach_is_refused_unless_allowed(host: str) -> None:
    with pytest.raises(ValueError, match=r"listens only on this machine .* allow_remote=True"):
        Sandbox(host=host)


def test_loopback_names_and_addresses_are_accepted() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("127.0.0.2") and is_loopback("::1")
    assert is_loopback("localhost") and is_loopback("LocalHost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.1")
    with Sandbox(host="localhost") as sb:
        assert sb.base_url.startswith("http://localhost:")
        assert requests.get(f"{sb.base_url}/", timeout=5).status_code == 200


def test_allow_remote_listens_everywhere_and_its_page_answers_ip_hosts() -> None:
    with Sandbox(host="0.0.0.0", allow_remote=True) as sb:
        port = sb.base_url.rsplit(":", 1)[1]
        assert _get(sb, "/", f"127.0.0.1:{port}").startswith(b"HTTP/1.1 200 OK")
        assert _get(sb, "/", f"198.51.100.7:{port}").startswith(b"HTTP/1.1 200 OK")
        assert _get(sb, "/", f"attacker.example:{port}").startswith(b"HTTP/1.1 403")


def test_the_command_refuses_a_remote_host_and_warns_when_allowed() -> None:
    base = [sys.executable, "-m", "connector.cli", "sandbox", "--host", "0.0.0.0"]
    refused = subprocess.run(base, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2
    assert "listens only on this machine" in refused.stderr
    assert "--allow-remote" in refused.stderr
    proc = subprocess.Popen(
        [*base, "--allow-remote"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("http://0.0.0.0:")
    finally:
        proc.send_signal(signal.SIGINT)
        _, errors = proc.communicate(timeout=10)
    assert proc.returncode == 0
    warning = "warning: the sandbox listens on 0.0.0.0: anyone who can reach this machine"
    assert warning in errors
