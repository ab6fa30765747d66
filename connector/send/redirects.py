"""Redirects followed safely: credentials and secret bodies never leave the exact origin."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin

from ..core.redact import SENSITIVE_HEADERS
from ..core.urls import origin_of
from ..errors import RedirectError, UnsafeURL
from ..prepare.request import HTTPRequest

__all__ = [
    "IDEMPOTENT_METHODS",
    "MAX_REDIRECTS",
    "REDIRECT_STATUSES",
    "Hop",
    "carries_secret",
    "next_hop",
    "origin",
]

log = logging.getLogger("connector.transport")

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
_BODY_HEADERS = ("content-type", "content-encoding", "content-length")


@dataclass(frozen=True)
class Hop:
    """What one request of a redirect chain sends: method, URL, headers, body and origin."""

    method: str
    url: str
    params: list[tuple[str, str]]
    headers: dict[str, str]
    body: dict[str, Any]
    origin: tuple[str, str, int | None]


def carries_secret(request: HTTPRequest) -> bool:
    """True when the body (or multipart fields) contain a known secret value, e.g. the token."""
    secrets = request.secrets
    if request.form_fields and secrets.data(list(request.form_fields)) != [
        list(f) for f in request.form_fields
    ]:
        return True
    if request.body is not None and secrets.data(request.body) != request.body:
        return True
    if request.content:
        text = request.content.decode("utf-8", "replace")
        return secrets.text(text) != text
    return False


def origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of `url` as urllib3 reads it (see connector.core.urls).

    Raises:
        UnsafeURL: a URL that parsers may read differently.
    """
    found = origin_of(url)
    return found.scheme, found.host, found.port


def next_hop(request: HTTPRequest, hop: Hop, status: int, location: str, number: int) -> Hop:
    """The request that follows a redirect answer (`status`, `location`) to `hop`.

    Raises:
        RedirectError: the chain is too long, the target is a URL that parsers may read
            differently, or the body holds a secret and would go to another host.
    """
    if number == MAX_REDIRECTS:
        raise RedirectError(
            f"{request.action}: more than {MAX_REDIRECTS} redirects; stopped at "
            f"{request.secrets.text(hop.url)}",
            status=status,
            request=request,
        )
    target = urljoin(hop.url, location)
    try:
        new_origin = origin(target)
    except UnsafeURL as exc:
        raise RedirectError(
            f"{request.action}: {request.api_name} answered HTTP "
            f"{status} redirecting to a URL that {exc}; not followed",
            status=status,
            request=request,
        ) from None
    # Credentials stay only on exactly the same origin: an http -> https hop to the same host
    # may reach another server (another port, another process), so it is another origin too.
    same = new_origin == hop.origin
    method, headers, body = hop.method, hop.headers, hop.body
    if status in (301, 302, 303) and method not in IDEMPOTENT_METHODS:
        method = "GET"  # as browsers and requests do: the body is not re-sent
        body = {"data": None}
        headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}
    if not same:
        where = "{}://{}:{}".format(*new_origin)
        if any(k.lower() in SENSITIVE_HEADERS for k in headers):
            log.info(
                "%s: redirected to another origin %s; credentials are not sent there",
                request.action,
                where,
            )
            headers = {k: v for k, v in headers.items() if k.lower() not in SENSITIVE_HEADERS}
        if body.get("data") is not None and carries_secret(request):
            raise RedirectError(
                f"{request.action}: {request.api_name} answered HTTP {status} "
                f"redirecting to another origin ({where}); not followed because "
                "the request body would be re-sent there and it contains a "
                "credential (such as the project token).",
                status=status,
                request=request,
            )
    return replace(
        hop, method=method, url=target, params=[], headers=headers, body=body, origin=new_origin
    )
