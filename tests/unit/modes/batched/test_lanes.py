"""Ordered lanes: a stable key-to-lane hash, order per lane, lanes in parallel, stop on failure."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest

from connector.modes.batched.lanes import LanePool, lane_of


def test_lane_of_is_stable_across_processes() -> None:
    keys = ["user-1", "user-2", "ü-ß", 12345, ["a", 1]]
    here = [lane_of(k, 16) for k in keys]
    code = (
        "from connector.modes.batched.lanes import lane_of;"
        f"print([lane_of(k, 16) for k in {keys!r}])"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123"},
    )
    assert other.stdout.strip() == repr(here)
    assert all(0 <= lane < 16 for lane in here)


def test_lane_of_spreads_keys_and_one_lane_takes_all() -> None:
    counts = defaultdict(int)
    for n in range(16_000):
        counts[lane_of(f"user-{n}", 16)] += 1
    assert len(counts) == 16 and min(counts.values()) > 700
    assert {lane_of(f"user-{n}", 1) for n in range(100)} == {0}


def test_each_lane_runs_its_items_in_order_one_at_a_time_while_lanes_overlap() -> None:
    seen: dict[int, list[int]] = defaultdict(list)
    busy: dict[int, int] = defaultdict(int)
    overlap = [0, 0]  # most lanes busy at once; any lane running two items at once
    lock = threading.Lock()

    def work(item: tuple[int, int]) -> None:
        lane, seq = item
        with lock:
            busy[lane] += 1
            overlap[1] = max(overlap[1], busy[lane])
            overlap[0] = max(overlap[0], sum(1 for v in busy.values() if v))
        time.sleep(0.002)
        with lock:
            seen[lane].append(seq)
            busy[lane] -= 1

    pool: LanePool[tuple[int, int]] = LanePool(4, work, ordered=True)
    for seq in range(200):
        assert pool.submit((seq % 4, seq), seq % 4)
    pool.close()
    assert {lane: seqs for lane, seqs in seen.items()} == {
        lane: list(range(lane, 200, 4)) for lane in range(4)
    }
    assert overlap[1] == 1 and overlap[0] >= 2


def test_unordered_pool_uses_every_worker() -> None:
    names: set[str] = set()
    done: list[int] = []
    lock = threading.Lock()

    def work(item: int) -> None:
        time.sleep(0.005)
        with lock:
            names.add(threading.current_thread().name)
            done.append(item)

    pool: LanePool[int] = LanePool(4, work, ordered=False)
    for n in range(40):
        pool.submit(n)
    pool.close()
    assert sorted(done) == list(range(40)) and len(names) == 4


def test_the_first_failure_stops_the_run_and_is_raised() -> None:
    ran: list[int] = []

    def work(item: int) -> None:
        if item == 3:
            raise RuntimeError("boom at 3")
        time.sleep(0.001)
        ran.append(item)

    pool: LanePool[int] = LanePool(1, work, ordered=True)
    accepted = [n for n in range(1000) if pool.submit(n)]
    with pytest.raises(RuntimeError, match="boom at 3"):
        pool.close()
    assert ran == [0, 1, 2]  # nothing after the failure ran
    assert len(accepted) < 1000  # and submit refused more once it had failed


def test_workers_must_be_positive() -> None:
    with pytest.raises(ValueError, match="workers"):
        LanePool(0, lambda item: None, ordered=False)
