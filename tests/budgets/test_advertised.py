"""A server that advertises its own limits (RateLimit-Policy) gets those, not the documented
ones: the sandbox's 61st query does not wait 47 minutes, and a wait says whose budget it is."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from connector import BudgetExceeded, load_component
from connector.budgets import open_budgets
from connector.budgets.advertised import Advertised, advertised_limit, parse_policy
from connector.budgets.limits import RateLimit
from connector.budgets.memory import BudgetRegistry
from connector.budgets.notice import PYTHON_ADVICE
from connector.budgets.shared import SharedRegistry
from connector.budgets.sqlite_store import SQLiteStore
from connector.cli.main import CLI_ADVICE, main
from connector.sandbox import Sandbox
from tests.budgets.conftest import RecordingServer, max_in_window

CONNECTION = {"username": "u", "password": "p", "projectToken": "t"}
QUERY = {"project_id": "1"}


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ('"sandbox";q=2;w=1', Advertised(2, None, None)),
        ("burst;q=3;w=1, hourly;q=60;w=3600", Advertised(3, 60, None)),
        ('"workers";q=16;qu="concurrent-requests"', Advertised(None, None, 16)),
        ("a;q=5;w=1, b;q=2;w=1;pk=:cGs=:", Advertised(2, None, None)),  # the lower one holds
        ('"a,b";q=5;w=1', Advertised(5, None, None)),  # a comma inside a name
        ("a;q=100;w=60", Advertised(None, None, None, 100)),
        ("a;q=100;w=60, b;q=2;w=1", Advertised(2, None, None, 100)),
        ("a;q=100;w=30", None),  # half a minute: not a window these budgets keep exactly
        ('a;q=5;w=1;qu="content-bytes"', None),
        ("a;q=0;w=1", None),
        ("a;w=1", None),
        ("a;q=5;w=1 trailing", None),
        ("", None),
        (None, None),
        ("a;q=1;w=1," * 200, None),  # past the size bound
    ],
)
def test_the_policy_field_is_read_as_the_draft_writes_it(
    field: str | None, expected: Advertised | None
) -> None:
    assert parse_policy(field) == expected


def test_what_a_store_remembers_reads_back_the_same() -> None:
    for advertised in (Advertised(3, 60, 16, 20), Advertised(None, None, None, 5)):
        assert parse_policy(advertised.text()) == advertised
    assert (
        Advertised(3, 60, None, 20).describe() == "3 per second and 20 per minute and 60 per hour"
    )


def test_an_advertised_limit_keeps_only_what_was_advertised() -> None:
    spec = RateLimit("query", 60, None, 5, label="Query API", unit="queries", scope="project")
    limit = advertised_limit(spec, Advertised(2, None, None), "http://127.0.0.1:8080")
    assert (limit.per_second, limit.per_hour, limit.max_concurrent) == (2, None, None)
    assert limit.per_minute is None
    minute = advertised_limit(spec, Advertised(None, None, None, 5), "http://127.0.0.1:8080")
    assert (minute.per_second, minute.per_minute, minute.per_hour) == (None, 5, None)
    assert limit.name.startswith("query-advertised-") and "/" not in limit.name
    assert limit.display_name == "Query API (as http://127.0.0.1:8080 advertises it)"
    assert "advertises in its RateLimit-Policy header" in limit.basis


def test_the_sandbox_s_61st_query_does_not_wait_for_the_documented_hour() -> None:
    with Sandbox() as sandbox:
        component = load_component(base_url=sandbox.base_url, rate_registry=BudgetRegistry())
        inputs = {"project_id": sandbox.project_id}
        for _ in range(70):  # the documented budget is 60 an hour; rate_wait_s is 0
            component.run("queryProfiles", inputs, sandbox.connection)


def test_another_process_follows_what_the_server_advertised(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'budgets.sqlite3'}"
    with Sandbox() as sandbox:
        inputs = {"project_id": sandbox.project_id}
        first = load_component(base_url=sandbox.base_url, budgets=url)
        first.run("queryProfiles", inputs, sandbox.connection)
        # Fill the documented hour as 60 earlier processes' first queries would have.
        documented = first.spec.rate_limits["query"]
        budget = open_budgets(url).budget(documented)
        key = f"{sandbox.project_id} at {sandbox.base_url}"
        for _ in range(59):
            budget.acquire(key, max_wait_s=0).release()
        # A new process (its own registry over the same file) reads the advertised limits
        # before its first request, so the full documented hour does not hold it.
        path = tmp_path / "budgets.sqlite3"
        fresh = SharedRegistry(url, lambda: SQLiteStore(path, url))
        second = load_component(base_url=sandbox.base_url, rate_registry=fresh)
        for _ in range(5):
            second.run("queryProfiles", inputs, sandbox.connection)


def test_a_redis_store_shares_the_advertised_limits_across_hosts(redis_url: str) -> None:
    url = f"{redis_url}?prefix=advertised-{time.monotonic_ns()}"
    with RecordingServer(headers={"RateLimit-Policy": '"h";q=3;w=3600'}) as server:
        first = load_component(base_url=server.url, budgets=url)
        first.run("queryProfiles", QUERY, CONNECTION)
        from connector.budgets.redis_store import RedisStore

        other_host = SharedRegistry(url, lambda: RedisStore(url, url))
        second = load_component(base_url=server.url, rate_registry=other_host)
        second.run("queryProfiles", QUERY, CONNECTION)
        second.run("queryProfiles", QUERY, CONNECTION)
        second.run("queryProfiles", QUERY, CONNECTION)
        with pytest.raises(BudgetExceeded, match="budget of 3 queries per hour"):
            second.run("queryProfiles", QUERY, CONNECTION)


def test_a_server_s_own_hourly_limit_is_kept_and_named_as_its_own() -> None:
    with RecordingServer(headers={"RateLimit-Policy": '"h";q=2;w=3600'}) as server:
        component = load_component(base_url=server.url, rate_registry=BudgetRegistry())
        for _ in range(3):  # the first answer teaches the policy; it counts from then on
            component.run("queryProfiles", QUERY, CONNECTION)
        with pytest.raises(BudgetExceeded) as caught:
            component.run("queryProfiles", QUERY, CONNECTION)
    message = str(caught.value)
    assert f"Query API (as {server.url} advertises it) budget of 2 queries per hour" in message
    assert f"for the limits {server.url} advertises in its RateLimit-Policy header" in message


def _most_in_a_second(tmp_path: Path, *, advertised: bool) -> int:
    """The most of nine queries in a row a --rate-limit 3 sandbox saw start in any second."""
    with Sandbox(rate_limit=3) as sandbox:
        sandbox.faults.advertise_limits = advertised
        # A shared store counts each call from its answer (an in-process one from its grant).
        budgets = f"sqlite:///{tmp_path / f'budgets-{advertised}.sqlite3'}"
        component = load_component(base_url=sandbox.base_url, budgets=budgets)
        inputs = {"project_id": sandbox.project_id}
        component.run("queryProfiles", inputs, sandbox.connection)  # learns 3 a second
        time.sleep(1.0)  # that first query counted under the documented limits
        for _ in range(9):
            component.run("queryProfiles", inputs, sandbox.connection)
        starts = [e["started"] / 1000 for e in sandbox.store.requests()][1:]
    # Seen from the sandbox, to within its clock's reading of a second's edge (20 ms).
    return max_in_window(starts, 0.98)


def test_the_sandbox_s_rate_limit_is_kept_instead_of_meeting_its_429s(tmp_path: Path) -> None:
    assert _most_in_a_second(tmp_path, advertised=True) <= 3
    assert _most_in_a_second(tmp_path, advertised=False) > 3  # fired at once, then 429s


def test_a_documented_budget_s_wait_says_whose_it_is_and_how_to_change_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with RecordingServer() as server:  # advertises nothing: the documented limits hold
        component = load_component(base_url=server.url, rate_registry=BudgetRegistry())
        for _ in range(60):
            component.run("queryProfiles", QUERY, CONNECTION)
        with pytest.raises(BudgetExceeded) as caught:
            component.run("queryProfiles", QUERY, CONNECTION)
    message = str(caught.value)
    assert "budget of 60 queries per hour" in message
    assert "This client keeps this budget itself, for Mixpanel's documented limits" in message
    assert "the server refused nothing" in message
    assert PYTHON_ADVICE[1:] in message


def test_an_hourly_wait_is_announced_with_whose_budget_it_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="connector.waits")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    registry = BudgetRegistry(clock=lambda: now[0], sleep=sleep)
    with RecordingServer() as server:
        component = load_component(base_url=server.url, rate_registry=registry, rate_wait_s=3600)
        component.wait_advice = "pass --rate-wait 0 to fail at once"
        for _ in range(61):
            component.run("queryProfiles", QUERY, CONNECTION)
    [notice] = [r.getMessage() for r in caplog.records if r.name == "connector.waits"]
    assert "Query API budget of 60 queries per hour" in notice
    assert "is used up: waiting 60 min 0 s for it to free up" in notice
    assert notice.endswith(
        "This client keeps this budget itself, for Mixpanel's documented limits; the server "
        "refused nothing. Pass --rate-wait 0 to fail at once."
    )


def test_the_command_line_names_its_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MIXPANEL_USERNAME", "u")
    monkeypatch.setenv("MIXPANEL_PASSWORD", "p")
    with RecordingServer(headers={"RateLimit-Policy": '"h";q=1;w=3600'}) as server:
        argv = ["run", "queryProfiles", "--base-url", server.url, "-i", "project_id=1"]
        argv += ["--budgets", f"sqlite:///{tmp_path / 'b.sqlite3'}", "--rate-wait", "0"]
        assert main(argv) == 0  # learns 1 an hour from the answer
        assert main(argv) == 0
        assert main(argv) == 1
    error = capsys.readouterr().err
    assert "budget of 1 queries per hour" in error
    assert CLI_ADVICE[1:] in error
