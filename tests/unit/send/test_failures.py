"""Network failures in a few words, without the library's internals."""

from __future__ import annotations

import http.client
import socket

import requests
import urllib3.exceptions

from connector.send.failures import endpoint, short_reason


def test_short_reasons_name_the_failure_not_the_library() -> None:
    def wrapped(inner: BaseException) -> requests.ConnectionError:
        outer = urllib3.exceptions.ProtocolError("Connection aborted.", inner)
        return requests.ConnectionError(outer)

    assert short_reason(wrapped(ConnectionResetError(104, "Connection reset by peer"))) == (
        "connection reset"
    )
    disconnected = http.client.RemoteDisconnected("Remote end closed connection")
    assert short_reason(wrapped(disconnected)) == "closed the connection without an answer"
    assert short_reason(wrapped(OSError(113, "No route to host"))) == "no route to host"
    unknown = socket.gaierror(-2, "Name or service not known")
    assert short_reason(requests.ConnectionError(unknown)) == "host name not found"
    assert short_reason(requests.exceptions.ChunkedEncodingError()) == "chunked encoding error"


def test_endpoint_is_host_and_port() -> None:
    assert endpoint("https://api.example.com/x") == "api.example.com:443"
    assert endpoint("http://127.0.0.1:9/x") == "127.0.0.1:9"
    assert endpoint("http://[::1]:8080/") == "[::1]:8080"
    assert endpoint("http://host:99999/") == "host"
