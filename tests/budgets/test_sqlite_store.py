"""SQLite-specific behaviour: the file is where the URL says, and other connections see it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from connector.budgets import open_budgets
from connector.budgets.memory import BudgetExceeded, RateLimit
from connector.budgets.sqlite_store import SQLiteStore, _retrying_busy

ONE_PER_HOUR = RateLimit("hourly", per_hour=1, per_second=None, max_concurrent=None)
TWO_AT_ONCE = RateLimit("duo", per_hour=None, per_second=None, max_concurrent=2)


def test_sqlite_budgets_live_in_the_named_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "b.sqlite3"
    open_budgets(f"sqlite:///{path}").budget(ONE_PER_HOUR).acquire("p1", max_wait_s=0).release()
    assert path.is_file()
    # A second connection to the same file (as another process would open) sees the call.
    other = SQLiteStore(path, "other")
    assert other.seconds_until_free(ONE_PER_HOUR, "p1") > 3599


def test_slots_are_lock_files_beside_the_database(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    budget = open_budgets(f"sqlite:///{path}").budget(TWO_AT_ONCE)
    first = budget.acquire("p1", max_wait_s=0)
    with budget.acquire("p1", max_wait_s=0):
        [folder] = (tmp_path / "b.sqlite3.slots").iterdir()
        assert folder.name.startswith("duo-")
        assert sorted(f.name for f in folder.iterdir()) == ["0.lock", "1.lock"]
        # Another connection (as in another process) counts the slots this one holds.
        assert SQLiteStore(path, "other").in_flight(TWO_AT_ONCE, "p1") == 2
    first.release()
    assert SQLiteStore(path, "other").in_flight(TWO_AT_ONCE, "p1") == 0


def test_an_immediate_database_is_locked_answer_is_retried() -> None:
    """SQLite may answer "database is locked" at once (another process setting up WAL)."""
    answers: list[object] = [sqlite3.OperationalError("database is locked")] * 2 + ["done"]

    def attempt() -> str:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert _retrying_busy(attempt) == "done"
    assert answers == []


def test_other_sqlite_errors_are_not_retried() -> None:
    calls: list[int] = []

    def attempt() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("no such table: grants")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        _retrying_busy(attempt)
    assert calls == [1]


TWO_PER_HOUR = RateLimit("hourly", per_hour=2, per_second=None, max_concurrent=None)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_store_whose_file_is_deleted_or_replaced_reopens_it(tmp_path: Path, how: str) -> None:
    path = tmp_path / "b.sqlite3"
    running = SQLiteStore(path, "running")  # a process that keeps running
    assert running.try_acquire(TWO_PER_HOUR, "p1").token is not None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    if how == "replaced":
        fresh = tmp_path / "fresh.sqlite3"
        fresh.write_bytes(b"")  # SQLite reads an empty file as an empty database
        fresh.replace(path)
    newcomer = SQLiteStore(path, "newcomer")  # a process started after that
    assert newcomer.try_acquire(TWO_PER_HOUR, "p1").token is not None
    assert newcomer.try_acquire(TWO_PER_HOUR, "p1").token is not None
    # The running process counts in the same file as the newcomer now: the budget is spent.
    verdict = running.try_acquire(TWO_PER_HOUR, "p1")
    assert verdict.token is None and verdict.wait_s > 3500
    assert running.seconds_until_free(TWO_PER_HOUR, "p1") > 3500


FIVE_PER_MINUTE = RateLimit("lexicon", None, None, None, per_minute=5, unit="requests")


def test_the_sixth_call_in_a_minute_waits_for_the_first_to_leave_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time as real_time
    from types import SimpleNamespace

    from connector.budgets import sqlite_store
    from connector.budgets.shared import SharedBudget

    now = [1000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    clock = SimpleNamespace(
        time=lambda: now[0], monotonic=real_time.monotonic, sleep=real_time.sleep
    )
    monkeypatch.setattr(sqlite_store, "time", clock)
    store = SQLiteStore(tmp_path / "b.sqlite3", "sqlite:///b")
    budget = SharedBudget(FIVE_PER_MINUTE, store, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):  # calls answered at 1000, 1002, ..., 1008
        budget.acquire("sa", max_wait_s=0).release()
        now[0] += 2.0
    with pytest.raises(BudgetExceeded, match="5 requests per minute for sa is used up"):
        budget.acquire("sa", max_wait_s=0, short_wait_s=0)
    budget.acquire("sa", max_wait_s=0, short_wait_s=300).release()
    assert sleeps == [pytest.approx(50.0)]  # until the first call (1000) left its minute
    assert now[0] == pytest.approx(1060.0)
