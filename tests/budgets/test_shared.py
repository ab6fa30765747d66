"""SharedBudget over each store: the same answers, errors and waits as the in-process budget."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from connector import Component
from connector.budgets import open_budgets
from connector.budgets.memory import BudgetExceeded, RateLimit
from connector.catalog.load import load_specs
from tests.budgets.conftest import EXPORT_LINE, scaled_specs
from tests.conftest import TEST_CONNECTION

EXPORT_INPUTS = {"project_id": "77", "from_date": "2024-01-01", "to_date": "2024-01-02"}

TWO_PER_SECOND = RateLimit(
    "pairs", per_hour=None, per_second=2, max_concurrent=None, scope="project"
)
ONE_PER_HOUR = RateLimit(
    "hourly", per_hour=1, per_second=None, max_concurrent=None, scope="project"
)
TWO_AT_ONCE = RateLimit(
    "duo", per_hour=None, per_second=None, max_concurrent=2, label="Duo", scope="project"
)


def test_a_used_up_window_refuses_saying_when_it_frees_up(budgets_url: str) -> None:
    budget = open_budgets(budgets_url).budget(TWO_PER_SECOND)
    budget.acquire("p1", max_wait_s=0).release()
    budget.acquire("p1", max_wait_s=0).release()
    with pytest.raises(BudgetExceeded) as caught:
        budget.acquire("p1", max_wait_s=0)
    error = caught.value
    assert error.limit_name == "pairs" and error.key == "p1" and error.status is None
    # The first call left its second 1 s after its answer (less the moments since).
    assert error.wait_s is not None and 0.5 < error.wait_s <= 1.0
    assert error.retry_after_s == error.wait_s
    assert re.fullmatch(
        r"pairs budget of 2 calls per second for project p1 is used up; "
        r"it frees up in (0\.[5-9]|1\.0) s",
        str(error),
    )
    # Another key has its own budget.
    budget.acquire("p2", max_wait_s=0).release()


def test_a_call_waits_for_the_window_when_allowed(budgets_url: str) -> None:
    budget = open_budgets(budgets_url).budget(TWO_PER_SECOND)
    began = time.monotonic()
    for _ in range(3):
        budget.acquire("p1", max_wait_s=5).release()
    # The third call fits once the first has been out of the window (1 s + margin) for a while.
    assert 1.0 <= time.monotonic() - began < 3.0


def test_a_call_counts_from_its_completion(budgets_url: str) -> None:
    # Its request reached the server at some moment before its answer, so a window counted
    # from the grant could let the next window's calls arrive too close after it.
    budget = open_budgets(budgets_url).budget(TWO_PER_SECOND)
    slow = budget.acquire("p1", max_wait_s=0)
    time.sleep(0.9)
    slow.release()
    budget.acquire("p1", max_wait_s=0).release()
    with pytest.raises(BudgetExceeded) as caught:
        budget.acquire("p1", max_wait_s=0)
    # Counted from the grant, the slow call would leave its second within 0.1 s; counted from
    # its answer, 1 s after the release (less the moments this test took since).
    assert caught.value.wait_s is not None and caught.value.wait_s > 0.5


def test_the_hour_window_is_reported_in_minutes(budgets_url: str) -> None:
    budget = open_budgets(budgets_url).budget(ONE_PER_HOUR)
    assert budget.seconds_until_free("p1") == 0.0
    budget.acquire("p1", max_wait_s=0).release()
    assert 3599 < budget.seconds_until_free("p1") <= 3600.1
    with pytest.raises(BudgetExceeded, match=r"1 calls per hour .* frees up in 60 min [01] s"):
        budget.acquire("p1", max_wait_s=60)


def test_concurrency_slots_are_counted_and_released(budgets_url: str) -> None:
    budget = open_budgets(budgets_url).budget(TWO_AT_ONCE)
    first = budget.acquire("p1", max_wait_s=0)
    with budget.acquire("p1", max_wait_s=0):
        assert budget.in_flight("p1") == 2
        with pytest.raises(BudgetExceeded) as caught:
            budget.acquire("p1", max_wait_s=0.2)
        assert str(caught.value) == (
            "Duo budget of 2 concurrent calls for project p1 is used up; "
            "it frees up when a running call finishes"
        )
        assert caught.value.wait_s is None
        assert budget.in_flight("p2") == 0
    assert budget.in_flight("p1") == 1
    first.release()
    first.release()  # a second release frees nothing more
    assert budget.in_flight("p1") == 0


def test_a_waiting_call_gets_the_slot_another_process_frees(budgets_url: str) -> None:
    budget = open_budgets(budgets_url).budget(TWO_AT_ONCE)
    held = [budget.acquire("p1", max_wait_s=0) for _ in range(2)]
    threading.Timer(0.3, held[0].release).start()
    began = time.monotonic()
    with budget.acquire("p1", max_wait_s=5):
        assert 0.25 < time.monotonic() - began < 2.0
    held[1].release()


def test_mixpanel_429_and_retry_after_are_still_honoured(
    budgets_url: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_ordered_request("/api/2.0/export").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/api/2.0/export").respond_with_data(EXPORT_LINE)
    export = {"per_hour": 2, "label": "Raw Export API", "unit": "queries", "scope": "project"}
    specs = scaled_specs(tmp_path, {"export": export, "query": {"max_concurrent": 5}})
    component = Component(
        load_specs(specs), base_url=httpserver.url_for("/").rstrip("/"), budgets=budgets_url
    )
    began = time.monotonic()
    result = component.run("downloadData", EXPORT_INPUTS, TEST_CONNECTION)
    assert result["data"][0]["event"] == "Signed up"
    assert time.monotonic() - began >= 1.0  # Retry-After: 1 was waited out
    assert len(httpserver.log) == 2
    # Each attempt drew from the shared budget: both of the hour's 2 are used.
    with pytest.raises(
        BudgetExceeded,
        match="2 queries per hour for project 77 at http://localhost:[0-9]+ is used up",
    ):
        component.run("downloadData", EXPORT_INPUTS, TEST_CONNECTION)
    assert len(httpserver.log) == 2
