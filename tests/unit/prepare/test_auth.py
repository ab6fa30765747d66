"""Auth: credentials per scheme, never a half-built header, and only to trusted hosts."""

from __future__ import annotations

import pytest

from connector import InputError, load_component
from connector.core.redact import basic_header
from connector.prepare.auth import is_trusted_host

COMPONENT = load_component()


@pytest.mark.parametrize(
    ("connection", "missing"),
    [
        pytest.param({"username": "sa-user"}, ["password"], id="username-only"),
        pytest.param({"password": "sa-secret-1"}, ["username"], id="password-only"),
        pytest.param({"username": " ", "password": ""}, ["username", "password"], id="blank"),
    ],
)
def test_a_half_filled_service_account_is_an_input_error(
    connection: dict[str, str], missing: list[str]
) -> None:
    with pytest.raises(InputError) as caught:
        COMPONENT.preview("listSavedFunnels", {"project_id": "1"}, connection)
    assert [p.key for p in caught.value.errors] == missing
    assert "authentication service_account (Username (`username`) + Password (`password`))" in str(
        caught.value
    )
    assert "sa-secret-1" not in str(caught.value)


def test_project_token_mode_sends_the_token_as_username_with_empty_password() -> None:
    op = COMPONENT.spec.actions["importEvents"]
    inputs = {
        "events": '[{"event": "e", "properties": '
        '{"time": 1618716477, "distinct_id": "d", "$insert_id": "i"}}]',
        "useProjectToken": "true",
    }
    request, header = COMPONENT.prepare(op, inputs, {"projectToken": "tok-123456"})
    assert request.auth_scheme == "project_token"
    assert header == basic_header("tok-123456", "")
    with pytest.raises(InputError, match=r"Connection field Project Token \(`projectToken`\)"):
        COMPONENT.prepare(op, inputs, {"username": "u", "password": "p-secret"})


def test_trusted_hosts() -> None:
    trusted = ("mixpanel.com", "*.mixpanel.com")
    assert is_trusted_host("api-eu.mixpanel.com", trusted)
    assert is_trusted_host("MIXPANEL.com", trusted)
    assert not is_trusted_host("mixpanel.com.evil.example", trusted)
    assert not is_trusted_host("evilmixpanel.com", trusted)
    assert is_trusted_host("127.0.0.1", trusted, base_url="http://127.0.0.1:8080")
