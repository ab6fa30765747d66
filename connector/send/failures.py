"""Network failures in a few words: where (host:port) and why, without the library's internals.

requests and urllib3 nest their exceptions (a ConnectionError holding a MaxRetryError holding a
NewConnectionError holding the socket's error) and print all of them with the URL. Messages say
only what failed; `transport.py` logs the whole chain at DEBUG.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions

from ..errors import ERROR_CONNECT, ERROR_READ_TIMEOUT, ERROR_RESET, TransportError
from ..prepare.request import HTTPRequest

log = logging.getLogger("connector.transport")

__all__ = [
    "as_requests_error",
    "classify",
    "deadline_error",
    "endpoint",
    "short_reason",
    "transport_error",
]


def endpoint(url: str) -> str:
    """host:port of `url` (the scheme's default port when none is given)."""
    parts = urlsplit(url)
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        port = None
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def _innermost(exc: BaseException) -> BaseException:
    """The failure a requests/urllib3 exception wraps (its `reason`, argument or cause)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in exc.args if isinstance(a, BaseException)), None)
        inner = inner or exc.__cause__ or exc.__context__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


#: Short reasons, by the class of the innermost failure (checked in order).
_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host name not found"),
    (http.client.RemoteDisconnected, "closed the connection without an answer"),
    (ConnectionResetError, "connection reset"),
    (ConnectionAbortedError, "connection aborted"),
    (http.client.IncompleteRead, "answer cut short"),
    (urllib3.exceptions.NameResolutionError, "host name not found"),
    (urllib3.exceptions.ProtocolError, "answer cut short"),
    (TimeoutError, "timed out"),
)


def short_reason(exc: BaseException) -> str:
    """A few words on why a request failed, without the library's internals.

    For example "connection refused" or "TLS failed (certificate verify failed)"; the whole
    chain is logged at DEBUG where the error is made.
    """
    inner = _innermost(exc)
    for kind, reason in _REASONS:
        if isinstance(inner, kind):
            return reason
    if isinstance(inner, ssl.SSLError):
        detail = getattr(inner, "verify_message", None) or getattr(inner, "reason", None)
        return f"TLS failed ({str(detail).lower()})" if detail else "TLS failed"
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror[:1].lower() + inner.strerror[1:]
    return _words(type(inner).__name__)


def _words(name: str) -> str:
    """'ChunkedEncodingError' -> 'chunked encoding error'."""
    return "".join(f" {c.lower()}" if c.isupper() else c for c in name).strip()


def classify(exc: requests.RequestException) -> tuple[str, bool]:
    """The retry error kind of a requests failure, and whether the request may have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return ERROR_CONNECT, False
    if isinstance(exc, requests.Timeout):
        return ERROR_READ_TIMEOUT, True
    if isinstance(exc, requests.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", reason)
        if isinstance(
            inner,
            urllib3.exceptions.NewConnectionError
            | urllib3.exceptions.NameResolutionError
            | urllib3.exceptions.ProxyError,
        ):
            return ERROR_CONNECT, False
        return ERROR_RESET, True
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return ERROR_RESET, True
    return "other", True


def transport_error(
    exc: requests.RequestException,
    request: HTTPRequest,
    url: str,
    timeout: float,
    default_timeout: float,
) -> TransportError:
    """The TransportError for a requests failure, naming the host and never a secret."""
    host = urlsplit(url).hostname or ""
    kind, sent = classify(exc)
    if isinstance(exc, requests.Timeout) or kind == ERROR_READ_TIMEOUT:
        phase = "connect to" if kind == ERROR_CONNECT else "get an answer from"
        message = (
            f"{request.action}: could not {phase} {host} within the timeout of "
            f"{timeout:g} s (the action's Timeout input or request.timeout_s; "
            f"default {default_timeout:g} s)"
        )
    else:
        what = (
            "could not reach"
            if kind == ERROR_CONNECT
            else "lost the connection to"
            if kind == ERROR_RESET
            else "failed talking to"
        )
        message = f"{request.action}: {what} {endpoint(url)}: {short_reason(exc)}"
    log.debug("%s: %s", request.action, request.secrets.text(f"{type(exc).__name__}: {exc}"))
    return TransportError(message, request=request, kind=kind, sent=sent, timeout_s=timeout)


def as_requests_error(exc: Exception) -> requests.RequestException:
    """The requests exception a urllib3 read failure would have become in iter_content."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return requests.exceptions.ReadTimeout(exc)
    if isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.DecodeError):
        return requests.exceptions.ChunkedEncodingError(exc)
    return requests.ConnectionError(exc)


def deadline_error(
    request: HTTPRequest, url: str, deadline_s: float, timeout_s: float, *, sent: bool = True
) -> TransportError:
    """The answer was not whole at the request's deadline: a timeout (retried as one)."""
    message = (
        f"{request.action}: the answer from {endpoint(url)} was not whole within the deadline "
        f"of {deadline_s:g} s per request (response.reads.deadline_s)"
    )
    return TransportError(
        message, request=request, kind=ERROR_READ_TIMEOUT, sent=sent, timeout_s=timeout_s
    )
