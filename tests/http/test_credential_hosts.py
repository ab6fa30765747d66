"""Credentials go only where the trust rule says, judged on the URL actually sent.

Each case points a request at a loopback listener that records what it receives: a refused
request must reach it not at all, and the error must name the input by label and key.
"""

from __future__ import annotations

import json
import random

import pytest

from connector import Component, InputError, load_specs
from connector.budgets.memory import BudgetRegistry
from connector.cli import main
from connector.core.redact import basic_header
from connector.send.policy import RetryPolicy
from tests.conftest import TEST_CONNECTION
from tests.http.listener import Listener

ONE_TRY = RetryPolicy(max_attempts=1)
BASIC = basic_header(TEST_CONNECTION["username"], TEST_CONNECTION["password"])


def _component(base_url: str | None = None) -> Component:
    return Component(
        load_specs(),
        base_url=base_url,
        retry=ONE_TRY,
        rate_registry=BudgetRegistry(),
        rng=random.Random(1),
    )


def _raw(base: str, url: str, **extra: str) -> dict[str, str]:
    return {"baseUrl": base, "url": url, "method": "GET", **extra}


def test_a_backslash_before_the_at_sign_sends_nothing_anywhere(listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}\\@api.mixpanel.com/x"
    component = _component()
    with pytest.raises(InputError) as caught:
        component.run("rawRequest", _raw("https://api.mixpanel.com", url), TEST_CONNECTION)
    assert [(p.key, p.label) for p in caught.value.errors] == [("url", "URL")]
    assert "backslash" in str(caught.value)
    with pytest.raises(InputError):
        component.preview("rawRequest", _raw("https://api.mixpanel.com", url), TEST_CONNECTION)
    assert listener.requests == []


def test_the_cli_refuses_the_backslash_url_with_one_line(
    listener: Listener, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MIXPANEL_BASE_URL", raising=False)
    for name, value in TEST_CONNECTION.items():
        monkeypatch.setenv(f"MIXPANEL_{name.upper()}", value)
    url = f"http://127.0.0.1:{listener.port}\\@api.mixpanel.com/x"
    args = ["run", "rawRequest", "-i", "baseUrl=https://api.mixpanel.com", "-i", f"url={url}"]
    for dry in ([], ["--dry-run"]):
        assert main([*args, "-i", "method=GET", *dry]) == 2
        err = capsys.readouterr().err
        assert "URL (`url`)" in err and "backslash" in err
    assert listener.requests == []


def test_create_generic_pipeline_refuses_the_same_trick(listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}\\@data.mixpanel.com/x"
    inputs = {"url": url, "data": json.dumps({"type": "bigquery"})}
    with pytest.raises(InputError) as caught:
        _component().preview("createGenericPipeline", inputs, TEST_CONNECTION)
    assert [(p.key, p.label) for p in caught.value.errors] == [("url", "URL")]
    with pytest.raises(InputError):
        _component().run("createGenericPipeline", inputs, TEST_CONNECTION)
    assert listener.requests == []


@pytest.mark.parametrize(
    "trick",
    [
        "http://u:pw@127.0.0.1:{port}/x",
        "http://127.0.0.1:{port}@api.mixpanel.com/x",
        "http://api.mixpanel.com@127.0.0.1:{port}/x",
        "http://127.0.0.1:{port}\t/x",
        "http://127.0.0.1:{port}\x00/x",
        "http://127.0.0.1:{port}%2f@api.mixpanel.com/x",
        "http://127.0.0.1\u3002:{port}/x",
    ],
)
def test_ambiguous_urls_are_refused_before_anything_is_sent(listener: Listener, trick: str) -> None:
    url = trick.format(port=listener.port)
    with pytest.raises(InputError) as caught:
        _component().run("rawRequest", _raw("https://api.mixpanel.com", url), TEST_CONNECTION)
    assert caught.value.errors[0].key == "url"
    assert "pw" not in str(caught.value) and TEST_CONNECTION["password"] not in str(caught.value)
    assert listener.requests == []


def test_the_base_url_is_trusted_on_its_port_only(listener: Listener) -> None:
    base = "http://127.0.0.1:1"  # nothing listens there; it must not matter
    url = f"http://127.0.0.1:{listener.port}/x"
    with pytest.raises(InputError, match="scheme and port"):
        _component(base).run("rawRequest", _raw(base, url), TEST_CONNECTION)
    assert listener.requests == []


def test_an_https_base_url_does_not_trust_plain_http(listener: Listener) -> None:
    base = f"https://127.0.0.1:{listener.port}"
    url = f"http://127.0.0.1:{listener.port}/x"
    with pytest.raises(InputError, match="scheme and port"):
        _component(base).run("rawRequest", _raw(base, url), TEST_CONNECTION)
    assert listener.requests == []


def test_the_base_url_itself_gets_the_credentials(listener: Listener) -> None:
    base = f"http://127.0.0.1:{listener.port}"
    component = _component(base)
    assert component.run("rawRequest", _raw(base, "/x"), TEST_CONNECTION) == {"data": {}}
    assert listener.authorizations == [BASIC]
    [shown] = component.preview("rawRequest", _raw(base, "/x"), TEST_CONNECTION)
    assert shown["credentials_to"] == f"{base} (the base URL {base})"


def test_a_trusted_host_over_plain_http_is_refused() -> None:
    with pytest.raises(InputError, match="scheme and port"):
        _component().preview("rawRequest", _raw("http://api.mixpanel.com", "/x"), TEST_CONNECTION)


def test_a_base_url_with_user_and_password_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        _component("http://u:hunter2@127.0.0.1:8080")
    assert [(p.key, p.label) for p in caught.value.errors] == [("base_url", "Base URL")]
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize("base", ["http://[::1", "http://127.0.0.1:99999", "ftp://h", "h:80"])
def test_a_malformed_base_url_is_an_input_error(base: str) -> None:
    with pytest.raises(InputError, match=r"Base URL \(`base_url`\)"):
        _component(base)


def test_the_cli_names_a_malformed_base_url(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", "listSavedFunnels", "-i", "project_id=1", "--dry-run"]
    assert main([*args, "--base-url", "http://u:hunter2@127.0.0.1:99999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Base URL (`base_url`)" in err and "hunter2" not in err


def test_a_malformed_base_url_in_the_environment_is_named(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIXPANEL_BASE_URL", "http://[::1")
    assert main(["run", "listSavedFunnels", "-i", "project_id=1", "--dry-run"]) == 2
    assert "MIXPANEL_BASE_URL" in capsys.readouterr().err


def test_allowed_any_host_still_says_where_credentials_go(listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/x"
    inputs = _raw("https://api.mixpanel.com", url, allowAnyHost="true")
    [shown] = _component().preview("rawRequest", inputs, TEST_CONNECTION)
    assert shown["credentials_to"] == (
        f"http://127.0.0.1:{listener.port} (sending credentials to any host is allowed)"
    )
    assert listener.requests == []


def test_a_trusted_host_dry_run_names_the_rule() -> None:
    [shown] = _component().preview(
        "rawRequest", _raw("https://api.mixpanel.com", "/x"), TEST_CONNECTION
    )
    assert shown["credentials_to"] == "https://api.mixpanel.com (trusted host *.mixpanel.com)"


@pytest.mark.parametrize("trick", ["\\@", "%5C@", "@"])
def test_a_redirect_to_an_ambiguous_url_is_not_followed(listener: Listener, trick: str) -> None:
    from connector.errors import RedirectError
    from tests.http.listener import listening

    # The redirecting server names itself after the trick; urlsplit reads the target as that
    # server (so credentials would stay) while requests would connect to the listener.
    with listening() as probe:
        port = probe.port
    location = f"http://127.0.0.1:{listener.port}{trick}127.0.0.1:{port}/x".encode()
    answer = b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n"
    answer += b"Connection: close\r\n\r\n"
    with listening(answer) as redirecting:
        base = f"http://127.0.0.1:{redirecting.port}"
        with pytest.raises(RedirectError, match="redirecting to a URL that .*; not followed"):
            _component(base).run("rawRequest", _raw(base, "/start"), TEST_CONNECTION)
        assert redirecting.authorizations == [BASIC]
    assert listener.requests == []
