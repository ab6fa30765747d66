"""The suite's own home, cache, state and temp folders, and the check that nothing else was touched.

`redirect()` runs before anything else in a suite (tests/conftest.py and tests_engines/conftest.py
call it first, and import `nothing_written_outside` and `pytest_sessionfinish` from here): it
makes one temporary folder for the run and points the home, the XDG cache, state, config and
data directories, the temp dir and the spec cache into it, in the environment, so every
subprocess a test starts inherits them. `Watch.changes()` then lists what appeared in the
user's real places meanwhile; conftest fails the run when it lists anything, and removes the
run's folder at the end (it is kept, and named, when the run failed).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
import pytest

APP = "mixpanel-connector"
#: The environment variables the run points at its own folder (`REDIRECTED[name]` is the
#: path inside it); subprocesses inherit them.
REDIRECTED = {
    "HOME": "home",
    "XDG_CACHE_HOME": "home/.cache",
    "XDG_STATE_HOME": "home/.local/state",
    "XDG_CONFIG_HOME": "home/.config",
    "XDG_DATA_HOME": "home/.local/share",
    "TMPDIR": "tmp",
    "MIXPANEL_CONNECTOR_CACHE": "spec-cache",
}
#: Files the run's variables point at (their folders are made): the local key that state
#: files' digests are made with.
REDIRECTED_FILES = {"MIXPANEL_CONNECTOR_LOCAL_KEY": "local-key/local.key"}


#: The names this suite's stack gives what it puts in a temp dir: Python's `tempfile` defaults
#: (`tmp` and 8 random characters), pytest's, multiprocessing's, Valkey's and this project's.
#: Other programs of the machine write into the shared temp dir while the suite runs (a browser,
#: another job's own files): their names are not the suite's, and are not counted.
OURS_IN_TEMP = re.compile(r"tmp[a-z0-9_]{8}|pytest-of-|pymp-|valkey-|spec-cache-|mixpanel|engine-")


def _entries(folder: Path) -> set[str]:
    try:
        return set(os.listdir(folder))
    except OSError:
        return set()


def _tree(folder: Path) -> set[str]:
    """Every path under `folder`, relative to it (empty when it does not exist)."""
    if not folder.is_dir():
        return set()
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@dataclass
class Watch:
    """The user's real places as they were before the run, and the run's own folder."""

    root: Path
    home: Path
    temp: Path
    #: The user's cache and state roots (~/.cache, ~/.local/state on Linux).
    roots: tuple[Path, ...]
    #: The connector's own folders in them, watched to any depth.
    app_dirs: tuple[Path, ...]
    before: dict[Path, set[str]] = field(default_factory=dict)
    clean: bool = False  # the run passed: its folder goes at exit

    def snapshot(self) -> dict[Path, set[str]]:
        tops = {p: _entries(p) for p in (self.home, self.temp, *self.roots)}
        return {**tops, **{p: _tree(p) for p in self.app_dirs}}

    def changes(self) -> list[str]:
        """What appeared in the real places since the run began (the run's folder excepted)."""
        after = self.snapshot()
        new = []
        for place, names in after.items():
            for name in sorted(names - self.before.get(place, set())):
                path = place / name
                if place == self.temp and not OURS_IN_TEMP.match(name):
                    continue
                if path != self.root:
                    new.append(str(path))
        return new


#: Set to the run's folder for the run and its subprocesses (which then redirect nothing).
MARKER = "MIXPANEL_CONNECTOR_TESTS_ROOT"


def redirect() -> Watch | None:
    """Make the run's folder, point the environment into it, and watch the real places.

    None in a subprocess of a run (a test's worker importing the suite): it keeps its parent's
    folders.
    """
    if os.environ.get(MARKER):
        return None
    home = Path.home()
    temp = Path(tempfile.gettempdir())
    roots = (
        Path(platformdirs.user_cache_dir(appauthor=False)),
        Path(platformdirs.user_state_dir(appauthor=False)),
    )
    app_dirs = (
        Path(platformdirs.user_cache_dir(APP, appauthor=False)),
        Path(platformdirs.user_state_dir(APP, appauthor=False)),
        Path(platformdirs.user_data_dir(APP, appauthor=False)),
    )
    root = Path(tempfile.mkdtemp(prefix=f"{APP}-tests-")).resolve()
    watch = Watch(root, home, temp, roots, app_dirs)
    watch.before = watch.snapshot()
    for name, inside in REDIRECTED.items():
        path = root / inside
        path.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    for name, inside in REDIRECTED_FILES.items():
        path = root / inside
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ[name] = str(path)
    os.environ[MARKER] = str(root)
    # Removed at exit, after every exit handler registered later (an engine's own temporary
    # folders inside it, say), which run first.
    atexit.register(_remove_if_clean, watch)
    CURRENT.append(watch)
    tempfile.tempdir = None  # read TMPDIR again: every temporary file of the run goes inside
    return watch


#: The run's places, once `redirect()` made them (None in a subprocess of a run).
CURRENT: list[Watch] = []


def assert_nothing_written(watch: Watch | None) -> None:
    """Fail naming each path that appeared in the user's real places during the run."""
    if watch is None:
        return
    changed = watch.changes()
    assert not changed, (
        "the tests wrote outside their temporary folders (give each test its tmp_path, or the "
        f"suite's redirected home, cache and state): {changed}"
    )


def _remove_if_clean(watch: Watch) -> None:
    if watch.clean:
        shutil.rmtree(watch.root, ignore_errors=True)


def finish(watch: Watch | None, session: Any, exitstatus: int) -> None:
    """After a clean run its folder goes at exit; after a failure it is kept, and named."""
    if watch is None:
        return
    watch.clean = exitstatus == 0
    if watch.clean:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"the run's temporary folders are kept in {watch.root}")


@pytest.fixture(scope="session", autouse=True)
def nothing_written_outside() -> Iterator[None]:
    """The run wrote nothing into the user's home, cache, state or temp directories."""
    yield
    assert_nothing_written(CURRENT[0] if CURRENT else None)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The run's folder goes with the run; kept, and named, when something failed."""
    finish(CURRENT[0] if CURRENT else None, session, exitstatus)
