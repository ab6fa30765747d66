"""Exactly once under faults: bulk imports and profile updates into a misbehaving sandbox.

The sandbox injects 10% 5xx, 5% 429 and 2% connection resets (half of them after the batch was
stored, so the client never learns it landed). The connector retries, and Mixpanel's
de-duplication on $insert_id (for events) and the idempotence of `$set` (for profiles) must
turn "at least once" into "exactly once".
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from connector import Component, RetryPolicy, load_component
from connector.budgets.memory import BudgetRegistry
from connector.sandbox import Sandbox

EVENTS = 100_000
UPDATES = 20_000
PROFILES = 5_000
# Short waits so the test takes seconds; 429's Retry-After (1 s) is still honoured.
RETRY = RetryPolicy(max_attempts=30, base_delay_s=0.01, max_delay_s=0.05, retry_5xx=True)


@pytest.fixture
def faulty() -> Iterator[Sandbox]:
    with Sandbox(seed=20261138, fail_rate=0.10, throttle_rate=0.05, reset_rate=0.02) as sb:
        yield sb
        assert sb.errors == []


@pytest.fixture
def component(faulty: Sandbox) -> Component:
    return load_component(base_url=faulty.base_url, rate_registry=BudgetRegistry(), retry=RETRY)


def _faults(sb: Sandbox) -> Counter[str]:
    return Counter(r["fault"] for r in sb.store.requests() if r["fault"])


def _events() -> Iterator[dict[str, Any]]:
    start = int(time.time()) - 86_400
    for i in range(EVENTS):
        yield {
            "event": f"Event {i % 7}",
            "properties": {
                "distinct_id": f"user-{i % 997}",
                "time": start + i % 80_000,
                "$insert_id": f"ev-{i:06d}",
            },
        }


def test_100k_events_land_exactly_once(faulty: Sandbox, component: Component) -> None:
    inputs = {"events": _events(), "project_id": faulty.project_id}  # a generator: the bulk path
    result = component.run("importEvents", inputs, faulty.connection, workers=4)["data"]
    assert result["num_records_imported"] == EVENTS
    assert result["code"] == 200 and "failed_records" not in result
    assert result["requests_retried"] >= 1
    faults = _faults(faulty)  # the seed makes these the same on every run
    assert faults["500"] + faults["502"] + faults["503"] >= 3 and faults["429"] >= 1, faults
    assert faults["reset-after"] >= 1, faults  # a stored batch whose answer was lost ...
    assert faulty.store.raw_event_count() >= EVENTS + 1  # ... and then stored again
    assert faulty.store.dedup_event_count() == EVENTS
    assert faulty.store.insert_ids() == {f"ev-{i:06d}" for i in range(EVENTS)}


def test_20k_profile_updates_end_with_each_last_value(
    faulty: Sandbox, component: Component
) -> None:
    updates = [
        {"$distinct_id": f"user-{i % PROFILES}", "$set": {"seq": i, "round": i // PROFILES}}
        for i in range(UPDATES)
    ]
    # The spec's default sends in parallel, each profile's updates through one lane in order,
    # so a retried earlier $set can never overtake a later one of the same profile.
    inputs = {"propertiesToUpdate": iter(updates)}
    result = component.run("updateMultipleProfiles", inputs, faulty.connection)["data"]
    assert result["num_records_imported"] == UPDATES and "failed_records" not in result
    assert result["concurrency"] > 1 and result["requests"] - result["requests_retried"] >= 16
    faults = _faults(faulty)
    assert faults["reset-after"] >= 1 and sum(faults.values()) >= 3, faults
    assert faulty.store.profile_count() == PROFILES
    last = {u["$distinct_id"]: u["$set"] for u in updates}
    assert dict(faulty.store.profiles()) == last
