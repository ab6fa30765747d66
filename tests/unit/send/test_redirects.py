"""next_hop keeps credentials exactly when the hop stays on the same scheme, host and port."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.core.redact import Redactor, basic_header
from connector.errors import RedirectError
from connector.prepare.request import HTTPRequest
from connector.send.redirects import Hop, next_hop, origin

HEADER = basic_header("svc", "pw-secret-0001")
TOKEN = "tok-secret-0002"

_schemes = st.sampled_from(["http", "https"])
_hosts = st.sampled_from(["127.0.0.1", "localhost", "api.example.com", "[::1]", "API.example.com"])
_ports = st.sampled_from([None, 80, 443, 8080, 8443])


def _url(scheme: str, host: str, port: int | None) -> str:
    return f"{scheme}://{host}{'' if port is None else f':{port}'}/path"


def _hop(url: str, body: bytes | None = None) -> tuple[HTTPRequest, Hop]:
    request = HTTPRequest(
        action="a",
        method="POST",
        url=url,
        content=body,
        secrets=Redactor([TOKEN]),
    )
    headers = {"Authorization": HEADER, "Content-Type": "application/json"}
    return request, Hop("POST", url, [], headers, {"data": body}, origin(url))


@given(_schemes, _hosts, _ports, _schemes, _hosts, _ports, st.sampled_from([301, 302, 307, 308]))
def test_credentials_stay_only_on_the_exact_origin(
    scheme: str,
    host: str,
    port: int | None,
    to_scheme: str,
    to_host: str,
    to_port: int | None,
    status: int,
) -> None:
    request, hop = _hop(_url(scheme, host, port))
    target = _url(to_scheme, to_host, to_port)
    following = next_hop(request, hop, status, target, 0)
    default = {"http": 80, "https": 443}
    same = (scheme, host.lower(), port or default[scheme]) == (
        to_scheme,
        to_host.lower(),
        to_port or default[to_scheme],
    )
    assert ("Authorization" in following.headers) is same
    assert following.url == target


@pytest.mark.parametrize(
    "target",
    [
        "https://127.0.0.1:8443/path",  # the same host upgraded to https on another port
        "https://127.0.0.1/path",  # upgraded to https on its default port
        "http://127.0.0.1:8081/path",  # another port
        "http://localhost:8080/path",  # another name for the same machine
    ],
)
@pytest.mark.parametrize("status", [307, 308])
def test_a_body_holding_a_secret_is_refused_for_another_origin(target: str, status: int) -> None:
    body = f'{{"token":"{TOKEN}"}}'.encode()
    request, hop = _hop("http://127.0.0.1:8080/track", body)
    with pytest.raises(RedirectError, match="another origin .*contains a credential"):
        next_hop(request, hop, status, target, 0)
    # the same body goes on within its own origin
    assert next_hop(request, hop, status, "/elsewhere", 0).body == {"data": body}
