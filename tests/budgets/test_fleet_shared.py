"""A fleet's concurrency limit over each shared store (SQLite on one host, Redis across hosts).

Members stand for the processes of a split backfill: each has its own registry and so its own
connection to the store, and several threads sending at once.
"""

from __future__ import annotations

import threading
import time

from connector.budgets import open_budgets
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
