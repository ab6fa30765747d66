"""The only stage that does I/O: sends one HTTPRequest with requests, following safe redirects.

`Transport.send` makes one logical request: it follows redirects itself (never handing
credentials or secret-carrying bodies to another host) and maps network failures to
`TransportError` with a kind that tells whether the request may have reached the server.
`connector.send.attempts` wraps it in the retry policy and the client-side rate budgets.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import requests

from ..core.redact import Redactor
from ..errors import TransportError
from ..prepare.request import HTTPRequest
from .answer import Answer, read_whole
from .body import ReadLimits
from .failures import deadline_error, transport_error
from .redirects import IDEMPOTENT_METHODS, MAX_REDIRECTS, REDIRECT_STATUSES, Hop, next_hop, origin
from .response import RawResponse
from .watchdog import WatchedAdapter, watched

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "IDEMPOTENT_METHODS",
    "STREAM_CHUNK_BYTES",
    "StreamedResponse",
    "Transport",
]

log = logging.getLogger("connector.transport")

DEFAULT_TIMEOUT_S = 60.0
USER_AGENT = "mixpanel-connector/0.1"
#: How much of a streamed body is read at a time.
STREAM_CHUNK_BYTES = 256 * 1024
#: The key of a Hop's body naming the file a body is streamed from (see HTTPRequest.body_file).
STREAM_FILE = "stream_file"

# --- secrets in third-party logs ------------------------------------------------------------

_ACTIVE_SECRETS: contextvars.ContextVar[Redactor | None] = contextvars.ContextVar(
    "connector_active_secrets", default=None
)


class _RedactingFilter(logging.Filter):
    """Masks the secrets of the request being sent in urllib3's own log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _ACTIVE_SECRETS.get()
        if secrets is not None:
            record.msg = secrets.text(record.getMessage())
            record.args = None
        return True


_FILTER = _RedactingFilter()
for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.response"):
    _logger = logging.getLogger(_name)
    if _FILTER not in _logger.filters:
        _logger.addFilter(_FILTER)


# --- one request ----------------------------------------------------------------------------


#: Connections kept open per host: enough for a batched action's most requests in flight (with
#: requests' default of 10, each request beyond the tenth would open a new connection).
POOL_CONNECTIONS_PER_HOST = 32


def _pooled_session() -> requests.Session:
    session = requests.Session()
    adapter = WatchedAdapter(pool_maxsize=POOL_CONNECTIONS_PER_HOST)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class Transport:
    """Owns one requests.Session; every call has a timeout; redirects are followed by hand."""

    def __init__(
        self, session: requests.Session | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.session = session or _pooled_session()
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"<Transport timeout={self.timeout_s:g}s>"

    def send(self, request: HTTPRequest, authorization: str | None) -> RawResponse:
        """Send once (following safe redirects) and return the raw response.

        Raises:
            TransportError: the connection failed or timed out (`.kind`, `.sent`, `.timeout_s`).
            RedirectError: too many redirects, or a redirect that would re-send a body holding
                a secret (such as the project token) to another host.
        """
        limits = ReadLimits.of(request.response)
        deadline = time.monotonic() + limits.deadline_s
        response = self._follow_within(request, authorization, limits, deadline)
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = response.status_code
        content = read_whole(
            Answer(request, response, headers, limits, deadline, self.timeout_s),
            proof=bool((request.response.get("reads") or {}).get("proven_end")),
        )
        return RawResponse(status=status, headers=headers, content=content)

    def open_stream(self, request: HTTPRequest, authorization: str | None) -> StreamedResponse:
        """Send once like `send`, asking for gzip, but leave the body unread for streaming.

        Raises:
            TransportError, RedirectError: as `send`.
        """
        if not any(k.lower() == "accept-encoding" for k in request.headers):
            request = replace(request, headers={**request.headers, "Accept-Encoding": "gzip"})
        limits = ReadLimits.of(request.response)
        deadline = time.monotonic() + limits.deadline_s
        response = self._follow_within(request, authorization, limits, deadline)
        return StreamedResponse(
            request, response, request.timeout_s or self.timeout_s, self, limits, deadline
        )

    def _follow_within(
        self, request: HTTPRequest, authorization: str | None, limits: ReadLimits, deadline: float
    ) -> requests.Response:
        """`_follow` up to the final answer's header, all within the request's deadline."""
        with watched(deadline) as watch:
            try:
                return self._follow(request, authorization, stream=True, deadline=deadline)
            except TransportError as exc:
                if not watch.fired and time.monotonic() < deadline:
                    raise
                timeout = request.timeout_s or self.timeout_s
                raise deadline_error(
                    request, request.url, limits.deadline_s, timeout, sent=exc.sent
                ) from None

    def _follow(
        self,
        request: HTTPRequest,
        authorization: str | None,
        *,
        stream: bool,
        deadline: float | None = None,
    ) -> requests.Response:
        timeout = request.timeout_s or self.timeout_s
        headers = {"User-Agent": USER_AGENT, **request.headers}
        if authorization:
            headers["Authorization"] = authorization
        body: dict[str, Any]
        if request.body_format == "multipart":
            body = {
                "data": list(request.form_fields),
                "files": [(f, (n, c)) for f, n, c in request.files],
            }
        elif request.body_file is not None:
            body = {"data": None, STREAM_FILE: request.body_file.path}
        else:
            body = {"data": request.content}
        params = list(request.params)
        hop = Hop(request.method, request.url, params, headers, body, origin(request.url))
        token = _ACTIVE_SECRETS.set(request.secrets)
        try:
            for number in range(MAX_REDIRECTS + 1):
                text = f"{request.action}: {hop.method} {hop.url}"
                log.debug("sending %s", request.secrets.text(text))
                response = self._once(request, hop, timeout, stream, deadline)
                location = response.headers.get("location")
                if response.status_code not in REDIRECT_STATUSES or not location:
                    host = urlsplit(hop.url).hostname
                    log.debug("%s answered HTTP %s", host, response.status_code)
                    return response
                response.close()
                hop = next_hop(request, hop, response.status_code, location, number)
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            _ACTIVE_SECRETS.reset(token)

    def _once(
        self,
        request: HTTPRequest,
        hop: Hop,
        timeout: float,
        stream: bool = False,
        deadline: float | None = None,
    ) -> requests.Response:
        body = dict(hop.body)
        path = body.pop(STREAM_FILE, None)
        # connecting (a TLS handshake included) ends by the deadline: the watchdog cannot reach
        # a socket until urllib3 holds it, and a TLS socket not before its handshake ends
        connect = (
            timeout if deadline is None else min(timeout, max(deadline - time.monotonic(), 1e-3))
        )
        try:
            with contextlib.ExitStack() as opened:
                if path is not None:  # streamed from the file, opened afresh for each attempt
                    body["data"] = opened.enter_context(open(path, "rb"))  # noqa: SIM115
                return self.session.request(
                    hop.method,
                    hop.url,
                    params=hop.params,
                    headers=dict(hop.headers),
                    timeout=(connect, timeout),
                    allow_redirects=False,
                    stream=stream,
                    **body,
                )
        except requests.RequestException as exc:  # before OSError, of which it is one
            raise transport_error(exc, request, hop.url, timeout, self.timeout_s) from None
        except OSError as exc:
            message = f"{request.action}: cannot read the body's file: {exc.strerror or exc}"
            raise TransportError(message, request=request, kind="other", sent=False) from None


class StreamedResponse:
    """A response read chunk by chunk; read failures raise TransportError as `send` does."""

    def __init__(
        self,
        request: HTTPRequest,
        response: requests.Response,
        timeout: float,
        transport: Transport,
        limits: ReadLimits | None = None,
        deadline: float | None = None,
    ) -> None:
        self.request = request
        self.status = response.status_code
        self.headers = {k.lower(): v for k, v in response.headers.items()}
        self.limits = limits or ReadLimits.of(request.response)
        if deadline is None:
            deadline = time.monotonic() + self.limits.deadline_s
        self._answer = Answer(
            request, response, self.headers, self.limits, deadline, transport.timeout_s, timeout
        )
        self._response = response

    def __repr__(self) -> str:
        return f"<StreamedResponse HTTP {self.status} for {self.request.action}>"

    def chunks(self) -> Iterator[bytes]:
        """The body in decompressed pieces, as they arrive.

        Raises:
            TransportError: the connection broke, the deadline passed, or the answer ended
                without proof that it is whole (a cut: ask again).
        """
        answer = self._answer
        reader = answer.reader(None)
        with answer.mapped():
            yield from reader.chunks()
        if not reader.proven:
            raise answer.cut(reader)

    def read(self) -> RawResponse:
        """Read the whole body (for error answers, within `max_error_bytes`) and close."""
        try:
            content = read_whole(self._answer, proof=False)
        finally:
            self.close()
        return RawResponse(status=self.status, headers=self.headers, content=content)

    def close(self) -> None:
        """Release the connection (dropping what was not read)."""
        self._response.close()
