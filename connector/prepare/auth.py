"""Turns the connection's fields into credentials for the auth scheme an action chose."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..catalog.spec import AuthSchemeSpec, ConnectionSpec
from ..core.redact import Redactor, basic_header
from ..core.urls import Origin, host_matches, origin_of, sent_origin, trusted_by
from ..errors import InputError, InputProblem, RenderError, UnsafeURL
from .request import HTTPRequest


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
    fields = connection.scheme_fields(scheme)
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
        for key in connection_spec.scheme_fields(scheme)
        if not str(connection.get(key) or "").strip()
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
    credentials_to(request, trusted_hosts, base_url)
    if scheme.type == "bearer":
        header = "Bearer " + str(connection.get(scheme.token or "") or "").strip()
        secrets.add_derived(header)
        return header
    username = str(connection.get(scheme.username or "") or "")
    password = str(connection.get(scheme.password or "") or "") if scheme.password else ""
    header = basic_header(username, password)
    secrets.add_derived(header)
    return header


def _untrusted(
    request: HTTPRequest, origin: Origin, trusted: Iterable[str], base_url: str | None
) -> InputError:
    trusted = list(trusted)
    if host_matches(origin.host, trusted) is None and not (
        base_url and origin_of(base_url).host == origin.host
    ):
        what = f"host {origin.host!r} is not {_a(request.api)} host"
    else:
        what = f"{str(origin)!r} is not {_a(request.api)} host's scheme and port"
    hosts = ", ".join(f"https://{h}" if "://" not in h else h for h in trusted)
    return InputError(
        request.action,
        [
            InputProblem(
                "url",
                "URL",
                f"{what}; connection credentials are only sent to {hosts} or the "
                f"configured base URL (its scheme, host and port). Point the request at "
                f"{_a(request.api)} host, or allow sending credentials to any host.",
            )
        ],
    )


def credentials_to(request: HTTPRequest, trusted_hosts: Iterable[str], base_url: str | None) -> str:
    """Where the request's credentials go and why that is allowed, judged on the URL sent.

    Raises:
        InputError: the URL is ambiguous, or its origin is not trusted and the request does not
            allow sending credentials to any host.
    """
    try:
        origin = sent_origin(request.url, request.params)
    except UnsafeURL as exc:
        raise InputError(request.action, [InputProblem("url", "URL", f"the URL {exc}.")]) from None
    reason = trusted_by(origin, trusted_hosts, base_url)
    if reason is not None:
        return f"{origin} ({reason})"
    if request.allow_any_host:
        return f"{origin} (sending credentials to any host is allowed)"
    raise _untrusted(request, origin, trusted_hosts, base_url)
