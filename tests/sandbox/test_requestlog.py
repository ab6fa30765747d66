"""The request log: what each client sent (keys, types, credential kind), never a secret."""

from __future__ import annotations

import base64
import gzip
import json
import socket
import time

import pytest
import requests

from connector import Component
from connector.sandbox import Sandbox, store
from connector.sandbox.requestlog import MAX_KEYS, MAX_TEXT, credential_kind


def _log(sb: Sandbox, since: int = 0, **params: str) -> dict[str, object]:
    answer = requests.get(
        f"{sb.base_url}/_sandbox/requests", params={"since": str(since), **params}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    found: dict[str, object] = answer.json()
    return found


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_each_entry_says_what_the_client_sent(sandbox: Sandbox, component: Component) -> None:
    url, pid = sandbox.base_url, sandbox.project_id
    now = int(time.time()) - 60
    events = [{"event": "E", "properties": {"distinct_id": "u", "time": now, "$insert_id": "a1"}}]
    component.run("importEvents", {"events": events, "project_id": pid}, sandbox.connection)
    requests.post(
        f"{url}/track",
        data={"data": json.dumps(events), "verbose": "1"},
        headers={"User-Agent": "sdk-under-test/1.0"},
        timeout=5,
    )
    requests.get(
        f"{url}/api/query/funnels/list",
        params={"project_id": pid},
        auth=(sandbox.project_secret, ""),
        timeout=5,
    )
    requests.get(f"{url}/api/2.0/export?from_date=2024-01-01&to_date=2024-01-02", timeout=5)
    first, track, funnels, export = sandbox.requests()
    assert first["method"] == "POST" and first["path"] == "/import"
    assert set(first["query"]) >= {"project_id"} and first["form"] == []
    assert first["content_type"].startswith("application/json")
    assert first["auth"] == "basic-service-account" and first["status"] == 200
    assert first["bytes"] > 0 and first["fault"] is None
    assert first["finished"] >= first["started"]
    assert first["duration_ms"] == first["finished"] - first["started"]
    assert track["path"] == "/track" and track["form"] == ["data", "verbose"]
    assert track["content_type"] == "application/x-www-form-urlencoded"
    assert track["user_agent"] == "sdk-under-test/1.0" and track["auth"] == "none"
    assert funnels["auth"] == "basic-secret" and funnels["query"] == ["project_id"]
    assert export["range"] == ["2024-01-01", "2024-01-02"] and export["status"] == 401
    assert [e["id"] for e in (first, track, funnels, export)] == [1, 2, 3, 4]
    assert _log(sandbox)["requests"] == sandbox.requests()  # the same log over HTTP


def test_gzip_bodies_and_their_encoding(sandbox: Sandbox) -> None:
    body = gzip.compress(b"[]")
    requests.post(
        f"{sandbox.base_url}/import?strict=1&project_id={sandbox.project_id}",
        data=body,
        auth=(sandbox.username, sandbox.password),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        timeout=5,
    )
    (entry,) = sandbox.requests()
    assert entry["content_encoding"] == "gzip" and entry["bytes"] == len(body)
    assert entry["query"] == ["strict", "project_id"]


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("", "none"),
        ("Bearer abc", "bearer"),
        ("bearer abc", "bearer"),
        ("Digest username=x", "digest"),
        ("Basic !!!not-base64", "basic-malformed"),
        ("sekrit-without-a-scheme", "unknown"),
        ("Sekrit%value other", "unknown"),
    ],
)
def test_credential_kinds_without_the_sandbox(header: str, kind: str) -> None:
    sandbox = Sandbox()  # not started: only its credentials are read
    try:
        assert credential_kind(header, sandbox) == kind
    finally:
        sandbox.stop()


def test_basic_credentials_are_told_apart() -> None:
    sandbox = Sandbox()
    try:
        assert credential_kind(_basic("anyone", "pw"), sandbox) == "basic-service-account"
        assert credential_kind(_basic(sandbox.project_secret, ""), sandbox) == "basic-secret"
        assert credential_kind(_basic(sandbox.project_token, ""), sandbox) == "basic-token"
        assert credential_kind(_basic("someone-else", ""), sandbox) == "basic-unknown"
    finally:
        sandbox.stop()


def test_no_secret_reaches_the_log(sandbox: Sandbox) -> None:
    secrets = [
        sandbox.password,
        sandbox.project_token,
        sandbox.project_secret,
        sandbox.oauth_token,
    ]
    sa = _basic(sandbox.username, sandbox.password)
    url = sandbox.base_url
    for secret in secrets:  # wherever a client could put one
        requests.post(
            f"{url}/track/{secret}?{secret}=1&token={secret}&from_date={secret}",
            data={secret: secret, "api_secret": secret},
            headers={"Authorization": sa, "User-Agent": f"agent {secret}"},
            timeout=5,
        )
        requests.get(f"{url}/engage", headers={"Content-Encoding": f"x-{secret}"}, timeout=5)
        requests.get(f"{url}/engage", headers={"Authorization": f"Bearer {secret}"}, timeout=5)
        requests.get(f"{url}/engage", headers={"Authorization": secret}, timeout=5)
        requests.get(f"{url}/engage", auth=(secret, ""), timeout=5)
    text = requests.get(f"{url}/_sandbox/requests", timeout=5).text
    entries = json.loads(text)["requests"]
    assert len(entries) == 20
    derived = [
        sa.removeprefix("Basic "),
        *(base64.b64encode(f"{s}:".encode()).decode() for s in secrets),
    ]
    for secret in [*secrets, *derived]:
        assert secret not in text
        assert secret not in repr(sandbox.requests())
    assert entries[0]["path"] == "/track/***" and "***" in entries[0]["query"]
    assert entries[0]["form"] == ["***", "api_secret"]
    assert entries[0]["user_agent"] == "agent ***"
    assert entries[0]["range"] == ["***", ""]


def test_since_and_limit_page_through_the_log(sandbox: Sandbox) -> None:
    for n in range(5):
        requests.get(f"{sandbox.base_url}/nope{n}", timeout=5)
    everything = _log(sandbox)
    assert [e["path"] for e in everything["requests"]] == [f"/nope{n}" for n in range(5)]
    assert everything["last"] == 5
    page = _log(sandbox, since=2, limit="2")
    assert [e["id"] for e in page["requests"]] == [3, 4] and page["last"] == 4
    assert _log(sandbox, since=5) == {"requests": [], "last": 5}
    assert sandbox.requests(since=4)[0]["path"] == "/nope4"
    bad = requests.get(f"{sandbox.base_url}/_sandbox/requests?since=-1", timeout=5)
    assert bad.status_code == 400


def test_the_log_is_bounded_and_its_strings_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "MAX_REQUEST_LOG", 5)
    with Sandbox() as sb:
        for n in range(8):
            requests.get(f"{sb.base_url}/n{n}", timeout=5)
        assert [e["id"] for e in sb.requests()] == [4, 5, 6, 7, 8]
        assert [e["id"] for e in sb.requests(since=2)] == [4, 5, 6, 7, 8]  # 3 is gone
        assert [e["id"] for e in sb.requests(since=6)] == [7, 8]
        keys = "&".join(f"k{n}=1" for n in range(MAX_KEYS + 20))
        requests.get(f"{sb.base_url}/{'p' * 1000}?{keys}", timeout=5)
        (entry,) = sb.requests(since=8)
        assert len(entry["path"]) == MAX_TEXT and len(entry["query"]) == MAX_KEYS


def test_the_log_answers_only_this_machines_host_and_is_never_faulted_or_logged() -> None:
    with Sandbox(fail_rate=1.0, seed=1) as sb:
        assert requests.get(f"{sb.base_url}/nope", timeout=5).status_code in (500, 502, 503)
        (entry,) = _log(sb)["requests"]  # answered 200 although every request fails
        assert isinstance(entry, dict) and entry["fault"] in ("500", "502", "503")
        port = int(sb.base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"GET /_sandbox/requests HTTP/1.1\r\nHost: rebind.example:%d\r\n"
                b"Connection: close\r\n\r\n" % port
            )
            answer = b""
            while piece := sock.recv(65536):
                answer += piece
        assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n") and b"/nope" not in answer
        assert [e["path"] for e in sb.requests()] == ["/nope"]  # its own loads are not listed


def test_unreadable_requests_are_logged_too(sandbox: Sandbox) -> None:
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST /import HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 400")
    (entry,) = sandbox.requests()
    assert (entry["path"], entry["status"], entry["fault"]) == ("/import", 400, "unreadable")
