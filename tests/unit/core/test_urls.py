"""One URL parser: ambiguous URLs are refused, and credentials only reach approved origins."""

from __future__ import annotations

import random

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from connector import Component, InputError, load_specs
from connector.budgets.memory import BudgetRegistry
from connector.core.urls import Origin, origin_of, rebase, sent_origin, trusted_by
from connector.errors import UnsafeURL
from tests.conftest import TEST_CONNECTION

TRUSTED = ("mixpanel.com", "*.mixpanel.com")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://api.mixpanel.com/x", Origin("https", "api.mixpanel.com", 443)),
        ("HTTP://API.Mixpanel.com:8080", Origin("http", "api.mixpanel.com", 8080)),
        ("http://[::1]:80/x", Origin("http", "[::1]", 80)),
        ("https://h/x?a=b@c#d@e", Origin("https", "h", 443)),
    ],
)
def test_origin_of_plain_urls(url: str, origin: Origin) -> None:
    assert origin_of(url) == origin
    assert sent_origin(url, [("q", "@\\")]) == origin


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9\\@api.mixpanel.com/x", "backslash"),
        ("https://api.mixpanel.com\\.evil.example/", "backslash"),
        ("http://u:p@api.mixpanel.com/", "user name or password"),
        ("http://@api.mixpanel.com/", "user name or password"),
        ("http://api.mixpanel.com\t.evil/", "control character"),
        ("http://api.mixpanel.com/\r\nX: y", "control character"),
        ("http://api\u3002mixpanel.com/", "non-ASCII"),
        ("http://\uff41pi.mixpanel.com/", "non-ASCII"),
        ("http://%61pi.mixpanel.com/", "percent-encoded"),
        ("http://[::1/", "not a valid URL"),
        ("http://h:99999/", "not a valid URL"),
        ("http://h:0/", "port 0"),
        ("ftp://h/", "absolute http"),
        ("/just/a/path", "absolute http"),
        ("http://h_*/", "not a host name"),
    ],
)
def test_ambiguous_or_broken_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeURL, match=why) as caught:
        origin_of(url)
    assert "p@" not in str(caught.value)


def test_rebase_moves_only_trusted_hosts_and_keeps_the_rest_verbatim() -> None:
    base = "http://127.0.0.1:8080"
    assert rebase("https://api.mixpanel.com/a%2Fb?x=1#f", base, TRUSTED) == (
        "http://127.0.0.1:8080/a%2Fb?x=1#f"
    )
    assert rebase("https://example.com/a", base, TRUSTED) == "https://example.com/a"
    assert rebase("https://api.mixpanel.com/a", None, TRUSTED) == "https://api.mixpanel.com/a"


# --- the property: whatever URL is drawn, credentials only go where the rule approved -------

_SCHEMES = st.sampled_from(["http", "https", "HTTPS", "ftp", "", "http:/", "https:"])
_USERINFO = st.sampled_from(["", "u:p@", "@", "127.0.0.1:9\\@", "api.mixpanel.com@", "%40"])
_HOSTS = st.sampled_from(
    [
        "api.mixpanel.com",
        "mixpanel.com",
        "127.0.0.1",
        "localhost",
        "evil.example",
        "api.mixpanel.com.evil.example",
        "evilmixpanel.com",
        "api%2emixpanel.com",
        "api\u3002mixpanel.com",
        "\uff41pi.mixpanel.com",
        "[::1]",
        "API.MIXPANEL.COM",
        "api.mixpanel.com.",
    ]
)
_PORTS = st.sampled_from(["", ":443", ":80", ":8080", ":19999", ":99999", ":0", ":", ":+1"])
_PIECES = st.sampled_from(
    ["/", "\\", "@", "?", "#", "/x", "\t", "\n", "\x00", " ", "%5C", "%40", ".", "..", ":"]
)
_BASES = st.sampled_from(
    [None, "http://127.0.0.1:8080", "https://127.0.0.1:8443", "http://localhost:19999"]
)


@st.composite
def tricky_urls(draw: st.DrawFn) -> str:
    url = f"{draw(_SCHEMES)}://{draw(_USERINFO)}{draw(_HOSTS)}{draw(_PORTS)}"
    for piece in draw(st.lists(_PIECES | _HOSTS | _USERINFO, max_size=4)):
        url += piece
    return url


def _connected_to(url: str, params: list[tuple[str, str]]) -> tuple[str, str, int]:
    """What requests and urllib3 connect to for this request: from the prepared request's URL,
    as urllib3's PoolManager reads it (scheme, lower-cased host, port or the scheme's)."""
    prepared = requests.Request("GET", url, params=params).prepare()
    parsed = parse_url(prepared.url or "")
    scheme = (parsed.scheme or "").lower()
    port = parsed.port or {"http": 80, "https": 443}[scheme]
    return scheme, (parsed.host or "").lower(), port


def _approved(target: tuple[str, str, int], base: str | None) -> bool:
    """The trust rule, written out independently: the base URL's exact origin, or https:443
    to mixpanel.com or a subdomain of it."""
    scheme, host, port = target
    if base is not None:
        parsed = parse_url(base)
        if (scheme, host, port) == (parsed.scheme, parsed.host, parsed.port):
            return True
    mixpanel = host == "mixpanel.com" or host.endswith(".mixpanel.com")
    return mixpanel and scheme == "https" and port == 443


_SPEC = load_specs()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(url=tricky_urls(), base=_BASES, absolute=st.booleans())
# The cases that once sent credentials elsewhere always run, whatever hypothesis draws.
@example(url="http://127.0.0.1:9\\@api.mixpanel.com/x", base=None, absolute=True)
@example(url="http://127.0.0.1:19999/x", base="http://127.0.0.1:8080", absolute=True)
@example(url="http://127.0.0.1:8443/x", base="https://127.0.0.1:8443", absolute=True)
@example(url="http://api.mixpanel.com", base=None, absolute=False)
@example(url="https://u:p@api.mixpanel.com", base=None, absolute=False)
def test_credentials_only_go_to_an_origin_the_rule_approved(
    url: str, base: str | None, absolute: bool
) -> None:
    component = Component(
        _SPEC, base_url=base, rate_registry=BudgetRegistry(), rng=random.Random(1)
    )
    inputs = (
        {"baseUrl": "https://api.mixpanel.com", "url": url, "method": "GET"}
        if absolute
        else {"baseUrl": url, "url": "/x", "method": "GET"}
    )
    try:
        request, header = component.prepare(
            component.spec.actions["rawRequest"], inputs, TEST_CONNECTION
        )
    except InputError:
        return  # refused before anything is sent
    assert header is not None
    target = _connected_to(request.url, list(request.params))
    assert _approved(target, base), (url, request.url, target)
    assert request.credentials_to.startswith(f"{target[0]}://"), request.credentials_to


def test_the_property_draws_accepted_and_refused_urls() -> None:
    """The strategy reaches both sides of the rule (else the property proves nothing)."""
    seen = {"accepted": 0, "refused": 0}

    @settings(max_examples=300, deadline=None)
    @given(url=tricky_urls())
    def probe(url: str) -> None:
        try:
            origin = origin_of(url)
        except UnsafeURL:
            seen["refused"] += 1
            return
        if trusted_by(origin, TRUSTED, None):
            seen["accepted"] += 1

    probe()
    assert seen["accepted"] > 0 and seen["refused"] > 0
