"""Network failures in a few words: where (host:port) and why, without the library's internals.

requests and urllib3 nest their exceptions (a ConnectionError holding a MaxRetryError holding a
NewConnectionError holding the socket's error) and print all of them with the URL. Messages say
only what failed; `transport.py` logs the whole chain at DEBUG.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from urllib.parse import urlsplit

import urllib3.exceptions

__all__ = ["endpoint", "short_reason"]


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
