from __future__ import annotations

from connector.budgets.limits import RateLimit
from connector.budgets.notice import wait_notice, where_shared

EXPORT = RateLimit("export", 60, 3, None, label="Raw Export API", unit="queries", scope="project")
QUERY = RateLimit("query", 60, None, 5, label="Query API", unit="queries", scope="project")


def test_an_hourly_wait_names_the_budget_its_length_and_where_it_is_shared() -> None:
    text = wait_notice(EXPORT, "7", "hour", 723.2, "redis://user:***@cache:6379/0")
    assert text == (
        "Raw Export API budget of 60 queries per hour for project 7 is used up: waiting "
        "12 min 4 s for it to free up (budget shared through redis://user:***@cache:6379/0)"
    )


def test_a_per_second_and_a_concurrency_wait() -> None:
    assert "3 queries per second" in wait_notice(EXPORT, "7", "second", 1.5, None)
    assert wait_notice(EXPORT, "7", "second", 1.5, None).endswith(
        "waiting 1.5 s for it to free up (budget kept in this process only)"
    )
    text = wait_notice(QUERY, "7", "concurrency", None, "sqlite:///b.db")
    assert "5 concurrent queries for project 7" in text
    assert "waiting for a running call to finish" in text


def test_where_shared() -> None:
    assert where_shared(None) == "kept in this process only"
    assert where_shared("sqlite:///x") == "shared through sqlite:///x"
