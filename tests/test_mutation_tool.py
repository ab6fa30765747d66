"""tools/mutate.py itself: it loads the specs before any test runs, and keeps that to itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from connector.catalog.cache import CACHE_ENV
from connector.core.localkey import LOCAL_KEY_ENV
from tools import mutate


def test_the_tool_writes_nothing_into_the_users_cache_or_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    users_cache, users_key = tmp_path / "user-cache", tmp_path / "user.key"
    monkeypatch.setenv(CACHE_ENV, str(users_cache))
    monkeypatch.setenv(LOCAL_KEY_ENV, str(users_key))
    seen: dict[str, str] = {}

    def no_tests(*args: Any, **kwargs: Any) -> tuple[list[Any], float]:
        seen.update({name: os.environ[name] for name in (CACHE_ENV, LOCAL_KEY_ENV)})
        return [], 0.0

    monkeypatch.setattr(mutate, "run", no_tests)
    assert mutate.main(["--operation", "createAlias"]) == 0
    assert "mutants" in capsys.readouterr().out
    assert not users_cache.exists() and not users_key.exists()
    assert seen and str(tmp_path) not in "".join(seen.values())
    assert (os.environ[CACHE_ENV], os.environ[LOCAL_KEY_ENV]) == (str(users_cache), str(users_key))
