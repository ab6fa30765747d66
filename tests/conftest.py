"""Shared fixtures: a fake connection, the component, and cassette settings that scrub secrets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from connector import Component, load_component
from connector.budgets.memory import BudgetRegistry
from connector.catalog.load import load_specs
from connector.core.redact import basic_header
from connector.send.attempts import NO_RETRY
from tests import isolation
from tests.isolation import nothing_written_outside, pytest_sessionfinish  # noqa: F401
from tests.output_check import checked_against_output_schema
from tests.wire_match import fingerprint_request, wire_matcher

# CI draws the same examples on every run, so a result does not depend on the run's seed; a
# developer's runs keep exploring new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
# Before anything can write: home, cache, state, temp dir and spec cache in a folder of this
# run, inherited by every subprocess (tests/isolation.py); checked and removed at the end.
WATCH = isolation.redirect()

# Fake credentials: never valid anywhere; a test proves none of them reaches a cassette.
TEST_CONNECTION = {
    "username": "test-service-account.7f3a1c",
    "password": "TESTSECRETc0ffee5ca1ab1e0123456789",
    "projectToken": "TESTTOKENdeadbeef00112233445566",
    "oauthToken": "TESTOAUTHfeedface8899aabbccddeeff",
}
# Recording against a real project is a local step (docs/development.md, "Recording cassettes"):
# with MIXPANEL_RECORD=1 the tests use the real credentials from the environment, and the filters
# below scrub those values too.
RECORDING = os.environ.get("MIXPANEL_RECORD") == "1"
REAL_CONNECTION = {
    "username": os.environ.get("MIXPANEL_USERNAME", ""),
    "password": os.environ.get("MIXPANEL_PASSWORD", ""),
    "projectToken": os.environ.get("MIXPANEL_PROJECT_TOKEN", ""),
    "oauthToken": os.environ.get("MIXPANEL_OAUTH_TOKEN", ""),
}


def _secrets_of(connection: dict[str, str]) -> tuple[str, ...]:
    values = (
        connection["password"],
        connection["projectToken"],
        connection["oauthToken"],
        basic_header(connection["username"], connection["password"]).split()[1],
        basic_header(connection["projectToken"], "").split()[1],
    )
    return tuple(v for v in values if len(v) >= 4)


SECRET_VALUES = _secrets_of(TEST_CONNECTION)
SCRUBBED_VALUES = SECRET_VALUES + (_secrets_of(REAL_CONNECTION) if RECORDING else ())
TOKEN_VALUES = {TEST_CONNECTION["projectToken"], REAL_CONNECTION["projectToken"]} - {""}
TOKEN_PLACEHOLDER = "<PROJECT_TOKEN>"


def _scrub(text: str) -> str:
    for secret in SCRUBBED_VALUES:
        text = text.replace(secret, TOKEN_PLACEHOLDER if secret in TOKEN_VALUES else "<SECRET>")
    return text


def _auth_headers(connection: dict[str, str]) -> dict[str, str]:
    """Each header the connection's auth schemes produce (Basic, Bearer), mapped to its name."""
    headers = {}
    for name, scheme in load_specs().connection.auth_schemes.items():
        if scheme.type == "bearer" and connection.get(scheme.token or ""):
            headers[f"Bearer {connection[scheme.token or '']}"] = name
        username = connection.get(scheme.username or "", "")
        if scheme.type == "basic" and username:
            password = connection.get(scheme.password, "") if scheme.password else ""
            headers[basic_header(username, password)] = name
    return headers


KNOWN_AUTH = {
    **_auth_headers(TEST_CONNECTION),
    **(_auth_headers(REAL_CONNECTION) if RECORDING else {}),
}


def _scrub_request(request: Any) -> Any:
    """Mask the auth header to its scheme, decompress declared gzip, remove credentials."""
    return fingerprint_request(request, KNOWN_AUTH, _scrub)


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {
        k: v for k, v in response["headers"].items() if k.lower() not in {"set-cookie", "cookie"}
    }
    return response


class NothingMayBeSent:
    """A transport that fails the test if any request would be sent."""

    def send(self, request: Any, authorization: str | None) -> Any:
        raise AssertionError(f"nothing may be sent, but {request!r} was")


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    return {
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "match_on": ["wire"],
        "decode_compressed_response": True,
    }


def pytest_recording_configure(config: Any, vcr: Any) -> None:
    vcr.register_matcher("wire", wire_matcher)


@pytest.fixture
def vcr_cassette_dir(request: pytest.FixtureRequest) -> str:
    return str(CASSETTES / request.module.__name__.rsplit(".", 1)[-1])


@pytest.fixture(autouse=True)
def _budgets_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate budgets stay in the test process (not the user's state directory) unless a test
    chooses a store; subprocesses started by the test inherit the choice."""
    monkeypatch.setenv("MIXPANEL_CONNECTOR_BUDGETS", "memory")


@pytest.fixture
def component(monkeypatch: pytest.MonkeyPatch) -> Iterator[Component]:
    """The component for cassette tests: one attempt (a cassette holds one exchange per call)
    and a fresh rate-budget registry, so tests never wait or share budgets."""
    monkeypatch.delenv("MIXPANEL_BASE_URL", raising=False)
    component = load_component(retry=NO_RETRY, rate_registry=BudgetRegistry())
    component.run = checked_against_output_schema(component)  # type: ignore[method-assign]
    yield component


@pytest.fixture
def connection() -> dict[str, str]:
    return dict(REAL_CONNECTION if RECORDING else TEST_CONNECTION)
