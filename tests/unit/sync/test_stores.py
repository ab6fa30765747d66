"""Sync state stores: a file, SQLite and Redis keep one document per slot; bad URLs are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.errors import StateError
from connector.sync.stores import open_state
from tests.budgets.conftest import redis_url  # noqa: F401 - the session's Redis server


@pytest.mark.parametrize("kind", ["file", "file-url", "sqlite", "redis", "memory"])
def test_each_store_keeps_one_document_per_slot(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = {
        "file": str(tmp_path / "state.json"),
        "file-url": f"file://{tmp_path}/state.json",
        "sqlite": f"sqlite:///{tmp_path}/state.db",
        "memory": "memory",
    }.get(kind) or f"{request.getfixturevalue('redis_url')}?prefix={tmp_path.name}"
    one, two = open_state(url, "one"), open_state(url, "two")
    assert one.load() is None
    one.save(b"first")
    one.save(b"second")
    assert one.load() == b"second"
    if kind not in ("file", "file-url"):  # a file is one sync's
        assert two.load() is None
    assert "password" not in one.where
    with one.locked(5), pytest.raises(StateError, match="another run of this sync"):
        with one.locked(0.3):
            pass  # a second run of the same sync waits, then gives up
    with one.locked(0.3):
        if kind not in ("file", "file-url"):
            with two.locked(0.3):
                pass  # another sync's lock is its own


def test_an_unknown_scheme_is_refused_with_the_choices() -> None:
    with pytest.raises(StateError, match="sqlite:///PATH, redis://"):
        open_state("postgres://user:secret@db/x", "s")
    with pytest.raises(StateError) as caught:
        open_state("ftp://user:secret@host/x", "s")
    assert "secret" not in str(caught.value)
