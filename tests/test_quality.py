"""The code stays ruff-clean, ruff-formatted and mypy-strict clean; CI runs these as tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CODE = ["connector", "tests", "tests_engines", "tests_browser", "tools"]
CHECKS = {
    "ruff-lint": ["ruff", "check", *CODE],
    "ruff-format": ["ruff", "format", "--check", *CODE],
    "mypy-strict": ["mypy"],
}

# Their caches stay in the checkout (.mypy_cache, .ruff_cache: git ignores them), reused between
# runs; never in the temp or home directory.
CACHE = ROOT


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_tool_is_clean(name: str) -> None:
    env = {
        **os.environ,
        "MYPY_CACHE_DIR": str(CACHE / ".mypy_cache"),
        "RUFF_CACHE_DIR": str(CACHE / ".ruff_cache"),
    }
    result = subprocess.run(
        [sys.executable, "-m", *CHECKS[name]], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
