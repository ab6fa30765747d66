"""A generic store over a fresh in-memory database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connector.sandbox.models.database import Database
from connector.sandbox.models.resources import Resources


@pytest.fixture
def store() -> Iterator[Resources]:
    db = Database()
    yield Resources(db)
    db.close()
