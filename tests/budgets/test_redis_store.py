"""Redis-specific behaviour: leases renewed while a call runs, keys that clean themselves up."""

from __future__ import annotations

import time

import pytest
import redis

from connector.budgets import open_budgets
from connector.budgets.memory import BudgetExceeded, RateLimit

ONE_AT_A_TIME = RateLimit("solo", per_hour=None, per_second=None, max_concurrent=1)
THREE_PER_SECOND = RateLimit("burst", per_hour=None, per_second=3, max_concurrent=1)


def test_a_call_longer_than_the_lease_keeps_its_slot(redis_url: str) -> None:
    budget = open_budgets(f"{redis_url}?prefix=renewal&lease_s=0.6").budget(ONE_AT_A_TIME)
    with budget.acquire("p1", max_wait_s=0):
        time.sleep(2.0)  # more than three leases long: the renewer must have extended it
        assert budget.in_flight("p1") == 1
        with pytest.raises(BudgetExceeded, match="1 concurrent calls"):
            budget.acquire("p1", max_wait_s=0)
    assert budget.in_flight("p1") == 0


def test_keys_are_namespaced_and_expire(redis_url: str) -> None:
    budget = open_budgets(f"{redis_url}?prefix=tidy&lease_s=2").budget(THREE_PER_SECOND)
    with budget.acquire("p 1", max_wait_s=0):
        client = redis.Redis.from_url(redis_url, decode_responses=True)
        keys = sorted(client.keys("tidy:*"))
        assert keys == ["tidy:{burst:p 1}:calls", "tidy:{burst:p 1}:leases"]
        # The calls expire once out of every window (1 s, + LATE_S 10 s while the call may
        # still be running); the leases once their 2 s lease runs out.
        assert 10 < client.ttl(keys[0]) <= 12
        assert 0 < client.ttl(keys[1]) <= 3
        assert client.zcard(keys[1]) == 1
    assert client.zcard(keys[1]) == 0
    assert client.zcard(keys[0]) == 1  # the call still counts against its second


def test_redis_options_are_checked() -> None:
    from connector import BudgetStoreError

    with pytest.raises(BudgetStoreError, match="lease_s must be positive"):
        open_budgets("redis://127.0.0.1:1/0?lease_s=0").budget(ONE_AT_A_TIME)


def test_the_sixth_call_in_a_minute_waits_for_the_first_to_leave_it(redis_url: str) -> None:
    # Redis's own TIME is the clock: five calls answered 59.7 s ago or later fill the minute.
    limit = RateLimit("lexicon", None, None, None, per_minute=5, unit="requests")
    budget = open_budgets(f"{redis_url}?prefix=minute").budget(limit)
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    seconds, micros = client.time()
    now = seconds + micros / 1e6
    calls = {f"t{i}": now - 59.7 + i for i in range(5)}
    client.zadd("minute:{lexicon:sa}:calls", calls)
    with pytest.raises(BudgetExceeded, match="5 requests per minute for sa") as caught:
        budget.acquire("sa", max_wait_s=0, short_wait_s=0)
    assert caught.value.wait_s is not None and 0.0 < caught.value.wait_s <= 0.3
    began = time.monotonic()
    budget.acquire("sa", max_wait_s=0, short_wait_s=5).release()
    assert 0.0 < time.monotonic() - began < 1.0
    # The second call leaves the window a second after the first: a seventh must wait again.
    assert 0.5 < budget.seconds_until_free("sa") <= 1.0
