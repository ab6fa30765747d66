"""The suite writes only inside its own folders, and a run that writes elsewhere fails."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import platformdirs
import pytest

from tests import isolation
from tests.conftest import ROOT, WATCH


def test_this_run_has_its_own_home_cache_state_and_temp_dir() -> None:
    assert WATCH is not None or os.environ.get(isolation.MARKER)
    root = Path(os.environ[isolation.MARKER])
    for place in (
        Path.home(),
        Path(platformdirs.user_cache_dir("mixpanel-connector")),
        Path(platformdirs.user_state_dir("mixpanel-connector")),
        Path(tempfile.gettempdir()),
        Path(os.environ["MIXPANEL_CONNECTOR_CACHE"]),
    ):
        assert root in place.resolve().parents


def test_a_subprocess_inherits_the_run_s_places() -> None:
    script = (
        "import pathlib, tempfile, platformdirs;"
        "print(pathlib.Path.home(), tempfile.gettempdir(),"
        " platformdirs.user_state_dir('mixpanel-connector'))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    root = os.environ[isolation.MARKER]
    assert all(part.startswith(root) for part in out.stdout.split())


PROBE = """
import os
from pathlib import Path

def test_writes_where_it_was_told() -> None:
    target = Path(os.environ["PROBE_TARGET"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("left behind")
"""


@pytest.mark.parametrize(
    ("where", "caught"),
    [
        ("home/.cache/mixpanel-connector/specs-1.pickle", True),
        ("home/.local/state/mixpanel-connector/checkpoints/x.json", True),
        ("home/airflow", True),
        ("tmp/spec-cache-abcd1234", True),
        ("tmp/tmpab_cd123", True),
        ("tmp/.X11-unix-of-another-program", False),  # not a name the suite's stack makes
    ],
)
def test_a_run_that_writes_outside_fails_and_names_the_path(
    tmp_path: Path, where: str, caught: bool
) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "tmp").mkdir()
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    redirected = {*isolation.REDIRECTED, *isolation.REDIRECTED_FILES}
    env = {k: v for k, v in os.environ.items() if k not in redirected}
    env.pop(isolation.MARKER)
    env.update(HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path / "tmp"))
    env["PROBE_TARGET"] = str(tmp_path / where)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest"]
    result = subprocess.run(
        [*argv, "--rootdir", str(tmp_path), str(probe)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if caught:
        assert result.returncode == 1, result.stdout + result.stderr
        assert "the tests wrote outside their temporary folders" in result.stdout
        assert str(tmp_path / where).split("/mixpanel-connector/")[0] in result.stdout
        assert "the run's temporary folders are kept in" in result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert not [p for p in (tmp_path / "tmp").iterdir() if p.name.startswith("mixpanel")]
