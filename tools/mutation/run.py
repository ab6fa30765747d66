"""Runs the tests that cover each operation against each of its mutants, in one pytest session.

pytest collects the candidate tests once. Our plugin then takes over the run loop: a coverage
pass runs every test and records which operations each test renders from specs it loaded
itself (a test rendering from specs cached at import cannot see a mutant, so it does not
count). Then, per mutant, one spec file in a temporary copy of the specs is rewritten,
`connector.catalog.specs_root` points there, and that operation's tests run again, cassette
tests first, stopping at the first failure (the mutant is killed). Each test run tears all its
fixtures down, so runs share no state but the imported modules.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from _pytest.runner import runtestprotocol

import connector
from connector import catalog
from connector.catalog.cache import CACHE_ENV

from .generate import Mutant

PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-W", "ignore"]
_HOME = {
    "build_component": "catalog.build",
    "render_request": "prepare.render",
    "specs_root": "catalog.load",
}


@dataclass
class Outcome:
    """What happened to one mutant: killed | rejected (by the spec checks) | survived."""

    mutant: Mutant
    status: str
    detail: str = ""


def _holds(module: Any, name: str, value: Any) -> bool:
    try:
        return getattr(module, name, None) is value
    except Exception:  # noqa: BLE001 - lazy modules may fail on attribute access
        return False


@contextlib.contextmanager
def _replaced(name: str, replacement: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """Replace a runtime function in every loaded module that holds it.

    Tests that imported it by name are included. Yields the original.
    """
    original = getattr(sys.modules[f"{connector.__name__}.{_HOME[name]}"], name)
    holders = [m for m in list(sys.modules.values()) if _holds(m, name, original)]
    for module in holders:
        setattr(module, name, replacement)
    try:
        yield original
    finally:
        for module in holders:
            setattr(module, name, original)


@dataclass(eq=False)
class _Watch:
    """Which operations were built from the specs (in this test) and which were rendered."""

    fresh: set[int] = field(default_factory=set)
    rendered: set[str] = field(default_factory=set)

    def _note_fresh(self, table: Any) -> None:
        """Note the operations of `table` as built from the specs, as each is built.

        The spec cache builds its operations on first use (connector.catalog.lazy): the table's
        maker is wrapped, so noting them builds none that the test would not have built.
        """
        make: Callable[[Any], Any] | None = getattr(table, "_make", None)
        if make is None:
            self.fresh.update(id(op) for op in table.values())
            return
        self.fresh.update(id(op) for op in getattr(table, "_built", {}).values())

        def build(stored: Any) -> Any:
            op = make(stored)
            self.fresh.add(id(op))
            return op

        table._make = build

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        originals: dict[str, Callable[..., Any]] = {}

        def build_component(*args: Any, **kwargs: Any) -> Any:
            component = originals["build_component"](*args, **kwargs)
            for table in (component.actions, component.data_sources):
                self._note_fresh(table)
            return component

        def render_request(op: Any, *args: Any, **kwargs: Any) -> Any:
            if id(op) in self.fresh:
                self.rendered.add(op.key)
            return originals["render_request"](op, *args, **kwargs)

        with (
            _replaced("build_component", build_component) as originals["build_component"],
            _replaced("render_request", render_request) as originals["render_request"],
        ):
            yield


@contextlib.contextmanager
def specs_at(root: Path) -> Iterator[None]:
    """Make every spec load in this process read `root`."""
    with _replaced("specs_root", lambda: root):
        yield


def _write(root: Path, mutant: Mutant, source: Path) -> None:
    doc = yaml.safe_load((source / mutant.file).read_text(encoding="utf-8"))
    mutant.apply(doc)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=4096)
    (root / mutant.file).write_text(text, encoding="utf-8")


def _kill_order(nodeid: str) -> tuple[int, str]:
    return (0 if nodeid.startswith("tests/integration/") else 1, nodeid)


@dataclass(eq=False)
class _Loop:
    """The pytest plugin that replaces the run loop with the coverage pass and the mutants."""

    mutants: list[Mutant]
    source: Path
    progress: Callable[[Outcome], None]
    outcomes: list[Outcome] = field(default_factory=list)
    covered: dict[str, list[str]] = field(default_factory=dict)
    coverage_s: float = 0.0

    def _run(self, item: Any, watch: _Watch) -> str | None:
        """Run one test with all fixtures torn down after; the failing phase, if any."""
        watch.fresh.clear()
        for report in runtestprotocol(item, log=False, nextitem=None):
            if report.failed:
                return f"{item.nodeid} ({report.when})"
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        started = time.perf_counter()
        watch = _Watch()
        with watch.installed():
            for item in session.items:
                watch.rendered.clear()
                failed = self._run(item, watch)
                if failed:
                    raise SystemExit(f"the tests fail without any mutant: {failed}")
                for key in watch.rendered:
                    self.covered.setdefault(key, []).append(item.nodeid)
            self.coverage_s = time.perf_counter() - started
            by_id = {item.nodeid: item for item in session.items}
            with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
                work = Path(tmp) / "specs"
                shutil.copytree(self.source, work)
                with specs_at(work):
                    for mutant in self.mutants:
                        tests = sorted(self.covered.get(mutant.operation, []), key=_kill_order)
                        outcome = self._mutant(mutant, work, [by_id[t] for t in tests], watch)
                        self.outcomes.append(outcome)
                        self.progress(outcome)
        return True

    def _mutant(self, mutant: Mutant, work: Path, items: list[Any], watch: _Watch) -> Outcome:
        _write(work, mutant, self.source)
        try:
            _, problems = catalog.check_specs(work)
            if problems:
                return Outcome(mutant, "rejected", problems[0].message)
            for item in items:
                failed = self._run(item, watch)
                if failed:
                    return Outcome(mutant, "killed", failed)
            return Outcome(mutant, "survived", f"{len(items)} tests passed")
        finally:
            shutil.copyfile(self.source / mutant.file, work / mutant.file)


def run(
    mutants: list[Mutant],
    source: Path,
    test_args: list[str],
    progress: Callable[[Outcome], None],
) -> tuple[list[Outcome], float]:
    """Run every mutant against the tests that render its operation.

    Returns the outcomes and the seconds the coverage pass took.
    """
    loop = _Loop(mutants, source, progress)
    output = io.StringIO()
    with (
        tempfile.TemporaryDirectory(prefix="mutants-cache-") as cache,
        _environment(CACHE_ENV, cache),
        contextlib.redirect_stdout(output),
        contextlib.redirect_stderr(output),
    ):
        code = pytest.main([*PYTEST_ARGS, *test_args], plugins=[loop])
    if code not in (0, 1) or len(loop.outcomes) != len(mutants):
        raise SystemExit(f"pytest exit {code}:\n{output.getvalue()[-3000:]}")
    return loop.outcomes, loop.coverage_s


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    """Return the function's result and its wall time in seconds."""
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started
