"""`Sandbox(tls=True)` and `sandbox --tls`: https with a CA made at start, trusted as clients do."""

from __future__ import annotations

import datetime as dt
import gzip
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import urllib3.util.connection

from connector import load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox
from connector.sandbox.tls import TRUST_VARIABLES, TLSUnavailable, make_certificates
from tests.sandbox.commands import assert_lists_no_pipelines


@pytest.fixture(scope="module")
def https() -> Iterator[Sandbox]:
    with Sandbox(tls=True) as sb:
        yield sb


def _port(sb: Sandbox) -> int:
    return int(sb.base_url.rsplit(":", 1)[1])


def _tls_get(sb: Sandbox, server_name: str, path: str = "/nope") -> bytes:
    """One request over a TLS connection made with `ssl` alone, verified as `server_name`."""
    context = ssl.create_default_context(cafile=str(sb.ca_path))
    with (
        socket.create_connection(("127.0.0.1", _port(sb)), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        head = f"GET {path} HTTP/1.1\r\nHost: {server_name}\r\nConnection: close\r\n\r\n"
        tls.sendall(head.encode())
        answer = b""
        while piece := tls.recv(65536):
            answer += piece
        return answer


def test_requests_trusts_the_ca_file_and_nothing_else_is_needed(https: Sandbox) -> None:
    assert https.base_url.startswith("https://127.0.0.1:")
    assert https.ca_path is not None and https.ca_path.name == "ca.pem"
    answer = requests.get(f"{https.base_url}/api/query/funnels/list", verify=str(https.ca_path))
    assert answer.status_code == 401
    assert answer.json()["error"] == "Unable to authenticate request"
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        requests.get(f"{https.base_url}/nope", timeout=5)  # the system's CAs do not know it


@pytest.mark.parametrize(
    "name", ["127.0.0.1", "localhost", "mixpanel.com", "api.mixpanel.com", "data-eu.mixpanel.com"]
)
def test_the_certificate_names_loopback_and_mixpanels_hosts(https: Sandbox, name: str) -> None:
    answer = _tls_get(https, name)
    assert answer.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert answer.endswith(b'{"error":"unknown path /nope","status":"error"}')


def test_a_name_the_certificate_does_not_cover_is_refused(https: Sandbox) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _tls_get(https, "example.com")
    with pytest.raises(ssl.SSLCertVerificationError, match="Hostname mismatch"):
        _tls_get(https, "api.mixpanel.com.example.com")


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("this machine has no IPv6")
    try:
        sandbox = Sandbox(tls=True, host="::1").start()
    except OSError as exc:  # IPv6 compiled in but no ::1 configured
        pytest.skip(f"cannot listen on ::1: {exc}")
    with sandbox as sb:
        assert sb.base_url.startswith("https://[::1]:")
        answer = requests.get(f"{sb.base_url}/nope", verify=str(sb.ca_path), timeout=5)
        assert answer.status_code == 404


def test_the_connector_runs_against_it_with_the_usual_variable(
    https: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(https.ca_path))
    component = load_component(base_url=https.base_url, rate_registry=BudgetRegistry())
    now = int(time.time()) - 60
    events = [
        {"event": "Paid", "properties": {"distinct_id": "u", "time": now, "$insert_id": f"i{n}"}}
        for n in range(3000)  # two requests, one of them over 1 MB
    ]
    result = component.run(
        "importEvents", {"events": events, "project_id": https.project_id}, https.connection
    )
    assert result["data"]["records_imported"] == 3000 and result["data"]["requests"] == 2
    day = dt.datetime.now(dt.UTC).date().isoformat()
    inputs = {"project_id": https.project_id, "from_date": day, "to_date": day}
    exported = list(component.iter("downloadData", inputs, https.connection))
    assert sorted(e["properties"]["$insert_id"] for e in exported) == sorted(
        f"i{n}" for n in range(3000)
    )


def test_a_large_answer_arrives_whole_and_keep_alive_holds() -> None:
    with Sandbox(tls=True) as https:
        _import_and_export_on_one_connection(https)


def _import_and_export_on_one_connection(https: Sandbox) -> None:
    now = int(time.time()) - 60
    events = [
        {
            "event": "Big",
            "properties": {
                "distinct_id": "u",
                "time": now,
                "$insert_id": f"b{n}",
                "pad": "x" * 900,
            },
        }
        for n in range(6000)
    ]
    auth = (https.username, https.password)
    verify = str(https.ca_path)  # per request: REQUESTS_CA_BUNDLE in the environment beats a
    with requests.Session() as session:  # session's own `verify`
        for start in range(0, 6000, 2000):
            answer = session.post(
                f"{https.base_url}/import?project_id={https.project_id}",
                data=gzip.compress(str(events[start : start + 2000]).replace("'", '"').encode()),
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
                auth=auth,
                verify=verify,
                timeout=30,
            )
            assert answer.status_code == 200, answer.text
        day = dt.datetime.now(dt.UTC).date().isoformat()
        export = session.get(
            f"{https.base_url}/api/2.0/export",
            params={"project_id": https.project_id, "from_date": day, "to_date": day},
            auth=auth,
            verify=verify,
            timeout=30,
        )
        assert export.status_code == 200
        assert len(export.content) > 5_000_000
        lines = [line for line in export.text.split("\n") if '"Big"' in line]
        assert len(lines) == 6000
        assert https.open_connections == 1  # four requests, one connection


def test_plain_http_on_the_https_port_gets_a_plain_answer(https: Sandbox) -> None:
    answer = requests.get(https.base_url.replace("https://", "http://") + "/nope", timeout=5)
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "this sandbox serves https: use an https:// URL",
        "status": "error",
    }


def test_a_failed_handshake_closes_only_that_connection(https: Sandbox) -> None:
    with socket.create_connection(("127.0.0.1", _port(https)), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01\x00\x05hello")  # a TLS record that is no ClientHello
        alert = raw.recv(100)
        assert alert[:1] == b"\x15"  # an alert record, then the close
        assert raw.recv(100) == b""
    assert _tls_get(https, "localhost").startswith(b"HTTP/1.1 404")


def test_injected_resets_reach_the_client_over_tls() -> None:
    with Sandbox(tls=True, reset_rate=1.0, seed=2) as sb:
        for _ in range(8):  # a reset before any answer, or after half of one: both fail
            with pytest.raises(requests.exceptions.RequestException):
                requests.get(f"{sb.base_url}/nope", verify=str(sb.ca_path), timeout=5)
        faults = [r["fault"] for r in sb.store.requests()]
        assert len(faults) == 8 and set(faults) == {"reset-before", "reset-after"}


def test_mixpanels_own_host_names_reach_it_when_the_resolver_is_redirected(
    https: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How a client without a host option reaches the sandbox: its connections are redirected."""
    original = urllib3.util.connection.create_connection

    def to_sandbox(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        host, port = address
        if host.endswith("mixpanel.com") and port == 443:
            address = ("127.0.0.1", _port(https))
        return original(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib3.util.connection, "create_connection", to_sandbox)
    monkeypatch.setattr("urllib3.connection.connection.create_connection", to_sandbox)
    answer = requests.get(
        "https://api.mixpanel.com/api/query/funnels/list",
        auth=(https.username, https.password),
        params={"project_id": https.project_id},
        verify=str(https.ca_path),
        timeout=5,
    )
    assert answer.status_code == 200
    assert isinstance(answer.json(), list)


def test_the_ca_folder_is_temporary_unless_chosen(tmp_path: Path) -> None:
    with Sandbox(tls=True) as sb:
        assert sb.ca_path is not None
        folder = sb.ca_path.parent
        assert sorted(p.name for p in folder.iterdir()) == ["ca.pem"]  # no key on disk
    assert not folder.exists()
    chosen = tmp_path / "certs"
    with Sandbox(tls=True, tls_dir=chosen) as sb:
        assert sb.ca_path == chosen / "ca.pem"
        first = sb.ca_path.read_bytes()
    db = tmp_path / "state.sqlite3"
    with Sandbox(tls=True, db=str(db)) as sb:
        assert sb.ca_path == tmp_path / "state.sqlite3.tls" / "ca.pem"
    with Sandbox(tls=True, tls_dir=chosen) as sb:
        second = sb.ca_path.read_bytes() if sb.ca_path else b""
    assert (chosen / "ca.pem").exists() and (db.parent / "state.sqlite3.tls/ca.pem").exists()
    assert first.startswith(b"-----BEGIN CERTIFICATE-----") and second != first  # a new CA


def test_without_trustme_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trustme", None)
    with pytest.raises(TLSUnavailable, match=r"pip install 'mixpanel-connector\[sandbox\]'"):
        make_certificates("127.0.0.1")


def test_the_command_prints_the_ca_and_the_variables_and_cleans_up_on_sigterm() -> None:
    args = [sys.executable, "-m", "connector.cli", "sandbox", "--tls", "--project-id", "4242"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(12)]
        base_url = lines[0]
        assert base_url.startswith("https://127.0.0.1:")
        assert lines[7].startswith("CA certificate: ")
        ca = Path(lines[7].removeprefix("CA certificate: "))
        assert ca.is_file()
        assert lines[8:11] == [f"export {name}={ca}" for name in TRUST_VARIABLES]
        assert lines[11] == f"Live view: {base_url}/  (Ctrl-C to stop)"
        fields = dict(line.split(": ", 1) for line in lines[1:7])
        assert "oauth token" in fields
        assert_lists_no_pipelines(base_url, fields, REQUESTS_CA_BUNDLE=str(ca))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
    assert not ca.parent.exists()


def test_idle_tls_connections_hold_no_worker() -> None:
    """Idle sockets, and idle TLS sessions, cost a socket each: requests are answered at once."""
    with Sandbox(tls=True, workers=2) as sb:
        port = _port(sb)
        context = ssl.create_default_context(cafile=str(sb.ca_path))
        raw = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(300)]
        sessions = [
            context.wrap_socket(
                socket.create_connection(("127.0.0.1", port), timeout=5),
                server_hostname="localhost",
            )
            for _ in range(30)
        ]
        stalled = socket.create_connection(("127.0.0.1", port), timeout=5)
        stalled.sendall(b"\x16\x03\x01")  # a ClientHello that never ends
        try:
            for _ in range(3):
                started = time.monotonic()
                answer = requests.get(f"{sb.base_url}/nope", verify=str(sb.ca_path), timeout=5)
                assert answer.status_code == 404 and time.monotonic() - started < 2
            assert sb.open_connections >= 331
        finally:
            for sock in [*raw, *sessions, stalled]:
                sock.close()
