"""Unit tests of how network failures are classified and secret-carrying bodies detected."""

from __future__ import annotations

import logging
import socket

import pytest
import requests
import urllib3.exceptions

from connector.core.redact import Redactor
from connector.errors import TransportError
from connector.prepare.request import HTTPRequest
from connector.send.attempts import send_with_retries
from connector.send.failures import classify as _classify
from connector.send.redirects import carries_secret as _carries_secret
from connector.send.retry import RetryPolicy
from connector.send.transport import Transport


def test_requests_failures_are_classified() -> None:
    new_conn = urllib3.exceptions.NewConnectionError(None, "refused")  # type: ignore[arg-type]
    refused = requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", new_conn))  # type: ignore[arg-type]
    assert _classify(refused) == ("connect", False)
    assert _classify(requests.ConnectTimeout()) == ("connect", False)
    assert _classify(requests.ReadTimeout()) == ("read_timeout", True)
    aborted = requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted."))
    assert _classify(aborted) == ("reset", True)
    assert _classify(requests.exceptions.ChunkedEncodingError()) == ("reset", True)


def test_body_secret_detection() -> None:
    secrets = Redactor(["TOKEN-123456"])
    with_token = HTTPRequest(
        action="a",
        method="POST",
        url="https://x/",
        body={"token": "TOKEN-123456"},
        secrets=secrets,
    )
    without = HTTPRequest(
        action="a", method="POST", url="https://x/", body={"a": 1}, secrets=secrets
    )
    assert _carries_secret(with_token) is True
    assert _carries_secret(without) is False


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_closed_port_is_one_short_line_with_host_port_and_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = _closed_port()
    request = HTTPRequest(
        action="listThings", method="GET", url=f"http://127.0.0.1:{port}/x?q=1", body=None
    )
    caplog.set_level(logging.DEBUG, logger="connector.transport")
    with pytest.raises(TransportError) as caught:
        Transport(timeout_s=5).send(request, None)
    message = str(caught.value)
    assert message == f"listThings: could not reach 127.0.0.1:{port}: connection refused"
    assert caught.value.kind == "connect"
    detail = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("NewConnectionError" in line or "Max retries" in line for line in detail)


def test_retries_log_one_short_line_each(caplog: pytest.LogCaptureFixture) -> None:
    port = _closed_port()
    request = HTTPRequest(action="listThings", method="GET", url=f"http://127.0.0.1:{port}/x")
    transport = Transport(timeout_s=5)
    caplog.set_level(logging.INFO)
    with pytest.raises(TransportError) as caught:
        send_with_retries(
            lambda: transport.send(request, None),
            lambda response: response,
            request=request,
            policy=RetryPolicy(max_attempts=3, fixed_delay_s=0.0),
        )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2
    for number, line in enumerate(warnings, 2):
        assert line.startswith(f"listThings: could not reach 127.0.0.1:{port}: connection refused;")
        assert f"retry {number}/3" in line
        assert "urllib3" not in line and "HTTPConnectionPool" not in line and "\n" not in line
    assert "HTTPConnectionPool" not in str(caught.value) and "urllib3" not in str(caught.value)
