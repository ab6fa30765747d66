"""Unit tests for connector.ratelimit."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from connector.budgets.memory import (
    DEFAULT_REGISTRY,
    BudgetExceeded,
    BudgetRegistry,
    RateBudget,
    RateLimit,
    format_duration,
)

T0 = 10_000.0

# The shapes of Mixpanel's Query API and Raw Export limits (specs/component.yaml declares them).
QUERY_API = RateLimit(
    "query",
    per_hour=60,
    per_second=None,
    max_concurrent=5,
    label="Query API",
    unit="queries",
    scope="project",
)
RAW_EXPORT = RateLimit(
    "export",
    per_hour=60,
    per_second=3,
    max_concurrent=None,
    label="Raw Export API",
    unit="queries",
    scope="project",
)


FIVE_PER_MINUTE = RateLimit(
    "lexicon",
    per_hour=None,
    per_second=None,
    max_concurrent=None,
    per_minute=5,
    label="Lexicon Schemas API",
    unit="requests",
    scope="service account",
)


class FakeClock:
    """Monotonic clock that only moves when told to (or when sleep is called)."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make(limit: RateLimit, clock: FakeClock) -> RateBudget:
    return RateBudget(limit, clock=clock, sleep=clock.sleep)


def use(budget: RateBudget, key: str, n: int, clock: FakeClock, step: float) -> None:
    for _ in range(n):
        with budget.acquire(key, max_wait_s=0):
            pass
        clock.advance(step)


# --- constants ---------------------------------------------------------------------------


def test_the_shipped_specs_declare_mixpanels_documented_limits() -> None:
    from connector.catalog.load import load_specs

    limits = load_specs().rate_limits
    documented = "Mixpanel's documented limits"
    gdpr = RateLimit("gdpr", None, 1, None, label="GDPR API", unit="requests")
    assert limits == {
        "query": replace(QUERY_API, scope="project", basis=documented),
        "export": replace(RAW_EXPORT, scope="project", basis=documented),
        "gdpr": replace(gdpr, scope="project token", basis=documented),
        "lexicon": replace(FIVE_PER_MINUTE, basis=documented),
    }


def test_rate_limit_validation() -> None:
    with pytest.raises(ValueError):
        RateLimit("x", per_hour=0, per_second=None, max_concurrent=None)


# --- minute window -----------------------------------------------------------------------


def test_the_sixth_call_in_a_minute_waits_for_the_first_to_leave_it() -> None:
    clock = FakeClock()
    budget = make(FIVE_PER_MINUTE, clock)
    use(budget, "sa", 5, clock, step=2.0)  # calls at T0, T0+2, ..., T0+8
    with pytest.raises(BudgetExceeded) as caught:
        budget.acquire("sa", max_wait_s=0, short_wait_s=0)
    assert caught.value.wait_s == pytest.approx(50.0)  # the first leaves at T0 + 60
    assert str(caught.value) == (
        "Lexicon Schemas API budget of 5 requests per minute for service account sa is used "
        "up; it frees up in 50 s"
    )
    waits: list[tuple[str, float | None]] = []
    # A minute frees up within the short-wait cap: waited for even when no long wait is allowed.
    with budget.acquire(
        "sa", max_wait_s=0, short_wait_s=300, on_wait=lambda w, s: waits.append((w, s))
    ):
        assert clock.now == pytest.approx(T0 + 60.0)
    assert clock.sleeps == [pytest.approx(50.0)]
    assert waits == [("minute", pytest.approx(50.0))]
    # The second call (T0 + 2) leaves next: a seventh waits for it.
    assert budget.seconds_until_free("sa") == pytest.approx(2.0)


# --- hourly window -----------------------------------------------------------------------


def test_sixty_fit_and_sixty_first_raises_with_free_up_time() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    use(budget, "123", 60, clock, step=10.0)  # calls at T0, T0+10, ..., T0+590
    clock.now = T0 + 3600 - 723  # the first call leaves the window in 723 s
    with pytest.raises(BudgetExceeded) as info:
        budget.acquire("123", max_wait_s=0)
    exc = info.value
    assert exc.limit_name == "query"
    assert exc.key == "123"
    assert exc.wait_s == pytest.approx(723.0)
    assert exc.retry_at_s == pytest.approx(T0 + 3600)
    assert str(exc) == (
        "Query API budget of 60 queries per hour for project 123 is used up; "
        "it frees up in 12 min 3 s"
    )
    assert budget.seconds_until_free("123") == pytest.approx(723.0)
    assert clock.sleeps == []


def test_sixty_first_waits_when_allowed() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    use(budget, "123", 60, clock, step=10.0)
    clock.now = T0 + 3000
    with budget.acquire("123", max_wait_s=600.0):
        assert clock.sleeps == [pytest.approx(600.0)]
        assert clock.now == pytest.approx(T0 + 3600)
    # The second call (at T0 + 10) is now the oldest in the window.
    assert budget.seconds_until_free("123") == pytest.approx(10.0)


def test_wait_longer_than_allowed_raises_without_sleeping() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    use(budget, "123", 60, clock, step=10.0)
    clock.now = T0 + 3000
    with pytest.raises(BudgetExceeded) as info:
        budget.acquire("123", max_wait_s=599.0)
    assert info.value.wait_s == pytest.approx(600.0)
    assert clock.sleeps == []


def test_call_leaves_window_exactly_after_an_hour() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    use(budget, "p", 60, clock, step=0.0)
    clock.now = T0 + 3599.5
    assert budget.seconds_until_free("p") == pytest.approx(0.5)
    clock.now = T0 + 3600
    assert budget.seconds_until_free("p") == 0.0
    with budget.acquire("p", max_wait_s=0):
        pass
    assert budget.seconds_until_free("p") == 0.0  # the 60 calls at T0 have expired


# --- per-second window -------------------------------------------------------------------


def test_per_second_limit_of_three() -> None:
    clock = FakeClock()
    budget = make(RAW_EXPORT, clock)
    use(budget, "7", 3, clock, step=0.0)
    with pytest.raises(BudgetExceeded) as info:
        budget.acquire("7", max_wait_s=0)
    assert info.value.wait_s == pytest.approx(1.0)
    assert str(info.value) == (
        "Raw Export API budget of 3 queries per second for project 7 is used up; "
        "it frees up in 1.0 s"
    )
    with budget.acquire("7", max_wait_s=1.0):
        pass
    assert clock.sleeps == [pytest.approx(1.0)]


def test_per_second_window_slides() -> None:
    clock = FakeClock()
    budget = make(RAW_EXPORT, clock)
    for offset in (0.0, 0.5, 0.9):
        clock.now = T0 + offset
        budget.acquire("7", max_wait_s=0).release()
    clock.now = T0 + 0.95
    assert budget.seconds_until_free("7") == pytest.approx(0.05)
    budget.acquire("7", max_wait_s=0.1).release()
    assert clock.sleeps == [pytest.approx(0.05)]
    assert clock.now == pytest.approx(T0 + 1.0)
    # Now the calls at 0.5, 0.9 and 1.0 fill the window until 1.5.
    assert budget.seconds_until_free("7") == pytest.approx(0.5)


def test_export_hourly_limit_also_applies() -> None:
    clock = FakeClock()
    budget = make(RAW_EXPORT, clock)
    use(budget, "7", 60, clock, step=1.0)  # 1 per second: never hits the per-second limit
    with pytest.raises(BudgetExceeded) as info:
        budget.acquire("7", max_wait_s=0)
    assert "60 queries per hour" in str(info.value)
    assert info.value.wait_s == pytest.approx(3600.0 - 60.0)


# --- keys and registry -----------------------------------------------------------------------


def test_separate_keys_are_independent() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    use(budget, "a", 60, clock, step=0.0)
    with pytest.raises(BudgetExceeded):
        budget.acquire("a", max_wait_s=0)
    use(budget, "b", 60, clock, step=0.0)
    assert budget.seconds_until_free("c") == 0.0


def test_registry_shares_budgets() -> None:
    clock = FakeClock()
    registry = BudgetRegistry(clock=clock, sleep=clock.sleep)
    first = registry.budget(QUERY_API)
    second = registry.budget(QUERY_API)
    assert first is second
    assert registry.budget(RAW_EXPORT) is not first
    use(first, "p", 60, clock, step=0.0)
    with pytest.raises(BudgetExceeded):
        second.acquire("p", max_wait_s=0)


def test_registry_rejects_conflicting_limit() -> None:
    registry = BudgetRegistry()
    registry.budget(QUERY_API)
    with pytest.raises(ValueError):
        registry.budget(RateLimit("query", per_hour=10, per_second=None, max_concurrent=None))


def test_default_registry_is_shared() -> None:
    assert DEFAULT_REGISTRY.budget(QUERY_API) is DEFAULT_REGISTRY.budget(QUERY_API)


# --- concurrency --------------------------------------------------------------------------


def test_concurrency_fail_fast() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    slots = [budget.acquire("p", max_wait_s=0) for _ in range(5)]
    with pytest.raises(BudgetExceeded) as info:
        budget.acquire("p", max_wait_s=0)
    assert info.value.wait_s is None
    assert info.value.retry_at_s is None
    assert "5 concurrent queries for project p" in str(info.value)
    budget.acquire("q", max_wait_s=0).release()  # other key unaffected
    slots[0].release()
    slots[0].release()  # idempotent
    assert budget.in_flight("p") == 4
    with budget.acquire("p", max_wait_s=0):
        assert budget.in_flight("p") == 5
    for slot in slots[1:]:
        slot.release()
    assert budget.in_flight("p") == 0


def test_concurrency_wait_is_bounded_even_with_frozen_clock() -> None:
    clock = FakeClock()
    budget = make(QUERY_API, clock)
    for _ in range(5):
        budget.acquire("p", max_wait_s=0)
    began = time.monotonic()
    with pytest.raises(BudgetExceeded):
        budget.acquire("p", max_wait_s=0.05)
    assert time.monotonic() - began < 2.0
    assert clock.sleeps == []


def test_concurrency_five_with_real_threads() -> None:
    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"rate sleep not expected ({seconds} s)")

    budget = RateBudget(QUERY_API, clock=time.monotonic, sleep=no_sleep)
    acquired: list[int] = []
    cond = threading.Condition()
    finish = [threading.Event() for _ in range(6)]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with budget.acquire("p", max_wait_s=5.0):
                with cond:
                    acquired.append(index)
                    cond.notify_all()
                finish[index].wait(timeout=5.0)
        except BaseException as exc:  # surfaced via `errors` below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(6)]
    try:
        for thread in threads:
            thread.start()
        with cond:
            assert cond.wait_for(lambda: len(acquired) >= 5, timeout=2.0)
        time.sleep(0.1)
        with cond:
            assert len(acquired) == 5
            first = acquired[0]
        assert budget.in_flight("p") == 5
        finish[first].set()
        with cond:
            assert cond.wait_for(lambda: len(acquired) == 6, timeout=2.0)
    finally:
        for event in finish:
            event.set()
        for thread in threads:
            thread.join(timeout=2.0)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert budget.in_flight("p") == 0


# --- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "0.0 s"),
        (-3.0, "0.0 s"),
        (0.42, "0.5 s"),
        (9.0, "9.0 s"),
        (12.2, "13 s"),
        (59.5, "1 min 0 s"),
        (723.0, "12 min 3 s"),
        (3600.0, "60 min 0 s"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
