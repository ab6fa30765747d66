"""A fleet's limit: processes sharing a store hold one level and one set of slots."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from connector.budgets.sqlite_store import SQLiteStore
from connector.modes.batched.aimd import Learned
from connector.modes.batched.fleet import SYNC_S, FleetLimit
from connector.modes.batched.remembered import RememberedLimit


def _pair(tmp_path: Path, ceiling: int = 8) -> tuple[FleetLimit, FleetLimit]:
    """Two members of one fleet, each with its own connection to one SQLite store."""
    path = tmp_path / "budgets.sqlite3"
    name = "concurrency 0123456789abcdef0123456789abcdef"
    return (
        FleetLimit(ceiling, lambda: SQLiteStore(path, "sqlite:///budgets"), name),
        FleetLimit(ceiling, lambda: SQLiteStore(path, "sqlite:///budgets"), name),
    )


def test_members_together_never_hold_more_slots_than_the_level(tmp_path: Path) -> None:
    first, second = _pair(tmp_path, ceiling=4)
    held = [(first, first.acquire_within(1)) for _ in range(3)]
    held.append((second, second.acquire_within(1)))  # the fourth of 4
    assert all(slot is not None for _, slot in held)
    assert second.acquire_within(0.2) is None  # none left in the fleet, though 3 locally
    assert second.in_flight == 1
    member, slot = held.pop(0)
    assert slot is not None
    member.release(slot, 200)
    held.append((second, second.acquire_within(1)))
    assert held[-1][1] is not None
    for member, slot in held:
        assert slot is not None
        member.release(slot, 200)


def test_a_throttle_in_one_member_slows_the_others(tmp_path: Path) -> None:
    first, second = _pair(tmp_path)
    for member in (first, second):
        slot = member.acquire_within(1)
        assert slot is not None
        member.release(slot, 200)
    slot = first.acquire_within(1)
    assert slot is not None
    first.release(slot, 429)
    assert first.limit == 4
    time.sleep(SYNC_S * 1.5)
    slot = second.acquire_within(1)  # it reads the fleet's level again before taking a slot
    assert slot is not None
    assert second.limit == 4 and "8 -> 4: the fleet's level" in second.decisions
    second.release(slot, 429)  # a request sent before it followed: no second halving
    assert second.limit == 4


def test_what_the_fleet_keeps_is_its_level_below_the_throttled_one(tmp_path: Path) -> None:
    first, _ = _pair(tmp_path)
    first.resume(Learned(6, 7, 2), "where the last run ended")
    assert first.learned().limit == 6  # not the one request this member had in flight
    slots = [first.acquire_within(1) for _ in range(2)]
    for slot in slots:
        assert slot is not None
        first.release(slot, 200)
    assert first.learned() == Learned(6, 7, 2, 0)
    slot = first.acquire_within(1)
    assert slot is not None
    first.release(slot, 429)  # 6 -> 3, throttled at 6
    assert first.limit == 3 and first.learned().limit == 5  # not 3: it recovers to 5


def test_the_published_level_is_read_as_the_kept_limit(tmp_path: Path) -> None:
    first, _ = _pair(tmp_path)
    slot = first.acquire_within(1)
    assert slot is not None
    first.release(slot, 429)  # 8 -> 4, published
    store = SQLiteStore(tmp_path / "budgets.sqlite3", "sqlite:///budgets")

    class Registry:
        def note(self, name: str) -> str | None:
            return store.read_note(name)

        def keep_note(self, name: str, value: str) -> None:
            store.write_note(name, value, 60)

        def budget(self, limit: object) -> object:
            raise AssertionError

    memory = RememberedLimit(Registry(), "https://a.test", "p", "c")  # type: ignore[arg-type]
    memory.name = "concurrency 0123456789abcdef0123456789abcdef"
    recalled = memory.recall()
    # Not the halved level: one below the level throttled, where the fleet recovers to.
    assert recalled is not None and recalled.learned.limit == 7
    assert recalled.learned.throttled_at == 8


def test_a_store_that_fails_leaves_each_member_its_own_limit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> SQLiteStore:
        raise OSError("store down")

    alone = FleetLimit(4, broken, "concurrency x")
    with caplog.at_level(logging.WARNING, "connector.batch"):
        slots = [alone.acquire_within(1) for _ in range(4)]
        assert all(slot is not None for slot in slots)
        assert alone.acquire_within(0.05) is None  # its own limit still holds
    assert "not shared any more: store down" in caplog.text


def test_a_round_trip_of_recovery_proves_its_level(tmp_path: Path) -> None:
    member, _ = _pair(tmp_path, ceiling=16)
    burst = [member.acquire_within(1) for _ in range(16)]
    held = [slot for slot in burst if slot is not None]
    assert len(held) == 16
    for n, slot in enumerate(held):  # half throttled: down to 8; the served half counts nothing
        member.release(slot, 429 if n < 8 else 200)
    assert member.limit == 8
    window = [member.acquire_within(1) for _ in range(8)]
    for slot in window:
        assert slot is not None
        member.release(slot, 200)
    assert member.limit == 9  # a round trip at 8 came back fine: one step up
    probe = [member.acquire_within(1) for _ in range(9)]
    assert all(slot is not None for slot in probe)
    last = probe[-1]
    assert last is not None
    member.release(last, 429)  # 9 is too many: back to the 8 that round trip proved, not 4
    assert member.limit == 8 and member.decisions[-1] == "9 -> 8: answer 429 to a probe"
    for slot in probe[:-1]:
        assert slot is not None
        member.release(slot, 200)
