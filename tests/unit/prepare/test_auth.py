"""Auth: credentials per scheme, never a half-built header, and only to trusted hosts."""

from __future__ import annotations

import json
import pickle

import pytest

from connector import InputError, load_component
from connector.catalog.spec import InputSpec, OperationSpec
from connector.core.redact import basic_header
from connector.core.urls import origin_of, trusted_by

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

    def ok(url: str, base: str | None = None) -> bool:
        return trusted_by(origin_of(url), trusted, base) is not None

    assert ok("https://api-eu.mixpanel.com/x")
    assert ok("https://MIXPANEL.com")
    assert not ok("https://mixpanel.com.evil.example/")
    assert not ok("https://evilmixpanel.com/")
    assert not ok("http://api.mixpanel.com/"), "a trusted host over plain http"
    assert not ok("https://api.mixpanel.com:8443/"), "a trusted host on another port"
    assert ok("http://127.0.0.1:8080/x", base="http://127.0.0.1:8080")
    assert not ok("http://127.0.0.1:19999/x", base="http://127.0.0.1:8080"), "another port"
    assert not ok("https://127.0.0.1:8080/x", base="http://127.0.0.1:8080"), "another scheme"
    assert not ok("http://127.0.0.1/x", base="https://127.0.0.1")


def _bearer_op(url: str = "https://mixpanel.com/api/app/jobs/{{ job }}") -> OperationSpec:
    return OperationSpec(
        key="bearerJob",
        kind="action",
        label="Bearer Job",
        description="",
        inputs=(InputSpec(key="job", label="Job", type="string"),),
        request={
            "method": "GET",
            "url": url,
            "auth": "oauth_token",
            "query": {"token": "{{ connection.projectToken }}"},
        },
        sample={"data": None},
    )


BEARER_CONNECTION = {"projectToken": "tok-abcdef123", "oauthToken": "oauth-0123456789abcdef"}


def test_bearer_scheme_sends_the_token_and_masks_it_everywhere() -> None:
    request, header = COMPONENT.prepare(_bearer_op(), {"job": "j1"}, BEARER_CONNECTION)
    assert header == "Bearer oauth-0123456789abcdef"
    assert request.auth_scheme == "oauth_token"
    shown = json.dumps(request.to_dict())
    assert '"Authorization": "***"' in shown and '?token=***"' in shown
    assert "oauth-0123456789abcdef" not in shown and "tok-abcdef123" not in shown
    assert "oauth-0123456789abcdef" not in repr(request) + str(pickle.loads(pickle.dumps(request)))
    assert request.secrets.text(f"saw {header} in a log") == "saw *** in a log"
    assert request.credentials_to.startswith("https://mixpanel.com")


def test_bearer_scheme_without_its_token_names_the_field() -> None:
    with pytest.raises(InputError) as caught:
        COMPONENT.prepare(_bearer_op(), {"job": "j1"}, {"projectToken": "tok-abcdef123"})
    assert [p.key for p in caught.value.errors] == ["oauthToken"]
    assert "authentication oauth_token (OAuth Token (`oauthToken`))" in str(caught.value)


def test_bearer_token_goes_only_to_trusted_hosts() -> None:
    op = _bearer_op("https://{{ job }}/api/app")
    with pytest.raises(InputError) as caught:
        COMPONENT.prepare(op, {"job": "evil.example"}, BEARER_CONNECTION)
    assert "is not a Mixpanel host" in str(caught.value)
    assert "oauth-0123456789abcdef" not in str(caught.value)
