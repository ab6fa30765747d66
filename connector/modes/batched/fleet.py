"""One concurrency limit for a fleet: processes sending for one origin and key share it.

A backfill split across workers (engine tasks, several hosts) runs as processes sending to one
project at once, and the server throttles the project, not each process. When the budgets live
in a shared store (a SQLite file on one host, Redis across hosts) and the spec declares
`batch.concurrency.key`, each process's `AdaptiveLimit` is a `FleetLimit`:

- every request also holds one of the store's concurrency slots for that origin and key, of
  which there are as many as the fleet's level, so the fleet together never has more in flight;
- below a level that was throttled, it recovers one step per round trip of its answers;
- the level is the one note the runs keep (connector.modes.batched.remembered) with a version:
  a process that moves the limit (a 429 halves it, good answers grow it) writes it there, and
  every process reads it again every SYNC_S and follows a newer version, so one process's 429
  slows them all, and the level one finds is every one's.

A store that fails costs the sharing, never the run: a warning is logged and the process goes
on with its own limit.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...budgets.limits import RateLimit
from ...budgets.shared import NOTE_TTL_S, Store
from .aimd import MAX_PATIENCE, AdaptiveLimit, Learned, Slot

__all__ = ["SYNC_S", "FleetLimit", "FleetSlot"]

log = logging.getLogger("connector.batch")

#: How often a process reads the fleet's level again. Within 0.2 s, a process that had not
#: yet read a halving took slots above it, and the others, already halved, drew 429s at their
#: lower levels and kept those as the fleet's (bench_fleet: a kept run started at 3).
SYNC_S = 0.05
#: How long a request waiting for a slot another process holds sleeps between looks (jittered).
POLL_S = 0.01


@dataclass(frozen=True)
class FleetSlot(Slot):
    """A local slot and the store's slot held with it."""

    token: str = ""
    held: RateLimit | None = None


class FleetLimit(AdaptiveLimit):
    """An `AdaptiveLimit` whose level and slots are shared through a store (see the module)."""

    def __init__(
        self, ceiling: int, store: Callable[[], Store], name: str, *, start: int | None = None
    ) -> None:
        super().__init__(ceiling, start=start)
        self._open = store  # opened on the first request (its modules load then)
        self._store: Store | None = None
        self._name = name
        self._slots = "fleet-" + name.rsplit(" ", 1)[-1][:16]
        self._seen = 0  # the version of the fleet's level this process last read or wrote
        self._synced = -1e18
        self._dirty = False
        self._broken = False
        self._recovered = 0  # good answers toward the next step of a recovery
        self._poll = threading.Lock()  # one thread per process looks for a free fleet slot

    def acquire_within(self, timeout: float | None, *, again: bool = False) -> Slot | None:
        """A local slot, then one of the fleet's (waiting for it while the fleet is full)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        local = super().acquire_within(timeout, again=again)
        if local is None or self._broken:
            return local
        try:
            with self._poll:
                if self._store is None:
                    self._store = self._open()
                while True:
                    self._sync(self._store)
                    held = RateLimit(self._slots, None, None, max(1, self.limit))
                    verdict = self._store.try_acquire(held, "fleet")
                    if verdict.token is not None:
                        return FleetSlot(
                            local.epoch, self._clock(), local.level, token=verdict.token, held=held
                        )
                    if deadline is not None and time.monotonic() >= deadline:
                        super().release(local, None)  # no room in the fleet: give it back
                        return None
                    time.sleep(POLL_S * random.uniform(0.5, 1.5))
        except Exception as exc:  # noqa: BLE001 - the sharing is lost, not the run
            self._lost(exc)
            return local

    def release(self, slot: Slot, status: int | None) -> bool:
        """Give the fleet's slot back, then the local one; publish a move of the level."""
        store = self._store
        if isinstance(slot, FleetSlot) and slot.held is not None and store is not None:
            try:
                store.release(slot.held, "fleet", slot.token)
            except Exception as exc:  # noqa: BLE001
                self._lost(exc)
        paced = super().release(slot, status)
        if self._dirty and not self._broken and store is not None:
            self._publish(store)
        return paced

    def _answered(self, rtt_s: float) -> None:
        # Below a throttled level, one step a round trip of this process's answers, not one a
        # good answer: every process of the fleet recovers at once, and steps per answer
        # would take the fleet back up to the throttled level within one round trip.
        if self._throttled_at is not None and self._limit < self._throttled_at - 1:
            self._recovered += 1
            if self._recovered >= self._limit:
                self._recovered = 0
                # A round trip's worth came back fine with as many in flight as this process
                # had at most: a probe above that falls back to it (one process: the level).
                self._proven = min(self._limit, self._peak)
                self._move(self._limit + 1, "recovering below the throttled level")
            return
        super()._answered(rtt_s)

    def learned(self) -> Learned:
        """For the next run: one below the level last throttled, else the fleet's level.

        Not what this process proved (it held only its share of the fleet's requests), nor
        where it stood when it ended (halfway back up after a halving, say): below the level
        last throttled is where the fleet recovers to, and where a probe above it starts.
        """
        with self._changed:
            level = self._limit
            if self._throttled_at is not None:
                level = min(self.ceiling, max(self.floor, self._throttled_at - 1))
            return Learned(level, self._throttled_at, self._patience, self._good_run)

    def _move(self, to: int, why: str) -> None:
        if to != self._limit:
            self._dirty = True
        super()._move(to, why)

    def _publish(self, store: Store) -> None:
        with self._changed:
            self._dirty = False
            self._seen += 1
            value = {
                "v": self._seen,
                "now": self._limit,
                "limit": self.learned().limit,
                "patience": self._patience,
            }
            if self._throttled_at is not None:
                value["throttled_at"] = self._throttled_at
        try:
            store.write_note(self._name, json.dumps(value), NOTE_TTL_S)
        except Exception as exc:  # noqa: BLE001
            self._lost(exc)

    def _sync(self, store: Store) -> None:
        now = time.monotonic()
        if now - self._synced < SYNC_S:
            return
        self._synced = now
        found = _version(store.read_note(self._name))
        if found is None or found[0] <= self._seen:
            return
        version, level, throttled_at, patience = found
        with self._changed:
            self._seen = version
            level = min(self.ceiling, max(self.floor, level))
            if level != self._limit:
                if level < self._limit:
                    self._epoch += 1  # answers to requests sent before do not halve it again
                super()._move(level, "the fleet's level")
            if throttled_at is not None:
                self._throttled_at = throttled_at
            self._patience = patience
            self._changed.notify_all()

    def _lost(self, exc: Exception) -> None:
        if not self._broken:
            self._broken = True
            log.warning("the fleet's concurrency limit is not shared any more: %s", exc)


def _version(text: str | None) -> tuple[int, int, int | None, int] | None:
    """(version, level, throttled_at, patience) of a published note; None if not one."""
    if not text:
        return None
    try:
        value: Any = json.loads(text)
        found = (value["v"], value["now"], value.get("throttled_at"), value.get("patience", 1))
    except (ValueError, TypeError, KeyError):
        return None
    numbers = [n for n in found if n is not None]
    if not all(type(n) is int and 1 <= n <= 1_000_000 for n in numbers):
        return None
    return found[0], found[1], found[2], min(MAX_PATIENCE, found[3])
