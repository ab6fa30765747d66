"""The adaptive in-flight limit: halves once per epoch on throttling, grows back, in bounds."""

from __future__ import annotations

import threading

import pytest

from connector.modes.batched.aimd import AdaptiveLimit, Learned, Slot


def _answer(limit: AdaptiveLimit, status: int | None, count: int = 1) -> None:
    for _ in range(count):
        slot = limit.acquire_within(1)
        assert slot is not None
        limit.release(slot, status)


def test_starts_at_the_ceiling_unless_told_and_clamps_the_start() -> None:
    assert AdaptiveLimit(16).limit == 16
    assert AdaptiveLimit(16, start=4).limit == 4
    assert AdaptiveLimit(16, start=99).limit == 16
    assert AdaptiveLimit(16, start=0).limit == 1


@pytest.mark.parametrize(("ceiling", "floor"), [(0, 1), (4, 0), (2, 3)])
def test_bounds_must_make_sense(ceiling: int, floor: int) -> None:
    with pytest.raises(ValueError, match="floor"):
        AdaptiveLimit(ceiling, floor=floor)


@pytest.mark.parametrize("status", [429, 503])
def test_a_throttle_halves_the_limit_and_is_counted(status: int) -> None:
    limit = AdaptiveLimit(16)
    _answer(limit, status)
    assert (limit.limit, limit.throttled) == (8, 1)
    _answer(limit, status)
    assert (limit.limit, limit.throttled) == (4, 2)


def test_requests_in_flight_before_a_halving_do_not_halve_it_again() -> None:
    limit = AdaptiveLimit(16)
    slots = [limit.acquire_within(1) for _ in range(16)]
    assert all(isinstance(s, Slot) for s in slots) and limit.in_flight == 16
    for slot in slots:
        assert slot is not None
        limit.release(slot, 429)
    assert (limit.limit, limit.throttled, limit.in_flight) == (8, 16, 0)


def test_never_below_the_floor() -> None:
    limit = AdaptiveLimit(4, floor=1)
    _answer(limit, 429, 10)
    assert limit.limit == 1
    assert AdaptiveLimit(8, floor=3, start=3).limit == 3
    floored = AdaptiveLimit(8, floor=3, start=3)
    _answer(floored, 429)
    assert floored.limit == 3


def test_recovers_quickly_below_the_throttled_level_then_probes_one_round_trip_at_a_time() -> None:
    limit = AdaptiveLimit(16, start=10)
    _answer(limit, 429)  # throttled at 10: down to 5
    assert limit.limit == 5
    for expected in (6, 7, 8, 9):  # one good answer each, up to just below 10
        _answer(limit, 200)
        assert limit.limit == expected
    _answer(limit, 200, 8)
    assert limit.limit == 9  # now it takes a run as long as the limit
    _answer(limit, 200)
    assert limit.limit == 10


def test_a_level_throttled_again_and_again_is_probed_ever_more_rarely() -> None:
    limit = AdaptiveLimit(16, start=9)
    runs = []
    for _ in range(6):
        _answer(limit, 429)  # 9 is one too many: down to 4
        _answer(limit, 200, 4)  # quick recovery to 8
        assert limit.limit == 8
        good = 0
        while limit.limit == 8:
            _answer(limit, 200)
            good += 1
        runs.append(good)  # good answers at 8 before it probed 9 again
    assert runs == [8, 16, 32, 64, 64, 64]


def test_a_probe_that_gets_through_makes_probing_eager_again() -> None:
    limit = AdaptiveLimit(16, start=9)
    for _ in range(3):
        _answer(limit, 429)
        _answer(limit, 200, 4)
        while limit.limit == 8:
            _answer(limit, 200)
    _answer(limit, 200, 9 * 4)  # 9 holds now: after 4 round trips it probes 10 ...
    assert limit.limit == 10
    _answer(limit, 200, 10)  # ... and from there on one round trip per step
    assert limit.limit == 11


def test_grows_additively_without_a_throttle_and_never_above_the_ceiling() -> None:
    limit = AdaptiveLimit(6, start=2)
    _answer(limit, 200, 2)
    assert limit.limit == 3
    _answer(limit, 200, 3)
    assert limit.limit == 4
    _answer(limit, 200, 1000)
    assert limit.limit == 6


@pytest.mark.parametrize("status", [None, 500, 502, 504])
def test_errors_that_are_not_throttling_neither_shrink_nor_grow(status: int | None) -> None:
    limit = AdaptiveLimit(16, start=4)
    _answer(limit, status, 20)
    assert (limit.limit, limit.throttled) == (4, 0)


def test_a_fixed_limit_counts_throttles_but_never_moves() -> None:
    limit = AdaptiveLimit(3, fixed=True)
    _answer(limit, 429, 3)
    _answer(limit, 200, 50)
    assert (limit.limit, limit.throttled) == (3, 3)
    assert limit.snapshot() == {"concurrency": 3, "in_flight": 0, "throttled": 3}


def test_acquire_waits_while_full_and_wakes_on_release() -> None:
    limit = AdaptiveLimit(2)
    first, second = limit.acquire_within(1), limit.acquire_within(1)
    assert first is not None and second is not None
    assert limit.acquire_within(0.01) is None  # full
    got: list[Slot | None] = []
    waiter = threading.Thread(target=lambda: got.append(limit.acquire_within(10)))
    waiter.start()
    limit.release(first, 200)
    waiter.join(10)
    assert got and got[0] is not None and limit.in_flight == 2


def test_a_halved_limit_holds_back_new_requests_until_enough_have_finished() -> None:
    limit = AdaptiveLimit(4)
    slots = [limit.acquire_within(1) for _ in range(4)]
    assert slots[0] is not None
    limit.release(slots[0], 429)  # limit 2, three still in flight
    assert limit.acquire_within(0.01) is None
    for slot in slots[1:3]:
        assert slot is not None
        limit.release(slot, 200)
    assert limit.in_flight == 1
    assert limit.acquire_within(1) is not None


def test_many_threads_never_exceed_the_limit() -> None:
    limit = AdaptiveLimit(5)
    peak = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        for i in range(200):
            slot = limit.acquire_within(10)
            assert slot is not None
            with lock:
                peak[0] = max(peak[0], limit.in_flight)
                assert limit.in_flight <= limit.ceiling
            limit.release(slot, 429 if (n + i) % 37 == 0 else 200)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert limit.in_flight == 0 and 1 <= peak[0] <= 5
    assert limit.throttled == sum(1 for n in range(12) for i in range(200) if (n + i) % 37 == 0)


def test_release_says_when_the_limit_was_lowered_for_a_throttle() -> None:
    limit = AdaptiveLimit(4)
    first, second, third = (limit.acquire_within(1) for _ in range(3))
    assert first is not None and second is not None and third is not None
    assert limit.release(first, 429) is True  # it halved the limit: the retry is paced
    assert limit.release(second, 429) is True  # sent before the halving: paced too
    assert limit.release(third, 200) is False
    fourth = limit.acquire_within(1)
    assert fourth is not None
    assert limit.release(fourth, 500) is False  # not a throttle
    floor = AdaptiveLimit(4, start=1)
    at_floor = floor.acquire_within(1)
    assert at_floor is not None and floor.release(at_floor, 429) is False  # cannot go lower
    pinned = AdaptiveLimit(4, fixed=True)
    slot = pinned.acquire_within(1)
    assert slot is not None and pinned.release(slot, 429) is False


def _window(limit: AdaptiveLimit, status: int, count: int) -> list[Slot]:
    """Take `count` slots at once (a full pipeline), then answer all but the last with 200."""
    slots = [limit.acquire_within(1) for _ in range(count)]
    assert all(slot is not None for slot in slots)
    held = [slot for slot in slots if slot is not None]
    for slot in held[:-1]:
        limit.release(slot, status)
    return held[-1:]


def _kept_at_8() -> AdaptiveLimit:
    """A limit started where an earlier run kept it: 8, throttled at 9."""
    limit = AdaptiveLimit(16)
    assert limit.resume(Learned(8, throttled_at=9), "kept")
    return limit


def test_a_throttled_probe_above_the_proven_level_falls_back_to_it_not_to_half() -> None:
    limit = _kept_at_8()
    for slot in _window(limit, 200, 8):  # a full round trip at 8 comes back fine ...
        limit.release(slot, 200)
    assert limit.limit == 9  # ... so it probes 9
    last = _window(limit, 200, 9)[0]
    assert limit.release(last, 429) is True  # the probe is throttled: its retry is paced
    assert (limit.limit, limit.throttled) == (8, 1)
    assert limit.decisions[-1] == "9 -> 8: answer 429 to a probe"
    assert limit.learned().limit == 8


def test_a_throttle_at_the_proven_level_still_halves() -> None:
    limit = _kept_at_8()  # 8 is proven by the earlier run
    last = _window(limit, 200, 8)[0]
    limit.release(last, 429)  # throttled at 8 itself: the server serves fewer now
    assert limit.limit == 4
    assert limit.decisions[-1] == "8 -> 4: answer 429"


def test_a_probe_falls_back_no_lower_than_half() -> None:
    limit = AdaptiveLimit(16, start=9)
    _answer(limit, 200, 9)  # one at a time: the window proved 9 (never throttled)
    assert limit.limit == 10
    last = _window(limit, 200, 10)[0]
    limit.release(last, 429)
    assert limit.limit == 9  # back to the proven 9
    _answer(limit, 200, 9)  # a window at 9, one at a time: it proved only 1 in flight
    assert limit.limit == 10  # and it probes 10 again
    _answer(limit, 503)  # falling back to 1 would be below the half: halved instead
    assert limit.limit == 5


def test_answers_to_requests_sent_before_a_throttle_do_not_grow_the_halved_limit() -> None:
    limit = AdaptiveLimit(16)
    burst = [limit.acquire_within(1) for _ in range(16)]  # above what the server serves
    assert all(slot is not None for slot in burst)
    held = [slot for slot in burst if slot is not None]
    limit.release(held[0], 429)  # half of them throttled: down to 8
    for slot in held[1:8]:
        limit.release(slot, 429)
    for slot in held[8:]:  # the served half, sent at 16: says nothing of 8
        limit.release(slot, 200)
    assert limit.limit == 8 and limit.decisions == ["16 -> 8: answer 429"]
    _answer(limit, 200)  # an answer to a request sent at 8 does
    assert limit.limit == 9


def test_a_retry_never_takes_the_slot_of_a_probe_above_the_proven_level() -> None:
    limit = _kept_at_8()
    for slot in _window(limit, 200, 8):
        limit.release(slot, 200)
    assert limit.limit == 9  # probing 9, 8 proven
    held = [limit.acquire_within(1) for _ in range(8)]
    assert all(slot is not None for slot in held)
    assert limit.acquire_within(0.05, again=True) is None  # a retry waits under 8
    probe = limit.acquire_within(0.05)  # a new request may probe 9
    assert probe is not None and probe.level == 9
    first = held[0]
    assert first is not None
    limit.release(first, 200)
    assert limit.acquire_within(0.05, again=True) is None  # still 8 in flight, the probe one
    limit.release(probe, 200)
    assert limit.acquire_within(0.05, again=True) is not None  # room under 8 again


def test_a_throttle_while_probing_falls_back_whichever_request_drew_it() -> None:
    limit = _kept_at_8()
    slots = [limit.acquire_within(1) for _ in range(8)]
    held = [slot for slot in slots if slot is not None]
    assert len(held) == 8
    for slot in held[:7]:
        limit.release(slot, 200)
    late = limit.acquire_within(1)  # taken at 8, but it may reach the server after the probe
    assert late is not None and late.level == 8
    limit.release(held[7], 200)  # a whole window at 8: it probes 9
    assert limit.limit == 9
    assert limit.release(late, 429) is True
    assert limit.limit == 8 and limit.decisions[-1] == "9 -> 8: answer 429 to a probe"
