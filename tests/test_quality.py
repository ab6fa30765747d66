"""The code stays ruff-clean, ruff-formatted and mypy-strict clean; CI runs these as tests."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

CHECKS = {
    "ruff-lint": ["ruff", "check", "connector", "tests", "tests_engines", "tools"],
    "ruff-format": ["ruff", "format", "--check", "connector", "tests", "tests_engines", "tools"],
    "mypy-strict": ["mypy"],
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_tool_is_clean(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *CHECKS[name]], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
