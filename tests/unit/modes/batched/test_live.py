"""Runs of one process under the same kept note share one live limit: never more in flight."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from connector import load_component
from connector.modes.batched.aimd import AdaptiveLimit
from connector.modes.batched.live import live_count, shared

from .test_remembered_run import CONNECTION, PROJECT, _events, _overlay, capped_server


def _runs(url: str, budgets: str, overlay: Path, n: int, workers: int | None = None) -> list[Any]:
    """`n` imports of 100 requests each, at once on threads of one process."""
    component = load_component(base_url=url, budgets=budgets, spec_paths=[overlay])
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def one(i: int) -> None:
        start.wait()
        inputs = {"events": _events(100 * 50), "project_id": PROJECT}
        results[i] = component.run("importEvents", inputs, CONNECTION, workers=workers)["data"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_runs_at_once_never_have_more_than_the_ceiling_in_flight(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path / "specs")
    with capped_server(cap=1000, latency=0.08) as (url, counts):
        results = _runs(url, "memory", overlay, 2)
    assert [r["records_imported"] for r in results] == [5000, 5000]
    assert counts.throttled == 0
    assert 12 <= counts.peak <= 16  # one limit of 16 for both, and they used it
    assert live_count() == 0  # the last run to end let it go


def test_a_single_run_has_its_own_limit_as_before(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path / "specs")
    with capped_server(cap=1000, latency=0.08) as (url, counts):
        (result,) = _runs(url, "memory", overlay, 1)
    assert result["records_imported"] == 5000
    assert 12 <= counts.peak <= 16 and live_count() == 0


def test_a_pinned_number_of_workers_is_each_runs_own(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path / "specs")
    with capped_server(cap=1000, latency=0.08) as (url, counts):
        results = _runs(url, "memory", overlay, 2, workers=4)
    assert [r["records_imported"] for r in results] == [5000, 5000]
    assert counts.peak > 4  # two runs of 4 each, not sharing
    assert live_count() == 0


def test_a_run_that_joins_shares_the_first_runs_limit_and_answers() -> None:
    made: list[AdaptiveLimit] = []

    def make() -> AdaptiveLimit:
        made.append(AdaptiveLimit(16))
        return made[-1]

    with shared("n", make) as first:
        first.answered.set()
        with shared("n", make) as second, shared("other", make) as other:
            assert second.limit is first.limit and second.joined and not first.joined
            assert second.answered.is_set() and not other.answered.is_set()
            assert other.limit is not first.limit
        assert live_count() == 1
    assert live_count() == 0 and len(made) == 2


def test_two_runs_of_a_fleet_process_share_its_fleet_limit(tmp_path: Path) -> None:
    overlay = _overlay(tmp_path / "specs")
    budgets = f"sqlite:///{tmp_path / 'budgets.sqlite3'}"
    with capped_server(cap=1000, latency=0.08) as (url, counts):
        results = _runs(url, budgets, overlay, 2)
    assert [r["records_imported"] for r in results] == [5000, 5000]
    assert counts.peak <= 16 and live_count() == 0
