"""Loopback servers for the HTTP behaviour tests (127.0.0.1 only; nothing leaves the machine)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.http.listener import Listener, listening


def _start() -> HTTPServer:
    server = HTTPServer(host="127.0.0.1")
    server.start()
    return server


@pytest.fixture(scope="module")
def _servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    first, second = _start(), _start()
    yield first, second
    first.clear()
    second.clear()
    first.stop()
    second.stop()


@pytest.fixture
def server(_servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """The 'Mixpanel' server: every component request goes here via base_url."""
    yield _servers[0]
    _servers[0].clear()


@pytest.fixture
def other_server(_servers: tuple[HTTPServer, HTTPServer]) -> Iterator[HTTPServer]:
    """Another host (reached as `localhost`, not 127.0.0.1, on another port)."""
    yield _servers[1]
    _servers[1].clear()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A raw listener on 127.0.0.1 that records the Authorization header of what it receives."""
    with listening() as recorder:
        yield recorder
