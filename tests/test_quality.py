"""The code stays ruff-clean, ruff-formatted and mypy-strict clean; CI runs these as tests."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from hashlib import sha1
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHECKS = {
    "ruff-lint": ["ruff", "check", "connector", "tests", "tests_engines", "tools"],
    "ruff-format": ["ruff", "format", "--check", "connector", "tests", "tests_engines", "tools"],
    "mypy-strict": ["mypy"],
}


# Caches live outside the checkout (one folder per checkout, reused between runs).
CACHE = Path(tempfile.gettempdir()) / "mixpanel-connector-quality" / sha1(bytes(ROOT)).hexdigest()


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_tool_is_clean(name: str) -> None:
    env = {
        **os.environ,
        "MYPY_CACHE_DIR": str(CACHE / "mypy"),
        "RUFF_CACHE_DIR": str(CACHE / "ruff"),
    }
    result = subprocess.run(
        [sys.executable, "-m", *CHECKS[name]], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
