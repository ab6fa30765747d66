"""A sandbox per test module, and a component that talks to it with budgets of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector import Component, load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb
        assert sb.errors == []  # no route raised: every answer was deliberate


@pytest.fixture
def component(sandbox: Sandbox) -> Component:
    return load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
