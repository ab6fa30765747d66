"""Injected faults: seeded 5xx, per-second 429 with Retry-After, resets before or after storing."""

from __future__ import annotations

import time

import pytest
import requests

from connector import RetryPolicy, TransportError, load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox
from connector.sandbox.faults import Faults


def _fates(seed: int) -> list[tuple[int | None, str | None]]:
    faults = Faults(fail_rate=0.3, reset_rate=0.2, throttle_rate=0.1, seed=seed)
    return [(d.status, d.reset) for d in (faults.decide() for _ in range(200))]


def test_a_seed_replays_the_same_faults() -> None:
    first = _fates(7)
    assert first == _fates(7)
    assert first != _fates(8)
    statuses = {s for s, _ in first}
    assert {500, 502, 503, 429, None} == statuses
    assert {"before", "after"} <= {r for _, r in first}


def test_fault_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="fail_rate must be between 0 and 1"):
        Faults(fail_rate=1.5)


def test_rate_limit_answers_429_with_retry_after() -> None:
    # The limit is a sliding one-second window: the five requests must all arrive within one
    # second for the expectation below to hold. On a loaded machine that can fail by chance,
    # so the scenario is repeated (with a fresh sandbox) until one run was fast enough.
    for _ in range(5):
        with Sandbox(rate_limit=3) as sb, requests.Session() as session:
            began = time.monotonic()
            codes = [session.get(f"{sb.base_url}/nope", timeout=5) for _ in range(5)]
            if time.monotonic() - began >= 0.9:
                continue
            assert [r.status_code for r in codes] == [404, 404, 404, 429, 429]
            assert codes[3].headers["Retry-After"] == "1"
            assert codes[3].json()["status"] == "error"
            assert [r["status"] for r in sb.store.requests()] == [404, 404, 404, 429, 429]
            return
    pytest.fail("five requests to the sandbox never fitted in one second; the machine is too slow")


def test_reset_after_storing_loses_only_the_answer() -> None:
    with Sandbox(reset_rate=1.0, seed=3) as sb:
        component = load_component(base_url=sb.base_url, rate_registry=BudgetRegistry())
        events = [
            {
                "event": "E",
                "properties": {
                    "distinct_id": "d",
                    "time": int(time.time()),
                    "$insert_id": "only-one",
                },
            }
        ]
        no_retry = RetryPolicy(max_attempts=1)
        stored = []
        for _ in range(6):
            with pytest.raises(TransportError) as caught:
                component.run(
                    "importEvents",
                    {"events": events, "project_id": sb.project_id},
                    sb.connection,
                    retry=no_retry,
                )
            assert caught.value.kind == "reset"
            stored.append(sb.store.raw_event_count())
        assert 0 < stored[-1] < 6  # some attempts were stored before the drop, some not
        assert sb.store.dedup_event_count() == 1
        assert {r["status"] for r in sb.store.requests()} == {0}


def test_latency_delays_answers() -> None:
    with Sandbox(latency_ms=150) as sb:
        started = time.monotonic()
        requests.get(f"{sb.base_url}/api/2.0/nope", timeout=5)
        assert time.monotonic() - started >= 0.15
