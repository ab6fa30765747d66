"""How many requests may be in flight: halved on throttling, moved by latency (Vegas) otherwise."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .vegas import LatencyWindow

#: Statuses by which a server says "fewer at once, please": too many requests, unavailable.
THROTTLE_STATUSES = frozenset({429, 503})
#: At most this many round trips between two probes above a level that keeps being throttled.
MAX_PATIENCE = 8
#: The last decisions kept for the result (each one is also logged at debug level, `-v`).
KEPT_DECISIONS = 20

log = logging.getLogger("connector.batch")


@dataclass(frozen=True)
class Learned:
    """Where a limit stood: its level, the level last throttled and the probing patience."""

    limit: int
    throttled_at: int | None = None
    patience: int = 1
    waited: int = 0  # the windows of good answers since the last probe (toward `patience`)


@dataclass(frozen=True)
class Slot:
    """One request's permission to be in flight, and the limit's epoch when it was granted."""

    epoch: int
    started: float = 0.0
    level: int = 0  # the limit when it was granted


class AdaptiveLimit:
    """A thread-safe limit on requests in flight that follows the server's answers.

    A request takes a `Slot` (`acquire` waits while `in_flight` is at the limit) and gives it
    back with its HTTP status (`release`). A throttling answer (429 or 503) halves the limit,
    once per epoch: answers to requests that were already in flight when it halved do not
    halve it again. A throttle answered to a request sent above the last proven level (a
    whole window answered fine there, or the level an earlier run kept) falls back to that
    level instead, when it is above the half: like TCP's slow start threshold, a probe above
    a known good level that fails says where the server's capacity ends, not that it dropped.
    A throttle at or below the proven level still halves. Answers that come back fine grow it
    back by one per good answer up to just below the level that was throttled (quick
    recovery). Only answers to requests sent since the last throttle count toward growth: those
    sent before it were sent at the level that drew it (TCP NewReno's fast recovery, RFC 6582,
    likewise grows no window until the data in flight at the loss is acknowledged), and the
    served half of a burst sent above the server's capacity would otherwise climb the halved
    limit straight back into a second throttle. Otherwise, once per window of as many good
    answers as the limit (one round trip's worth), their latency decides
    (`vegas.LatencyWindow`): grow by one while more in flight buys throughput, back off by one
    when the round trip rose without it (a saturated server, network or local CPU), else hold.
    A throttle answered while the limit stands above the proven level counts as the probe's
    whichever request drew it: the server does not see requests in the order slots were taken.
    Each move is logged at debug level and kept in `decisions`. A probe throttled at
    the same level as the last one doubles the round trips before the next (up to
    MAX_PATIENCE), so a server with a fixed capacity is probed ever more rarely; a probe that
    gets through resets it. The limit never exceeds `ceiling` nor drops below `floor`. With
    `fixed=True` it never moves (a caller who pinned the number of workers) but still counts
    what it saw.
    """

    def __init__(
        self,
        ceiling: int,
        *,
        start: int | None = None,
        floor: int = 1,
        fixed: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ceiling < 1 or floor < 1 or floor > ceiling:
            raise ValueError(f"need 1 <= floor <= ceiling, got floor {floor}, ceiling {ceiling}")
        self.ceiling = ceiling
        self.floor = floor
        self.fixed = fixed
        self._limit = min(ceiling, max(floor, ceiling if start is None else start))
        self._in_flight = 0
        self._epoch = 0
        self._good_run = 0
        self._throttled_at: int | None = None  # the limit that last drew a throttle
        self._patience = 1  # round trips of good answers before probing one higher
        self._throttled = 0
        self._answers = 0
        self._changed = threading.Condition()
        self._clock = clock
        self._window = LatencyWindow()
        self._decisions: deque[str] = deque(maxlen=KEPT_DECISIONS)
        self._proven: int | None = None  # the last level a whole window was answered fine at
        self._halved: int | None = None  # the level the last throttle halved the limit to
        self._peak = 0  # the most requests in flight during the current window

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return self._limit

    @property
    def in_flight(self) -> int:
        """Requests holding a slot now."""
        return self._in_flight

    @property
    def throttled(self) -> int:
        """Throttling answers (429, 503) seen so far."""
        return self._throttled

    def acquire(self, again: bool = False) -> Slot:
        """Wait for room under the limit and take a slot (`again`: see `acquire_within`)."""
        slot = self.acquire_within(None, again=again)
        assert slot is not None
        return slot

    def acquire_within(self, timeout: float | None, *, again: bool = False) -> Slot | None:
        """Wait at most `timeout` seconds for room under the limit; None when none came.

        A request sent `again` (a retry) waits for room under the proven level while the limit
        is above it: a probe above a known good level is a new request, never a retry, whose
        next throttle would cost it a backoff (TCP likewise never probes with a retransmission).
        """
        with self._changed:
            if not self._changed.wait_for(lambda: self._in_flight < self._room(again), timeout):
                return None
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return Slot(self._epoch, self._clock(), self._limit)

    def release(self, slot: Slot, status: int | None) -> bool:
        """Give the slot back with the answer's status (None: no answer, e.g. a reset).

        True for a throttling answer when the limit was lowered for it, or is lower now than
        when the slot was taken: the retry needs no backoff, the lower limit paces it. At the
        floor, or pinned, False: the retry backs off.
        """
        with self._changed:
            before = self._limit
            self._in_flight -= 1
            self._answers += 1
            if status in THROTTLE_STATUSES:
                self._throttled += 1
                if not self.fixed and slot.epoch == self._epoch:
                    again = self._limit == self._throttled_at
                    self._patience = min(MAX_PATIENCE, self._patience * 2) if again else 1
                    self._throttled_at = self._limit
                    halved = max(self.floor, self._limit // 2)
                    base = self._proven
                    # The probe: the request sent above the proven level, or any request
                    # the server answered while the limit was above it (arrival order at the
                    # server is not the order in which slots were taken).
                    if base is not None and max(slot.level, before) > base and base > halved:
                        # A probe above a proven level was throttled: back to that level,
                        # as TCP falls back to ssthresh; not a sign that capacity dropped.
                        self._move(min(self._limit, base), f"answer {status} to a probe")
                        self._throttled_at = base + 1  # above it, one step a round trip
                    else:
                        if base is not None and base >= self._limit:
                            self._proven = self._limit - 1  # it serves fewer now than it did
                        self._move(halved, f"answer {status}")
                    self._halved = self._limit
                    self._epoch += 1
                    self._good_run = 0
            elif status is not None and status < 500 and not self.fixed:
                if slot.epoch == self._epoch:  # sent before the last throttle: says nothing now
                    self._answered(self._clock() - slot.started)
            self._changed.notify_all()
            return status in THROTTLE_STATUSES and self._limit < max(before, slot.level)

    def _room(self, again: bool) -> int:
        proven = self._proven
        if again and proven is not None and proven < self._limit:
            return max(self.floor, proven)
        return self._limit

    @property
    def decisions(self) -> list[str]:
        """The last moves of the limit, oldest first (`16 -> 8: answer 429`)."""
        with self._changed:
            return list(self._decisions)

    def _move(self, to: int, why: str) -> None:
        if to != self._limit:
            decision = f"{self._limit} -> {to}: {why}"
            self._decisions.append(decision)
            log.debug("concurrency %s", decision)
            self._limit = to
        self._window.reset()
        self._peak = self._in_flight  # the new window's peak: from now on

    def _answered(self, rtt_s: float) -> None:
        recovering = self._throttled_at is not None and self._limit < self._throttled_at - 1
        if recovering:
            self._move(self._limit + 1, "recovering below the throttled level")
            return
        verdict = self._window.add(rtt_s, self._limit)
        if verdict is None:
            return
        # Under a level that was throttled, a window proves only as many as were in flight.
        peak, self._peak = self._peak, self._in_flight
        self._proven = self._limit if self._throttled_at is None else min(self._limit, peak)
        if verdict.step < 0 and self._limit > self.floor:
            self._good_run = 0
            self._move(self._limit - 1, f"latency rose without throughput, {verdict.describe()}")
        elif verdict.step > 0 and self._limit < self.ceiling:
            self._good_run += 1
            if self._good_run >= self._patience:
                self._good_run = 0
                self._move(self._limit + 1, f"room for more, {verdict.describe()}")
                if self._throttled_at is not None and self._limit > self._throttled_at:
                    self._patience = 1  # the probe got through: the server has room again

    def learned(self) -> Learned:
        """Where the next run should start (`resume`), and what it should know of throttling.

        Never throttled: the limit now. Else the last level a whole window of answers came
        back fine at (as many as were in flight at once); without one since the last throttle,
        the level that throttle halved the limit to (the recovery above it is unproven).
        """
        with self._changed:
            level = self._limit if self._throttled_at is None else self._proven
            if level is None:
                level = self._halved if self._halved is not None else self._limit
            return Learned(level, self._throttled_at, self._patience, self._good_run)

    def resume(self, learned: Learned, why: str) -> bool:
        """Start from where an earlier run stood, unless the limit already moved in this one.

        The level is clamped between the floor and the ceiling. A fixed limit is left as it
        is. True when applied.
        """
        with self._changed:
            if self.fixed or self._decisions:
                return False
            level = min(self.ceiling, max(self.floor, learned.limit))
            if learned.throttled_at is not None:
                # Probing above the start waits as long as it did in the earlier run; recovery
                # after a halving climbs back no higher than the start.
                self._throttled_at = min(learned.throttled_at, level + 1)
                self._patience = max(1, min(MAX_PATIENCE, learned.patience))
                # Runs of a short job probe as one long run would, not once per run.
                self._good_run = max(0, min(self._patience - 1, learned.waited))
            self._move(level, why)
            self._proven = level  # the earlier run proved it: a probe above falls back to it
            self._changed.notify_all()
            return True

    def snapshot(self) -> dict[str, int]:
        """The figures progress and results show: current limit, in flight, throttled."""
        with self._changed:
            return {
                "concurrency": self._limit,
                "in_flight": self._in_flight,
                "throttled": self._throttled,
            }
