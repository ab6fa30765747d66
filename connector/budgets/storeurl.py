"""Budget-store URLs read as their client libraries read them: the secrets they hold, masked.

The client (redis-py, for one) percent-decodes the user information and the query, names
included: `?pass%77ord=S` sets the password `S` as `?password=S` does. So the URL is masked by
its structure, never by searching for a spelling: everything before the last `@` but a user
name, and the value of every query option not known to be harmless, whatever its name's
spelling. Nothing here raises, whatever the URL (a malformed port or IPv6 host included).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from ..core.redact import MASK

__all__ = ["SHOWN_OPTIONS", "mask_url", "url_secrets"]

#: Query options whose values are shown: the stores' own and the client's harmless settings.
#: Any other option's value (password, username, ssl_password, an unknown name) is masked.
SHOWN_OPTIONS = frozenset(
    {
        "lease_s",
        "prefix",
        "db",
        "protocol",
        "timeout",
        "socket_timeout",
        "socket_connect_timeout",
        "socket_keepalive",
        "health_check_interval",
        "max_connections",
        "retry_on_timeout",
        "ssl_check_hostname",
        "ssl_cert_reqs",
        "ssl_min_version",
    }
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def _split(url: str) -> tuple[str, str | None, str, str | None, str | None]:
    """(scheme, user information or None, host and path, query or None, fragment or None).

    The user information ends at the last `@` (so an unencoded `/`, `?` or `#` in a password
    stays inside it), the query at the first `#` after the host. A URL whose authority is empty
    (`sqlite:////home/me@corp/b.db`) has no user information.
    """
    scheme, _, rest = url.partition("://")
    userinfo: str | None = None
    if "@" in rest and not rest.startswith("/"):  # `sqlite:///PATH` has no authority
        userinfo, _, rest = rest.rpartition("@")
    rest, hash_, fragment = rest.partition("#")
    where, question, query = rest.partition("?")
    return scheme, userinfo, where, query if question else None, fragment if hash_ else None


def _options(query: str) -> list[tuple[str, str]]:
    """The query's (name, value) pairs as the client decodes them (blank values kept)."""
    return parse_qsl(query, keep_blank_values=True)


def url_secrets(url: str) -> list[str]:
    """The secret values a client reads from `url`, decoded (and as written), for masking text."""
    if "://" not in url:
        return [url.partition(":")[2]] if ":" in url else []
    _, userinfo, _, query, fragment = _split(url)
    found: list[str] = []
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        found += [password, unquote(password)] if colon else [user, unquote(user)]
    for name, value in _options(query or ""):
        if name not in SHOWN_OPTIONS:
            found.append(value)
    if query:
        found += [part.partition("=")[2] for part in query.split("&")]
    if fragment:
        found.append(fragment)
    return [value for value in dict.fromkeys(found) if value]


def mask_url(url: str) -> str:
    """`url` as messages show it: every credential a client could read from it is `***`.

    `redis://user:***@host:6379/0?password=***&lease_s=5`: a user name before a `:` is kept,
    user information without one is masked whole; each query option not in SHOWN_OPTIONS is
    shown by its decoded name with its value masked (or masked whole when the name is not a
    plain word); a fragment is masked. Text that is no `scheme://` URL is shown up to its first
    `:` only.
    """
    if "://" not in url:
        scheme, colon, rest = url.partition(":")
        return f"{scheme}:{MASK}" if colon and rest else url
    scheme, userinfo, where, query, fragment = _split(url)
    shown = scheme + "://" if _SCHEME.fullmatch(scheme) else MASK + "://"
    if userinfo is not None:
        user, colon, _ = userinfo.partition(":")
        shown += f"{user}:{MASK}@" if colon else f"{MASK}@"
    shown += where
    if query is not None:
        options = []
        for name, value in _options(query):
            if name in SHOWN_OPTIONS:
                options.append(f"{name}={value}")
            else:
                options.append(f"{name}={MASK}" if _NAME.fullmatch(name) else MASK)
        shown += "?" + "&".join(options)
    if fragment:
        shown += "#" + MASK
    return shown
