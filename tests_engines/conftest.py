"""Fixtures both engines' tests share: a sandbox per test, and what must never reach a log."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator

import pytest

from connector.sandbox import Sandbox

# Budgets stay inside each test process, so engine tests never draw on a shared budget file.
os.environ["MIXPANEL_CONNECTOR_BUDGETS"] = "memory"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb
        assert sb.errors == []  # every answer the sandbox gave was deliberate


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def secrets_of(connection: dict[str, str]) -> list[str]:
    """Every secret and derived header value that must never reach a log."""
    service = basic(connection["username"], connection["password"]).split()[1]
    token = basic(connection["projectToken"], "").split()[1]
    return [connection["password"], connection["projectToken"], service, token]
