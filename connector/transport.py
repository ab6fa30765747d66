"""The only stage that does I/O: sends an HTTPRequest with requests and returns the raw response."""

from __future__ import annotations

import logging
from typing import Any

import requests

from .errors import TransportError
from .parse import RawResponse
from .request import HTTPRequest

log = logging.getLogger("connector.transport")

DEFAULT_TIMEOUT_S = 60.0
USER_AGENT = "mixpanel-connector/0.1"


class Transport:
    """Owns one requests.Session; every call has a timeout."""

    def __init__(
        self, session: requests.Session | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> None:
        self.session = session or requests.Session()
        self.timeout_s = timeout_s

    def send(self, request: HTTPRequest, authorization: str | None) -> RawResponse:
        """Send once and return the raw response; network failures raise TransportError."""
        headers = {"User-Agent": USER_AGENT, **request.headers}
        if authorization:
            headers["Authorization"] = authorization
        kwargs: dict[str, Any] = {}
        if request.body_format == "multipart":
            kwargs["data"] = list(request.form_fields)
            kwargs["files"] = [(f, (n, c)) for f, n, c in request.files]
        else:
            kwargs["data"] = request.content
        timeout = request.timeout_s or self.timeout_s
        log.debug("sending %r", request)
        try:
            response = self.session.request(
                request.method,
                request.url,
                params=list(request.params),
                headers=headers,
                timeout=timeout,
                **kwargs,
            )
        except requests.Timeout:
            raise TransportError(
                f"{request.action}: no answer from {request.host} within the timeout of {timeout:g} s",
                request=request,
            ) from None
        except requests.RequestException as exc:
            reason = request.secrets.text(type(exc).__name__ + ": " + str(exc))
            raise TransportError(
                f"{request.action}: could not reach {request.host}: {reason}", request=request
            ) from None
        log.debug("%s answered HTTP %s", request.host, response.status_code)
        return RawResponse(
            status=response.status_code,
            headers={k.lower(): v for k, v in response.headers.items()},
            content=response.content,
        )
