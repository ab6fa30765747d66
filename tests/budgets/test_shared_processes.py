"""The proof: six processes share one store (SQLite, then Redis) and a loopback server counts
what reaches it. Windows, concurrency and a killed holder's slot are all measured there: the
windows at the sandbox (the local Mixpanel stand-in, which logs each request's arrival), the
concurrency at a recording server that stamps each completion before its answer leaves (the
sandbox logs it after, which would count an overlap the client never caused)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from connector.budgets import open_budgets
from connector.budgets.memory import BudgetExceeded
from connector.catalog.load import load_specs
from connector.sandbox import Sandbox
from tests.budgets.conftest import RecordingServer, max_in_window, scaled_specs
from tests.conftest import ROOT

PROCESSES = 6
PROJECT = "1234"
EXPORT_INPUTS = {"project_id": PROJECT, "from_date": "2024-01-01", "to_date": "2024-01-02"}
QUERY_INPUTS = {"project_id": PROJECT}
# The export limit with its hour scaled down from 60 to 12, so a test can use it all up.
EXPORT_12 = {
    "per_hour": 12,
    "per_second": 3,
    "label": "Raw Export API",
    "unit": "queries",
    "scope": "project",
}
QUERY = {
    "per_hour": 1000,
    "max_concurrent": 5,
    "label": "Query API",
    "unit": "queries",
    "scope": "project",
}


def start_workers(count: int, job: dict[str, Any]) -> list[subprocess.Popen[str]]:
    """Start `count` worker processes and return once every one has loaded the component."""
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.budgets.worker", json.dumps(job)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    return workers


def go(workers: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Let every worker start at once; collect their results."""
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        results.append(json.loads(out.splitlines()[-1]))
    return results


def job(specs: Path, base_url: str, budgets: str, **options: Any) -> dict[str, Any]:
    return {"specs": str(specs), "base_url": base_url, "budgets": budgets, **options}


def test_six_processes_keep_the_export_windows(tmp_path: Path, budgets_url: str) -> None:
    specs = scaled_specs(tmp_path, {"export": EXPORT_12, "query": QUERY})
    with Sandbox() as sandbox:
        sandbox.faults.advertise_limits = False  # the documented (here scaled) limits hold
        inputs = {**EXPORT_INPUTS, "project_id": sandbox.project_id}
        options = {"action": "downloadData", "inputs": inputs, "threads": 1, "calls": 10}
        workers = start_workers(
            PROCESSES,
            job(
                specs,
                sandbox.base_url,
                budgets_url,
                **options,
                rate_wait_s=5.0,
                connection=sandbox.connection,
            ),
        )
        results = go(workers)
        served = [r for r in sandbox.store.requests() if r["path"] == "/api/2.0/export"]
        base_url = sandbox.base_url

    assert [r["errors"] for r in results] == [[]] * PROCESSES
    assert {r["status"] for r in served} == {200}
    # The hour allows 12: exactly 12 reached the sandbox, then every process was refused.
    assert len(served) == sum(r["ok"] for r in results) == 12
    # Every process that stopped short of its 10 calls was refused once by the budget; since
    # the hour allows 12 calls, at most one process (a fast starter) can make all 10 of its own.
    short = [r for r in results if r["ok"] < options["calls"]]
    assert len(short) >= PROCESSES - 1
    assert all(len(r["refused"]) == 1 for r in short)
    refusals = [m for r in results for m in r["refused"]]
    assert len(refusals) == len(short)
    for message in refusals:
        assert (
            f"Raw Export API budget of 12 queries per hour for project {sandbox.project_id} "
            f"at {base_url} is used up; it frees up in 5"  # "59 min ..." or "58 min ..."
        ) in message
    # Never a fourth request inside one second, as the sandbox saw them (arrival times, ms);
    # 3 did arrive together, so the limit was reached.
    assert max_in_window([r["started"] / 1000 for r in served], 1.0) == 3


def test_six_processes_keep_the_query_concurrency(
    tmp_path: Path, budgets_url: str, slow_server: RecordingServer
) -> None:
    specs = scaled_specs(tmp_path, {"export": EXPORT_12, "query": QUERY})
    options = {"action": "queryProfiles", "inputs": QUERY_INPUTS, "threads": 3, "calls": 3}
    workers = start_workers(
        PROCESSES, job(specs, slow_server.url, budgets_url, **options, rate_wait_s=60.0)
    )
    results = go(workers)

    assert [(r["errors"], r["refused"]) for r in results] == [([], [])] * PROCESSES
    assert len(slow_server.hits) == PROCESSES * 3 * 3
    # 18 threads in 6 processes wanted to run at once; the server never handled more than 5.
    assert slow_server.max_concurrent() == 5


def test_a_killed_process_frees_its_slot(tmp_path: Path, budgets_url: str) -> None:
    specs = scaled_specs(tmp_path, {"export": EXPORT_12, "query": {**QUERY, "max_concurrent": 1}})
    limit = load_specs(specs).rate_limits["query"]
    budget = open_budgets(budgets_url).budget(limit)
    options = {"action": "queryProfiles", "inputs": QUERY_INPUTS, "threads": 1, "calls": 1}
    with RecordingServer(delay_s=60.0) as hanging:
        [worker] = start_workers(
            1, job(specs, hanging.url, budgets_url, **options, rate_wait_s=0.0)
        )
        key = f"{PROJECT} at {hanging.url.rstrip('/')}"  # the project at that host
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
        deadline = time.monotonic() + 30
        while hanging.started == 0:
            assert time.monotonic() < deadline, "the worker's call never reached the server"
            time.sleep(0.02)
        # Mid-call: the worker holds the only slot.
        assert budget.in_flight(key) == 1
        with pytest.raises(BudgetExceeded, match="1 concurrent queries for project 1234"):
            budget.acquire(key, max_wait_s=0)

        worker.kill()  # SIGKILL: no finally block, no atexit
        worker.communicate(timeout=10)
        killed = time.monotonic()
        with budget.acquire(key, max_wait_s=10):
            freed_after = time.monotonic() - killed
        # SQLite: the kernel drops the file lock at once. Redis: the 1 s lease runs out.
        assert freed_after < (1.0 if budgets_url.startswith("sqlite") else 2.5)
        assert budget.in_flight(key) == 0
