"""A base URL rebases only the component's trusted (Mixpanel) hosts; other hosts keep theirs."""

from __future__ import annotations

import dataclasses
import random

import pytest
from pytest_httpserver import HTTPServer

from connector import Component, InputError, load_specs
from connector.budgets.memory import BudgetRegistry
from connector.core.redact import basic_header
from connector.send.retry import RetryPolicy
from tests.conftest import TEST_CONNECTION

ONE_TRY = RetryPolicy(max_attempts=1)
BASIC = basic_header(TEST_CONNECTION["username"], TEST_CONNECTION["password"])


def _component(base_url: str, trusted_hosts: tuple[str, ...] | None = None) -> Component:
    spec = load_specs()
    if trusted_hosts is not None:
        spec = dataclasses.replace(spec, trusted_hosts=trusted_hosts)
    return Component(
        spec, base_url=base_url, retry=ONE_TRY, rate_registry=BudgetRegistry(), rng=random.Random(1)
    )


def _raw(base: str, **extra: str) -> dict[str, str]:
    return {"baseUrl": base, "url": "/elsewhere", "method": "POST", "data": '{"a": 1}', **extra}


def _other(other_server: HTTPServer) -> str:
    return f"http://localhost:{other_server.port}"


def test_raw_request_to_another_host_goes_there_with_credentials_when_allowed(
    server: HTTPServer, other_server: HTTPServer
) -> None:
    other_server.expect_request("/elsewhere", method="POST").respond_with_json({"ok": 1})
    component = _component(server.url_for("/"))
    result = component.run(
        "rawRequest", _raw(_other(other_server), allowAnyHost="true"), TEST_CONNECTION
    )
    assert result == {"data": {"ok": 1}}
    assert len(other_server.log) == 1 and server.log == []
    sent = other_server.log[0][0]
    assert sent.headers["Authorization"] == BASIC
    assert sent.get_data() == b'{"a":1}'


def test_raw_request_to_another_host_is_refused_as_without_a_base_url(
    server: HTTPServer, other_server: HTTPServer
) -> None:
    component = _component(server.url_for("/"))
    with pytest.raises(InputError, match="'localhost' is not a Mixpanel host"):
        component.run("rawRequest", _raw(_other(other_server)), TEST_CONNECTION)
    assert server.log == [] and other_server.log == []


def test_raw_request_to_a_mixpanel_host_is_rebased(server: HTTPServer) -> None:
    server.expect_request("/elsewhere", method="POST").respond_with_json({"ok": 2})
    component = _component(server.url_for("/"))
    result = component.run("rawRequest", _raw("https://api-eu.mixpanel.com"), TEST_CONNECTION)
    assert result == {"data": {"ok": 2}}
    assert server.log[0][0].headers["Authorization"] == BASIC


def test_the_rebased_hosts_are_the_specs_trusted_host_patterns(
    server: HTTPServer, other_server: HTTPServer
) -> None:
    """Declare `localhost` trusted in the spec and it is rebased like a Mixpanel host."""
    server.expect_request("/elsewhere", method="POST").respond_with_json({"ok": 3})
    component = _component(server.url_for("/"), trusted_hosts=("localhost",))
    preview = component.preview("rawRequest", _raw(_other(other_server)), TEST_CONNECTION)
    assert preview[0]["url"] == server.url_for("/elsewhere")
    assert component.run("rawRequest", _raw(_other(other_server)), TEST_CONNECTION) == {
        "data": {"ok": 3}
    }
    assert other_server.log == []
