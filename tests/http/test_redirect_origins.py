"""Redirects keep credentials only on exactly the same scheme, host and port.

Three loopback servers: the base URL's (http), a TLS one on another port (its certificate made
here, for 127.0.0.1 and localhost, and trusted by the component's session only) and a second
plain one. A hop to any other origin, an http -> https "upgrade" of the same host included,
drops the Authorization header, and a body holding the project token is not re-sent there.
"""

from __future__ import annotations

import random
import shutil
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer

from connector import Component
from connector.errors import RedirectError
from connector.send.transport import Transport
from tests.conftest import SECRET_VALUES, TEST_CONNECTION

from .helpers import FakeClock
from .test_behaviour import BASIC, FUNNELS_BODY, FUNNELS_INPUTS, FUNNELS_PATH, _specs


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl, as Debian ships it)."""
    openssl = shutil.which("openssl")
    assert openssl, "the TLS redirect tests need the openssl command"
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )
    return cert, key


def _server(context: ssl.SSLContext | None = None) -> HTTPServer:
    server = HTTPServer(host="127.0.0.1", ssl_context=context)
    server.start()
    return server


@pytest.fixture(scope="module")
def servers(certificate: tuple[Path, Path]) -> Iterator[dict[str, HTTPServer]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, certificate))
    found = {"base": _server(), "tls": _server(context), "plain": _server()}
    yield found
    for server in found.values():
        server.clear()
        server.stop()


@pytest.fixture
def base(servers: dict[str, HTTPServer]) -> Iterator[HTTPServer]:
    yield servers["base"]
    for server in servers.values():
        server.clear()


def _component(base_url: str, certificate: tuple[Path, Path]) -> Component:
    session = requests.Session()
    session.verify = str(certificate[0])  # this test's certificate, for this session only
    session.trust_env = False  # a REQUESTS_CA_BUNDLE in the environment would override it
    clock = FakeClock()
    return Component(
        _specs(),
        base_url=base_url,
        clock=clock,
        rng=random.Random(4),
        rate_registry=clock.registry(),
        transport=Transport(session),
    )


Target = Callable[[dict[str, HTTPServer]], str]

#: Where a redirect from the base server (http://127.0.0.1:PORT) points, and what differs.
OTHER_ORIGINS: dict[str, Target] = {
    "https, same host, other port": lambda s: f"https://127.0.0.1:{s['tls'].port}/moved",
    "https, other host name, other port": lambda s: f"https://localhost:{s['tls'].port}/moved",
    "http, same host, other port": lambda s: f"http://127.0.0.1:{s['plain'].port}/moved",
    "http, other host name, same port": lambda s: f"http://localhost:{s['base'].port}/moved",
}


def _redirect(servers: dict[str, HTTPServer], path: str, status: int, target: str) -> HTTPServer:
    """The base server redirects `path` to the `target` origin; the server that lands there."""
    location = OTHER_ORIGINS[target](servers)
    servers["base"].expect_request(path).respond_with_data(
        "", status=status, headers={"Location": location}
    )
    port = int(location.rsplit(":", 1)[1].split("/")[0])
    return next(server for server in servers.values() if server.port == port)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("target", list(OTHER_ORIGINS), ids=str)
def test_a_hop_to_another_origin_drops_the_credentials(
    servers: dict[str, HTTPServer],
    base: HTTPServer,
    certificate: tuple[Path, Path],
    target: str,
    status: int,
) -> None:
    landed = _redirect(servers, FUNNELS_PATH, status, target)
    landed.expect_request("/moved").respond_with_json(FUNNELS_BODY)
    component = _component(base.url_for("/"), certificate)
    result = component.run("listSavedFunnels", FUNNELS_INPUTS, TEST_CONNECTION)
    assert result == {"data": FUNNELS_BODY}
    first = base.log[0][0]
    assert first.path == FUNNELS_PATH and first.headers["Authorization"] == BASIC
    (moved,) = [entry for entry, _ in landed.log if entry.path == "/moved"]
    assert "Authorization" not in moved.headers
    assert all(secret not in str(moved.headers) for secret in SECRET_VALUES)


@pytest.mark.parametrize(
    "location",
    [lambda s: "/moved", lambda s: f"http://127.0.0.1:{s['base'].port}/moved"],
    ids=["relative", "absolute, same scheme, host and port"],
)
def test_a_hop_within_the_same_origin_keeps_the_credentials(
    servers: dict[str, HTTPServer],
    base: HTTPServer,
    certificate: tuple[Path, Path],
    location: Target,
) -> None:
    base.expect_request(FUNNELS_PATH).respond_with_data(
        "", status=307, headers={"Location": location(servers)}
    )
    base.expect_request("/moved").respond_with_json(FUNNELS_BODY)
    _component(base.url_for("/"), certificate).run(
        "listSavedFunnels", FUNNELS_INPUTS, TEST_CONNECTION
    )
    assert [entry.headers.get("Authorization") for entry, _ in base.log] == [BASIC, BASIC]


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("target", list(OTHER_ORIGINS), ids=str)
def test_a_body_holding_the_token_is_not_resent_to_another_origin(
    servers: dict[str, HTTPServer],
    base: HTTPServer,
    certificate: tuple[Path, Path],
    target: str,
    status: int,
) -> None:
    landed = _redirect(servers, "/track", status, target)
    inputs = {"alias": "user-alias-67890", "distinct_id": "user-12345"}
    with pytest.raises(RedirectError, match="another origin .*contains a credential"):
        _component(base.url_for("/"), certificate).run("createAlias", inputs, TEST_CONNECTION)
    assert [entry for entry, _ in landed.log if entry.path == "/moved"] == []


def test_from_a_tls_base_url_a_hop_to_plain_http_drops_the_credentials(
    servers: dict[str, HTTPServer], base: HTTPServer, certificate: tuple[Path, Path]
) -> None:
    tls = servers["tls"]
    tls.expect_request(FUNNELS_PATH).respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{base.port}/moved"}
    )
    base.expect_request("/moved").respond_with_json(FUNNELS_BODY)
    base_url = f"https://127.0.0.1:{tls.port}"
    _component(base_url, certificate).run("listSavedFunnels", FUNNELS_INPUTS, TEST_CONNECTION)
    assert tls.log[0][0].headers["Authorization"] == BASIC
    assert "Authorization" not in base.log[0][0].headers
