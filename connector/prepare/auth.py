"""Turns the connection's fields into credentials for the auth scheme an action chose."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..catalog.spec import AuthSchemeSpec, ConnectionSpec
from ..core.redact import Redactor, basic_header
from ..errors import InputError, InputProblem, RenderError
from .request import HTTPRequest


def is_trusted_host(host: str, trusted: Iterable[str], base_url: str | None = None) -> bool:
    """True when credentials may go to `host`: a trusted pattern or the configured base URL."""
    host = host.lower()
    if base_url and urlsplit(base_url).hostname == host:
        return True
    return any(fnmatch.fnmatchcase(host, pattern.lower()) for pattern in trusted)


def _a(api: str) -> str:
    """'a Mixpanel' for an API named Mixpanel, 'a trusted' when the API has no name."""
    return f"a {api}" if api else "a trusted"


def scheme_for(request: HTTPRequest, connection: ConnectionSpec) -> AuthSchemeSpec:
    """The auth scheme the request names; a spec naming an unknown one is a render error."""
    scheme = connection.auth_schemes.get(request.auth_scheme)
    if scheme is None:
        known = ", ".join(sorted(connection.auth_schemes))
        raise RenderError(
            request.action,
            "request.auth",
            f"unknown auth scheme {request.auth_scheme!r}; known: {known}",
        )
    return scheme


def describe_scheme(scheme: AuthSchemeSpec, connection: ConnectionSpec) -> str:
    """Name a scheme and the connection fields it uses, for messages (never their values)."""
    if scheme.type == "none":
        return f"{scheme.name} (no credentials)"
    fields = [f for f in (scheme.username, scheme.password) if f]
    named = " + ".join(connection.field(f).describe() for f in fields)
    return f"{scheme.name} ({named})"


def authorization_header(
    request: HTTPRequest,
    connection_spec: ConnectionSpec,
    connection: Mapping[str, Any],
    *,
    trusted_hosts: Iterable[str],
    base_url: str | None,
    secrets: Redactor,
) -> str | None:
    """The Authorization header value for `request`, or None when its scheme sends none.

    Raises:
        InputError: a connection field the scheme needs is empty, or the host is not trusted.
    """
    scheme = scheme_for(request, connection_spec)
    if scheme.type == "none":
        return None
    missing = [
        connection_spec.field(key)
        for key in (scheme.username, scheme.password)
        if key and not str(connection.get(key) or "").strip()
    ]
    if missing:
        needed = describe_scheme(scheme, connection_spec)
        raise InputError(
            request.action,
            [
                InputProblem(
                    f.key,
                    f"Connection field {f.label}",
                    f"is empty; authentication {needed} needs it.",
                )
                for f in missing
            ],
        )
    if not request.allow_any_host and not is_trusted_host(request.host, trusted_hosts, base_url):
        raise InputError(
            request.action,
            [
                InputProblem(
                    "url",
                    "URL",
                    f"host {request.host!r} is not {_a(request.api)} host; connection credentials "
                    f"are only sent to {', '.join(trusted_hosts)} or the configured base URL. "
                    f"Point the request at {_a(request.api)} host, or allow sending credentials "
                    "to any host.",
                )
            ],
        )
    username = str(connection.get(scheme.username or "") or "")
    password = str(connection.get(scheme.password or "") or "") if scheme.password else ""
    header = basic_header(username, password)
    secrets.add_derived(header)
    return header
