"""The one URL parser behind both the credential trust decision and what is sent.

A URL is read the way urllib3 (under requests) reads it, and refused outright when another
parser could read it differently: a backslash, a user name or password, a control character,
a percent-encoded or non-ASCII host. Trust is then judged on the scheme, host and port that the
prepared request connects to: a trusted host pattern admits https on port 443 (or the scheme
and port the pattern names), the base URL admits exactly its own scheme, host and port.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from ..errors import InputError, InputProblem, UnsafeURL

DEFAULT_PORTS = {"http": 80, "https": 443}
_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://(?P<authority>[^/?#]*)")
_HOST = re.compile(r"[a-z0-9_.-]+|\[[0-9a-f:.]+\]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")


@dataclass(frozen=True)
class Origin:
    """Where a request connects: scheme, lower-case host and port (the default filled in)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        port = "" if DEFAULT_PORTS.get(self.scheme) == self.port else f":{self.port}"
        return f"{self.scheme}://{self.host}{port}"


def _authority(url: str) -> str:
    match = _AUTHORITY.match(url)
    return match.group("authority") if match else ""


def origin_of(url: str) -> Origin:
    """The origin `url` reaches, read as urllib3 reads it; ambiguous URLs are refused.

    Raises:
        UnsafeURL: not an absolute http(s) URL, or one that URL parsers may read differently.
    """
    if "\\" in url:
        raise UnsafeURL(
            "contains a backslash (\\), which URL parsers read differently; "
            "percent-encode it as %5C",
            "\\",
        )
    control = _CONTROL.search(url)
    if control:
        raise UnsafeURL(
            f"contains the control character U+{ord(control.group()):04X}", control.group()
        )
    authority = _authority(url)
    if "@" in authority:
        raise UnsafeURL(
            "carries a user name or password (user:password@host); give credentials in the "
            "connection, never in a URL",
            "@",
        )
    if not authority.isascii():
        odd = next(c for c in authority if not c.isascii())
        raise UnsafeURL(
            "has a non-ASCII host, which may normalise to another host; write the host in its "
            "ASCII (xn--) form",
            odd,
        )
    if "%" in authority or " " in authority:
        raise UnsafeURL("has a percent-encoded or blank character in its host", "%")
    try:
        parsed = parse_url(url)
        standard = urlsplit(url)
        standard_port = standard.port
    except (LocationParseError, ValueError):
        raise UnsafeURL(
            "is not a valid URL: its host or port cannot be read (a port is 1-65535, an IPv6 "
            "host goes in brackets)"
        ) from None
    scheme = (parsed.scheme or "").lower()
    host = (parsed.host or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise UnsafeURL("is not an absolute http(s) URL")
    if not _HOST.fullmatch(host):
        raise UnsafeURL(f"has a host that is not a host name or IP address: {host!r}")
    if parsed.port == 0:
        raise UnsafeURL("has port 0 (a port is 1-65535)")
    port = parsed.port or DEFAULT_PORTS[scheme]
    same_host = (standard.hostname or "") == host.strip("[]")
    if not same_host or (standard_port or DEFAULT_PORTS[scheme]) != port:
        raise UnsafeURL("is read differently by URL parsers; write it plainly")
    return Origin(scheme, host, port)


def checked_base_url(url: str, *, key: str = "base_url", label: str = "Base URL") -> str:
    """`url` without a trailing slash, once it is a plain http(s) URL with no user or password.

    Raises:
        InputError: naming `label` and `key`, when the URL is refused (see `origin_of`).
    """
    try:
        origin_of(url)
    except UnsafeURL as exc:
        raise InputError("the base URL", [InputProblem(key, label, f"the URL {exc}.")]) from None
    return url.rstrip("/")


def sent_origin(url: str, params: Sequence[tuple[str, str]] = ()) -> Origin:
    """The origin the request for `url` and `params` connects to, from the prepared request.

    Raises:
        UnsafeURL: as `origin_of`, for the URL given or the one requests prepares from it.
    """
    origin = origin_of(url)
    prepared = requests.PreparedRequest()
    try:
        prepared.prepare_url(url, list(params))
    except requests.RequestException:
        raise UnsafeURL("is not a valid URL") from None
    parsed = parse_url(prepared.url or "")
    scheme = (parsed.scheme or "").lower()
    actual = Origin(scheme, (parsed.host or "").lower(), parsed.port or DEFAULT_PORTS[scheme])
    if actual != origin:  # pragma: no cover - requests prepares what urllib3 parsed
        raise UnsafeURL("is read differently by URL parsers; write it plainly")
    return actual


def host_matches(host: str, patterns: Iterable[str]) -> str | None:
    """The first host pattern (`*.example.com`, optionally `scheme://` prefixed) `host` matches."""
    host = host.lower()
    for pattern in patterns:
        glob = pattern.split("://", 1)[-1].rsplit(":", 1)[0] if "://" in pattern else pattern
        if fnmatch.fnmatchcase(host, glob.lower()):
            return pattern
    return None


def _pattern_admits(pattern: str, origin: Origin) -> bool:
    """A bare host pattern admits https on 443; `scheme://glob[:port]` admits what it names.

    The port may be a glob too (`http://127.0.0.1:*`).
    """
    if "://" not in pattern:
        return origin.scheme == "https" and origin.port == 443
    scheme, _, rest = pattern.partition("://")
    port = rest.rpartition(":")[2] if ":" in rest else ""
    if origin.scheme != scheme.lower():
        return False
    if port:
        return fnmatch.fnmatchcase(str(origin.port), port)
    return origin.port == DEFAULT_PORTS.get(origin.scheme)


def trusted_by(origin: Origin, patterns: Iterable[str], base_url: str | None) -> str | None:
    """Why credentials may go to `origin` ("the base URL ...", "trusted host ..."), else None."""
    if base_url and origin == origin_of(base_url):
        return f"the base URL {origin}"
    for pattern in patterns:
        if host_matches(origin.host, [pattern]) and _pattern_admits(pattern, origin):
            return f"trusted host {pattern}"
    return None


def rebase(url: str, base_url: str | None, patterns: Iterable[str]) -> str:
    """`url` moved to `base_url`'s scheme, host and port when its host matches `patterns`.

    The path, query and fragment are kept as they are; other hosts are left alone.

    Raises:
        UnsafeURL: `url` is ambiguous or not an http(s) URL (see `origin_of`).
    """
    origin = origin_of(url)
    if not base_url or host_matches(origin.host, patterns) is None:
        return url
    base = origin_of(base_url)
    authority = _authority(url)
    rest = url[url.index("://") + 3 + len(authority) :]
    return f"{base}{rest}"
