"""A fleet's concurrency limit over each shared store (SQLite on one host, Redis across hosts).

Members stand for the processes of a split backfill: each has its own registry and so its own
connection to the store, and several threads sending at once.
"""

from __future__ import annotations

import threading
import time

from connector.budgets import open_budgets
from connector.modes.batched.aimd import Learned
from connector.modes.batched.fleet import SYNC_S, FleetLimit

NAME = "concurrency 00112233445566778899aabbccddeeff"
MEMBERS = 4
THREADS = 4  # per member: 16 want to send, the fleet's level allows fewer


class InFlight:
    """Requests holding a slot across every member, and the most seen at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.sent = 0

    def hold(self, seconds: float) -> None:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.sent += 1
        time.sleep(seconds)
        with self.lock:
            self.now -= 1


def _send(members: list[FleetLimit], seconds: float) -> InFlight:
    """Every member's threads send for `seconds`, each request on the wire for 10 ms."""
    seen = InFlight()
    until = time.monotonic() + seconds

    def worker(member: FleetLimit) -> None:
        while time.monotonic() < until:
            slot = member.acquire_within(5)
            assert slot is not None
            try:
                seen.hold(0.01)
            finally:
                member.release(slot, 200)

    threads = [
        threading.Thread(target=worker, args=(member,))
        for member in members
        for _ in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


def test_members_never_exceed_the_shared_level_and_a_429_halves_it_for_all(
    budgets_url: str,
) -> None:
    # The ceiling holds the level at 4 while good answers come back (they would grow it).
    members = [FleetLimit(4, open_budgets(budgets_url).store, NAME) for _ in range(MEMBERS)]
    seen = _send(members, 1.0)
    assert seen.most <= 4 < MEMBERS * THREADS, seen.most
    assert seen.most >= 2 and seen.sent > 20  # they did share it, not take turns alone

    slot = members[0].acquire_within(5)
    assert slot is not None
    assert members[0].release(slot, 429) is True  # 4 -> 2, published; its retry is paced
    assert members[0].limit == 2
    time.sleep(SYNC_S * 1.5)
    # Each reads the fleet's level before its next slot: two requests of two members fill
    # the fleet, and a third member, holding none, gets no slot.
    held = [(member, member.acquire_within(5)) for member in members[1:3]]
    assert all(slot is not None for _, slot in held)
    assert members[3].in_flight == 0 and members[3].acquire_within(0.3) is None
    for member in members[1:]:
        assert "4 -> 2: the fleet's level" in member.decisions
    for member, slot in held:
        assert slot is not None
        member.release(slot, 200)
    slot = members[3].acquire_within(5)
    assert slot is not None
    members[3].release(slot, 200)


def _round_trip(member: FleetLimit, status: int = 200) -> None:
    """As many requests as the member's level at once, then their answers: one window."""
    slots = [member.acquire_within(5)]  # it reads the fleet's level first
    slots += [member.acquire_within(5) for _ in range(member.limit - 1)]
    for slot in slots:
        assert slot is not None
        member.release(slot, status)


def test_one_member_at_a_time_probes_above_the_throttled_level(budgets_url: str) -> None:
    members = [FleetLimit(16, open_budgets(budgets_url).store, NAME) for _ in range(3)]
    for member in members:
        assert member.resume(Learned(4, throttled_at=5), "kept")
    first, second, third = members
    _round_trip(first)  # a round trip at 4 came back fine: it takes the probe and tries 5
    assert first.limit == 5 and "4 -> 5" in first.decisions[-1]
    time.sleep(SYNC_S * 1.5)
    _round_trip(second)  # it follows to 5, and a round trip there is fine too ...
    assert second.limit == 5 and "4 -> 5: the fleet's level" in second.decisions
    for _ in range(3):
        _round_trip(second)  # ... but the probe is the first member's: it stays at 5
        assert second.limit == 5
    first.finish()  # the first member's run ended: its probe slot is free
    _round_trip(third)
    assert third.limit == 6 and "5 -> 6" in third.decisions[-1]
    for member in members:
        member.finish()


def test_a_throttled_probe_takes_the_fleet_back_to_its_proven_level(budgets_url: str) -> None:
    first, second = (FleetLimit(16, open_budgets(budgets_url).store, NAME) for _ in range(2))
    for member in (first, second):
        assert member.resume(Learned(8, throttled_at=9), "kept")
    _round_trip(first)
    assert first.limit == 9  # it probes 9, which the server refuses
    slot = first.acquire_within(5)
    assert slot is not None
    first.release(slot, 429)
    assert first.limit == 8 and first.decisions[-1] == "9 -> 8: answer 429 to a probe"
    time.sleep(SYNC_S * 1.5)
    slot = second.acquire_within(5)  # the other member follows to 8, not to 4
    assert slot is not None and second.limit == 8
    second.release(slot, 200)
    first.finish()
