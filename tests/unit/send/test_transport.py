"""Unit tests of how network failures are classified and secret-carrying bodies detected."""

from __future__ import annotations

import requests
import urllib3.exceptions

from connector.core.redact import Redactor
from connector.prepare.request import HTTPRequest
from connector.send.redirects import carries_secret as _carries_secret
from connector.send.transport import _classify


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
