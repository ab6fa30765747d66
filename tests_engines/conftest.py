"""Fixtures both engines' tests share: a sandbox per test, and what must never reach a log."""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Iterator

import pytest

from connector.sandbox import Sandbox
from tests import isolation
from tests.isolation import nothing_written_outside, pytest_sessionfinish  # noqa: F401

from .readme import sandbox_options

# As in the main suite: home, cache, state, temp dir and spec cache in a folder of this run (so
# the engines' own homes, ~/airflow, ~/.prefect, a Dagster home, land there too), checked and
# removed at the end (tests/isolation.py).
WATCH = isolation.redirect()
# Budgets in a SQLite store as in production (where it is shared by every task on the host), but
# in a file of this test run's own, so engine tests never draw on the user's budget file.
BUDGETS = os.path.join(tempfile.mkdtemp(prefix="engine-budgets-"), "budgets.sqlite3")
os.environ["MIXPANEL_CONNECTOR_BUDGETS"] = f"sqlite:///{BUDGETS}"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb
        assert sb.errors == []  # every answer the sandbox gave was deliberate


@pytest.fixture
def readme_sandbox() -> Iterator[Sandbox]:
    """A sandbox with the credentials and project of the README's engine examples (any port)."""
    with Sandbox(**sandbox_options()) as sb:
        yield sb
        assert sb.errors == []


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def secrets_of(connection: dict[str, str]) -> list[str]:
    """Every secret and derived header value that must never reach a log."""
    service = basic(connection["username"], connection["password"]).split()[1]
    token = basic(connection["projectToken"], "").split()[1]
    oauth = [connection["oauthToken"]] if connection.get("oauthToken") else []
    return [connection["password"], connection["projectToken"], service, token, *oauth]
