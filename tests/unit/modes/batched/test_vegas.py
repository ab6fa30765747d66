"""The latency rule of the in-flight limit (Vegas): grow while it buys throughput, else back off."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from connector.modes.batched.aimd import AdaptiveLimit
from connector.modes.batched.vegas import LatencyWindow, thresholds


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _rounds(
    limit: AdaptiveLimit, clock: Clock, rtt_at: Callable[[int], float], n: int
) -> list[int]:
    """`n` round trips: as many requests as the limit allows, answered `rtt_at(in flight)` later."""
    levels = []
    for _ in range(n):
        slots = [limit.acquire_within(0) for _ in range(limit.limit)]
        taken = [s for s in slots if s is not None]
        clock.now += rtt_at(len(taken))
        for slot in taken:
            limit.release(slot, 200)
        levels.append(limit.limit)
    return levels


def test_a_window_verdict_comes_once_per_limit_answers() -> None:
    window = LatencyWindow()
    assert [window.add(0.1, 3) for _ in range(2)] == [None, None]
    verdict = window.add(0.1, 3)
    assert verdict is not None and verdict.step == 1 and verdict.queue == 0.0


def test_the_queue_is_the_throughput_gap_times_the_unloaded_round_trip() -> None:
    window = LatencyWindow()
    for _ in range(10):
        window.add(0.1, 10)  # first window: 100 ms without load
    verdict = None
    for _ in range(10):
        verdict = window.add(0.4, 10)  # four times slower, same number in flight
    assert verdict is not None
    # 10 in flight, expected 100/s, actual 25/s: (100 - 25) * 0.1 = 7.5 waiting (less tolerance)
    assert verdict.queue == pytest.approx(10 * (0.4 - 0.1 - 0.002) / 0.4)
    assert verdict.step == -1  # above beta = 6 at 10
    assert thresholds(10) == (3.0, 6.0) and thresholds(100) == (6.0, 12.0)


def test_grows_to_the_ceiling_while_latency_stays_flat() -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, start=2, clock=clock)
    levels = _rounds(limit, clock, lambda n: 0.3, 40)  # a WAN server with room: 0.3 s whatever
    assert levels[-1] == 16 and max(levels) == 16
    assert limit.decisions[-1].startswith("15 -> 16: room for more, queue 0.0")


def test_backs_off_where_more_in_flight_only_adds_latency() -> None:
    # A saturated 2-core client: beyond 2 in flight, each one more only lengthens the round trip.
    clock = Clock()
    limit = AdaptiveLimit(16, clock=clock)
    first = limit.acquire()  # the first batch goes alone: the round trip without load
    clock.now += 0.02
    limit.release(first, 200)
    levels = _rounds(limit, clock, lambda n: 0.02 * max(1, n / 2), 200)
    settled = levels[-50:]
    assert max(settled) <= 8 and min(settled) >= 3, settled  # queue kept between alpha and beta
    assert any("latency rose without throughput" in d for d in limit.decisions)


def test_a_throttle_still_halves_and_the_decision_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limit = AdaptiveLimit(16, clock=clock)
    caplog.set_level(logging.DEBUG, logger="connector.batch")
    limit.release(limit.acquire(), 429)
    assert limit.limit == 8
    assert limit.decisions == ["16 -> 8: answer 429"]
    assert "concurrency 16 -> 8: answer 429" in caplog.text


def test_a_fixed_limit_ignores_latency() -> None:
    clock = Clock()
    limit = AdaptiveLimit(4, fixed=True, clock=clock)
    _rounds(limit, clock, lambda n: 0.01 * n * n, 20)
    assert limit.limit == 4 and limit.decisions == []
